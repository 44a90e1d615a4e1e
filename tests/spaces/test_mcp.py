"""The apps as MCP servers: tools listed over HTTP with their docstrings, and one called.

`shared.app.launch.launch_kwargs()` turns the MCP server on for every app (and for spaces/serve.py's
mounted apps). It needs the `mcp` package below 2; with 2.x Gradio prints an error, serves the
app on, and the tools are gone, so the launch log is checked too.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import importlib.util
import json
import os
import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import uvicorn
from conftest import REPO, free_port, load_app, quick_model, serve

from shared.app.launch import launch_kwargs


@pytest.fixture(scope="module")
def app():
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    try:
        yield load_app("anomaly", "anomaly_app_mcp")
    finally:
        del os.environ["ANOMALY_MODEL"]


def series_csv() -> str:
    """600 points of a sine with a labelled 40-point plateau at 400, as CSV text."""
    values = np.sin(np.arange(600) / 3)
    labels = np.zeros(600, dtype=int)
    values[400:440], labels[400:440] = 3.0, 1
    return "v,y\n" + "\n".join(f"{v:.4f},{y}" for v, y in zip(values, labels, strict=True))


def call_tool(url: str, name: str, arguments: dict):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def run():
        async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as s:
            await s.initialize()
            tools = await s.list_tools()
            return [t.name for t in tools.tools], await s.call_tool(name, arguments)

    return asyncio.run(run())


def test_launch_kwargs_turn_the_mcp_server_on():
    assert launch_kwargs()["mcp_server"] is True


def test_the_anomaly_tool_is_listed_with_its_docs_and_scores_a_csv(app):
    with serve(app.demo) as url:
        schema = httpx.get(f"{url}gradio_api/mcp/schema", timeout=30).json()
        tools = {tool["name"]: tool for tool in schema}
        # the scoring function is the tool; UI plumbing (threshold drags, page loads) is not
        assert set(tools) == {"score_csv"}
        tool = tools["score_csv"]
        assert tool["description"].startswith("Score a CSV for anomalies with the served")
        props = tool["inputSchema"]["properties"]
        assert set(props) == {"csv_text", "label_column", "drop_missing"}
        # each argument's whole line of the docstring (Gradio reads one line per argument)
        assert props["label_column"]["description"].endswith("not scored; adds precision/recall")
        assert props["csv_text"]["description"].endswith("decimal commas read)")
        names, result = call_tool(
            f"{url}gradio_api/mcp/", "score_csv", {"csv_text": series_csv(), "label_column": "y"}
        )
    assert names == ["score_csv"] and not result.isError, result
    (text,) = [part.text for part in result.content if part.type == "text"]
    answer = json.loads(text)
    # (600 - 200) / 4 + 1 = 101 windows: the quick model reads 200 points, 4 apart
    assert answer["samples"] == 101 and answer["read"].startswith("Read 600 rows x 2 columns")
    errors_above = [r["error"] for r in answer["flagged_rows"]]
    assert errors_above == sorted(errors_above, reverse=True)
    assert all(e > answer["threshold"] for e in errors_above) and answer["flagged"] >= 1
    # the plateau (points 400-439) lies in windows starting 240-436: the worst is among them
    assert 240 <= answer["flagged_rows"][0]["first point"] <= 436
    assert answer["metrics"]["recall"] > 0


def test_the_launch_log_names_the_mcp_url(app, capfd):
    app.demo.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
        **launch_kwargs(),
    )  # fmt: skip
    try:
        out = capfd.readouterr().out
    finally:
        app.demo.close()
    assert f"Streamable HTTP URL: {app.demo.local_url.rstrip('/')}/gradio_api/mcp/" in out
    assert "Error launching MCP server" not in out


@contextlib.contextmanager
def serve_py(names: list[str]) -> Iterator[str]:
    """spaces/serve.py's server with `names` mounted, on a free port; yields its base URL."""
    spec = importlib.util.spec_from_file_location("serve_under_test", REPO / "spaces" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    port = free_port()
    config = uvicorn.Config(module.build_server(names), host="127.0.0.1", port=port)
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        for _ in range(600):  # up to 60 s on a busy machine
            if runner.started:
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        thread.join(timeout=30)


def test_serve_py_mounts_each_app_with_its_mcp_tools(monkeypatch):
    monkeypatch.setenv("ANOMALY_MODEL", str(quick_model("anomaly")))
    with serve_py(["anomaly"]) as base:
        schema = httpx.get(f"{base}/anomaly/gradio_api/mcp/schema", timeout=30).json()
        assert [tool["name"] for tool in schema] == ["score_csv"]
        page = httpx.get(f"{base}/anomaly/", timeout=30)
        assert page.status_code == 200 and "Anomaly detection with an autoencoder" in page.text
        # a mounted page names no icon, so the browser asks the site root for one
        assert httpx.get(f"{base}/favicon.ico", follow_redirects=True).status_code == 200
        tool = f"{base}/anomaly/gradio_api/mcp/"
        _, wrong = call_tool(tool, "score_csv", {"csv_text": series_csv()})  # y read as data
        _, right = call_tool(tool, "score_csv", {"csv_text": series_csv(), "label_column": "y"})
    assert wrong.isError and "the file has 2 numeric columns" in wrong.content[0].text
    assert json.loads(right.content[0].text)["samples"] == 101


def test_the_cbow_tools_are_listed_with_their_docs_and_answer_from_the_served_vectors():
    from tests.spaces.cbow.test_app import app_with_quick_model

    (cbow,) = app_with_quick_model("cbow_app_mcp")  # the generator's one value; env restored
    vectors = cbow.SESSIONS.served.model.vectors
    with serve(cbow.demo) as url:
        schema = httpx.get(f"{url}gradio_api/mcp/schema", timeout=30).json()
        tools = {tool["name"]: tool for tool in schema}
        # the Explore tab's questions are the tools; training, exports and page plumbing are not
        assert set(tools) == {"nearest_words", "word_analogy", "word_similarity"}
        analogy = tools["word_analogy"]
        assert analogy["description"].startswith('Solve "b is to a as c is to ?"')
        props = analogy["inputSchema"]["properties"]
        assert set(props) == {"a", "b", "c", "topk"} and props["topk"]["type"] == "integer"
        assert props["b"]["description"].endswith("the word to subtract (man)")
        _, near = call_tool(f"{url}gradio_api/mcp/", "nearest_words", {"word": "king", "topk": 3})
        _, unknown = call_tool(f"{url}gradio_api/mcp/", "nearest_words", {"word": "zorblax"})
    answer = json.loads(near.content[0].text)
    assert [n["word"] for n in answer["neighbours"]] == [
        w for w, _ in vectors.most_similar("king", topn=3)
    ]
    assert unknown.isError and "'zorblax' is not in the vocabulary" in unknown.content[0].text


def test_the_transfer_tools_are_classify_and_detect_and_an_example_is_classified(monkeypatch):
    monkeypatch.setenv("TRANSFER_MODEL", str(quick_model("transfer")))
    transfer = load_app("transfer", "transfer_app_mcp")
    with serve(transfer.demo) as url:
        schema = httpx.get(f"{url}gradio_api/mcp/schema", timeout=30).json()
        tools = {tool["name"]: tool for tool in schema}
        # an image in, labels or boxes out; sketches, pastes, re-filtering and training are UI
        assert set(tools) == {"classify_file", "classify_example", "detect_file", "detect_scene"}
        props = tools["detect_scene"]["inputSchema"]["properties"]
        assert props["seed"]["description"].startswith("which scene, a whole number from 0")
        assert props["threshold"]["description"].endswith("to be shown, from 0 to 1")
        _, result = call_tool(f"{url}gradio_api/mcp/", "classify_example", {"index": 3})
    assert not result.isError, result
    (text,) = [part.text for part in result.content if part.type == "text"]
    image, labels, heatmap, box = ast.literal_eval(text)  # Gradio sends the outputs' repr
    _, expected, _, expected_box = transfer.classify.classify_example(3)  # in-process
    assert image["orig_name"].startswith("digit-3-") and heatmap["url"].startswith(url)
    assert labels["label"] == max(expected, key=expected.get)
    assert {c["label"]: c["confidence"] for c in labels["confidences"]} == pytest.approx(expected)
    assert box == expected_box
