"""The contract every app keeps, tested once over all three (as scikit-learn's test_common is
over its estimators): limits, a first view without a model, one eviction notice, readable
errors, the MCP schema, temp files that go, and file access that stays Gradio's. The MCP tools
called with arguments, and spaces/serve.py's mounts, are in test_mcp.py.

Each app names what the contract needs in `CALLS` below: the request its first view answers,
and one bad request. Everything else comes from the convention every app follows: the module's
`SESSIONS` (shared.app.sessions.Sessions) and `demo`.
"""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
from conftest import REPO, client_for, load_app, quick_model, serve
from gradio_client import Client, handle_file
from PIL import Image

from shared.app.launch import MAX_FILE_SIZE, QUEUE_CONCURRENCY, TRAIN_CONCURRENCY

APPS = ("anomaly", "cbow", "transfer")


# app -> (what its first view asks without a click, as a client would: endpoint and arguments)
FIRST_REQUEST = {
    "anomaly": ("/detect", ("ecg", 0, None, "", False)),
    "cbow": ("/most_similar", ("king", 5)),
    "transfer": ("/classify_example", (3,)),
}
# app -> (one bad request, the words its refusal must hold)
BAD_REQUEST = {
    "anomaly": ("/detect", ("ecg", 0, "NOT A FILE", "", False), "not a text CSV"),
    "cbow": ("/most_similar", ("qwertyuiop", 5), "not in the vocabulary"),
    "transfer": ("/classify", ("NOT AN IMAGE",), "is not an image"),
}


@pytest.fixture(scope="module", params=APPS)
def app_module(request):
    return load_app(request.param, f"{request.param}_app_contract")


@pytest.fixture(scope="module", params=APPS)
def served_app(request):
    """(name, module) of an app serving its quick model."""
    app = request.param
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(f"{app.upper()}_MODEL", str(quick_model(app)))
        yield app, load_app(app, f"{app}_app_contract_served")


def test_upload_over_the_limit_is_refused(app_module):
    limit_mb = int(re.fullmatch(r"(\d+)mb", MAX_FILE_SIZE)[1])
    too_big = b"0" * (limit_mb * 1024 * 1024 + 1)
    with serve(app_module.demo) as url:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.csv", too_big)})
        assert response.status_code == 413
        assert "maximum allowed size" in response.text
        assert httpx.get(url).status_code == 200  # and it keeps serving


def test_queue_and_training_concurrency_are_bounded(app_module):
    demo = app_module.demo
    assert demo._queue.default_concurrency_limit == QUEUE_CONCURRENCY
    trains = [fn for fn in demo.fns.values() if re.search(r"train|fine_tune", fn.api_name or "")]
    assert trains  # every app trains in the page
    for fn in trains:
        assert fn.concurrency_limit == TRAIN_CONCURRENCY, fn.api_name


# (app, its Sessions in the module, a visitor's request that a session's own model answers)
SESSION_REQUESTS = [
    ("anomaly", "SESSIONS", "detect", lambda tmp: ("ecg", 0, None, "", False)),
    ("cbow", "SESSIONS", "most_similar", lambda tmp: ("king", 5)),
    ("transfer", "SESSIONS", "classify", lambda tmp: (str(digit_png(tmp)),)),
    ("transfer", "DETECTORS", "detect_scene", lambda tmp: (7, 0.5)),
]


def digit_png(folder: Path) -> Path:
    image = Image.new("L", (64, 64), 0)
    image.paste(255, (28, 10, 36, 54))  # a "1"
    image.save(folder / "one.png")
    return folder / "one.png"


def call_event(module, api_name: str, args: tuple, sessions, ticket):
    """The page's event `api_name` called in-process, as Gradio would after preprocessing, with
    `ticket` in the session's gr.State (the one `sessions` frees) and other states at their
    initial values."""
    (fn,) = [f for f in module.demo.fns.values() if f.api_name == api_name]
    values = iter(args)
    inputs = []
    for block in fn.inputs:
        if isinstance(block, gr.State):
            mine = block.delete_callback == sessions.store.discard
            inputs.append(ticket if mine else block.value)
        else:
            inputs.append(next(values))
    answer = fn.fn(*inputs)
    return list(answer)[-1] if inspect.isgenerator(answer) else answer


def texts(answer) -> list[str]:
    items = answer if isinstance(answer, (tuple, list)) else [answer]
    return [item for item in items if isinstance(item, str)]


@pytest.mark.parametrize(
    ("app", "attribute", "api_name", "make_args"),
    SESSION_REQUESTS,
    ids=[f"{r[0]}-{r[2]}" for r in SESSION_REQUESTS],
)
def test_an_evicted_session_gets_the_one_notice_once_and_the_served_answer(
    app, attribute, api_name, make_args, tmp_path, monkeypatch
):
    monkeypatch.setenv(f"{app.upper()}_MODEL", str(quick_model(app)))
    if attribute == "DETECTORS":
        monkeypatch.setenv("DETECT_MODEL", str(quick_model("detect")))
    module = load_app(app, f"{app}_app_contract_evicted")
    sessions = getattr(module, attribute)
    assert sessions.served.model is not None
    ticket = sessions.store.put(object(), 1, f"{sessions.what} trained on probe.csv")
    sessions.store.discard(ticket)  # what the budget does to the least recently used
    args = make_args(tmp_path)
    served = call_event(module, api_name, args, sessions, None)
    warned = []
    monkeypatch.setattr(gr, "Warning", warned.append)
    answer = call_event(module, api_name, args, sessions, ticket)
    assert warned == [sessions.notice(ticket)]  # once, as a warning, in the one wording
    assert texts(answer) == texts(served)  # answered by the served model, as a visitor without
    assert not any("probe.csv" in text for text in texts(answer))  # not in a summary too


# app -> its MCP tools: what an agent may call (training, exports and page plumbing are not)
TOOLS = {
    "anomaly": {"score_csv"},
    "cbow": {"nearest_words", "word_analogy", "word_similarity"},
    "transfer": {"classify_file", "classify_example", "detect_file", "detect_scene"},
}


def test_the_mcp_schema_lists_the_apps_tools_each_described_with_every_argument(app_module):
    """Gradio builds the schema from the handlers' docstrings: a tool without a docstring, or
    an argument the docstring's Args: leave out, reaches an agent undescribed."""
    app = app_module.__name__.removesuffix("_app_contract")
    with serve(app_module.demo) as url:
        schema = httpx.get(f"{url}gradio_api/mcp/schema", timeout=30).json()
    tools = {tool["name"]: tool for tool in schema}
    assert set(tools) == TOOLS[app]
    for name, tool in tools.items():
        assert len(tool["description"]) > 30, name
        properties = tool["inputSchema"]["properties"]
        assert properties, name
        for argument, spec in properties.items():
            assert len(spec.get("description", "")) > 5, (name, argument)


@pytest.mark.parametrize(
    "path", [*(f"spaces/{app}/app.py" for app in APPS), "spaces/serve.py", "shared/app/launch.py"]
)
def test_no_app_widens_allowed_paths(path):
    # Gradio serves only its own temp files unless allowed_paths says otherwise
    assert "allowed_paths" not in (REPO / path).read_text()


def test_without_a_model_the_first_view_says_how_to_get_one_and_requests_are_refused(
    app_module,
):
    """No model anywhere (the tests' artifacts/ is empty, the Hub offline): the app starts,
    its first view names the missing model, and a request gets a readable refusal."""
    sessions = app_module.SESSIONS
    assert sessions.served.model is None and sessions.served.metrics == {}
    status = sessions.served.status
    assert "not trained yet" in status and "training." in status  # the command that makes one
    shown = [
        block.value
        for block in app_module.demo.blocks.values()
        if isinstance(block, gr.Markdown) and isinstance(block.value, str)
    ]
    assert any(status in value for value in shown)  # an initial value: no click, no load event
    endpoint, args = FIRST_REQUEST[app_module.__name__.removesuffix("_app_contract")]
    with client_for(app_module.demo) as client, pytest.raises(Exception) as info:
        client.predict(*args, api_name=endpoint)
    text = str(info.value)
    assert f"No {sessions.what} " in text and "loaded" in text and "not trained yet" in text, text
    assert "Traceback" not in text


def test_bad_input_gets_a_named_refusal_and_the_app_goes_on(served_app, tmp_path):
    app, module = served_app
    endpoint, args, message = BAD_REQUEST[app]
    junk = tmp_path / "junk.csv"  # a name each upload field takes; the bytes are not its kind
    junk.write_bytes(bytes(range(256)) * 16)
    args = tuple(handle_file(junk) if a in ("NOT A FILE", "NOT AN IMAGE") else a for a in args)
    with client_for(module.demo) as client:
        with pytest.raises(Exception) as info:
            client.predict(*args, api_name=endpoint)
        text = str(info.value)
        assert message in text and "Traceback" not in text and 'File "' not in text, text
        first_endpoint, first_args = FIRST_REQUEST[app]
        assert client.predict(*first_args, api_name=first_endpoint)  # and it answers on


# Uploads don't pile up: Gradio keeps uploads at content-hash paths that concurrent requests
# share, so the apps never delete an upload in a handler (the load benchmark caught that race).
# Gradio's delete_cache sweep removes every upload and output older than TEMP_FILE_TTL (10
# minutes; 1 s here).
# each writer makes the `n`-th of 50 different files of its kind


def write_series(path: Path, n: int) -> None:
    path.write_text("v\n" + "\n".join(f"{np.sin(i / 3 + n):.4f}" for i in range(300)))


def write_text(path: Path, n: int) -> None:
    path.write_text(
        f"visitor {n} says: " + "the cat sat on the mat and the dog sat on the log " * 20
    )


def write_image(path: Path, n: int) -> None:
    image = Image.new("RGB", (40, 40), (30, 30, 30))
    image.paste((230, 230, 230), (18, 6, 23, 34))  # a stroke: a blank image is refused
    image.putpixel((n % 40, n // 40), (31, 31, 31))  # one pixel apart: other bytes
    image.save(path)


# app -> (file name, how to write it, one request that uploads it)
REQUESTS = {
    "anomaly": ("probe-51c9.csv", write_series,
                lambda c, f: c.predict("ecg", 0, handle_file(f), "", False, api_name="/detect")),
    "cbow": ("probe-51c9.txt", write_text,
             lambda c, f: c.predict("my text", [handle_file(f)], "", True, False, False, 3,
                                    api_name="/prepare")),
    "transfer": ("probe-51c9.png", write_image,
                 lambda c, f: c.predict(handle_file(f), api_name="/classify")),
}  # fmt: skip


def leftovers(name: str) -> list[Path]:
    from gradio.route_utils import DEFAULT_TEMP_DIR

    return [p for p in Path(DEFAULT_TEMP_DIR).rglob(name) if p.is_file()]


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS)
def test_uploads_are_gone_after_50_requests(app, tmp_path, monkeypatch):
    """Fifty visitors upload fifty different files; a sweep later, none of them is left.

    Different files: Gradio 6.31 stores an upload at the hash of its bytes, and its sweep can
    delete such a file and drop it from its list while an upload of the same bytes writes it
    again; that one copy then waits for the next upload of those bytes. Distinct uploads never
    share a path, so every one of them must go.
    """
    name, write, request = REQUESTS[app]
    monkeypatch.setenv("TEMP_FILE_TTL", "1")
    monkeypatch.setenv(f"{app.upper()}_MODEL", str(quick_model(app)))
    module = load_app(app, f"{app}_app_tempfiles")
    stem, suffix = name.split(".")
    uploads = []
    for i in range(50):
        uploads.append(tmp_path / f"{stem}-{i}.{suffix}")
        write(uploads[-1], i)
    pattern = f"{stem}-*.{suffix}"
    with serve(module.demo) as url:
        # download_files=False: with a 1 s TTL the sweep may take an answer's file (the anomaly
        # scores CSV) before the client fetches it; this test is about uploads, not downloads
        client = Client(url, verbose=False, download_files=False)
        for upload in uploads:
            assert request(client, upload)
        assert leftovers(pattern), "the uploads should be in Gradio's temp folder until the sweep"
        deadline = time.monotonic() + 15
        while leftovers(pattern) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert leftovers(pattern) == []
