"""The Fine-tune tab (spaces/transfer/finetune_tab.py): a fine-tuned head serves only its
session, session models share one budget, and a signed-in visitor pushes theirs to the Hub.

The first test fine-tunes in this file's session of the served app.
"""

from __future__ import annotations

import re

import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import handle_file
from PIL import Image

from tests.spaces.transfer.test_app import class_zip, digit_png


@pytest.mark.slow
def test_fine_tune_serves_only_its_session(client, tmp_path):
    status, plot, *_ = client.predict(
        handle_file(str(class_zip(tmp_path / "c.zip"))), 3, api_name="/fine_tune"
    )
    assert "Trained a new head for **bright, dark**" in status
    assert "on 12 images" in status and ": 3 epochs, finished" in status  # the epochs asked for
    epochs = {row[0] for row in plot["data"]}
    assert epochs == {1, 2, 3}, plot  # the curve has one point per epoch and series
    scores, _, _ = client.predict(
        handle_file(str(digit_png(tmp_path / "d.png")[0])), api_name="/classify"
    )
    assert sorted(c["label"] for c in scores["confidences"]) == ["bright", "dark"]
    other = type(client)(client.src, verbose=False)  # a second visitor still has the digits
    scores, _, _ = other.predict(
        handle_file(str(digit_png(tmp_path / "e.png")[0])), api_name="/classify"
    )
    assert set(c["label"] for c in scores["confidences"]) <= set("0123456789")


@pytest.mark.slow
def test_session_models_share_one_budget_and_the_evicted_visitor_falls_back(tmp_path):
    folder = quick_model("transfer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRANSFER_MODEL", str(folder))
        mp.setenv("TRANSFER_SESSION_BUDGET_MB", "3.5")  # two copies of the quick model fit
        app = load_app("transfer", "transfer_app_budget")
    size = app.SESSIONS.nbytes(app.SESSIONS.served.model.model)
    assert 2 * size <= app.SESSIONS.store.budget < 3 * size
    zipped = handle_file(str(class_zip(tmp_path / "c.zip")))
    digit = handle_file(str(digit_png(tmp_path / "d.png")[0]))
    with client_for(app.demo) as first:
        visitors = [first, *(type(first)(first.src, verbose=False) for _ in range(2))]
        for visitor in visitors:
            visitor.predict(zipped, 2, api_name="/fine_tune")
            scores, _, _ = visitor.predict(digit, api_name="/classify")
            assert sorted(c["label"] for c in scores["confidences"]) == ["bright", "dark"]
        # the third fine-tune pushed out the least recently used model: the first visitor's
        assert len(app.SESSIONS.store) == 2 and app.SESSIONS.store.evictions == 1
        scores, _, _ = first.predict(digit, api_name="/classify")
        assert set(c["label"] for c in scores["confidences"]) <= set("0123456789")
        scores, _, _ = visitors[2].predict(digit, api_name="/classify")
        assert sorted(c["label"] for c in scores["confidences"]) == ["bright", "dark"]
        usage = first.predict(api_name="/sessions")
        assert "Session models: 2" in usage and "(1 evicted" in usage and "4 MB budget" in usage


@pytest.mark.slow
def test_a_signed_in_visitor_pushes_the_fine_tuned_model_that_reloads(tmp_path, fake_hub):
    import gradio as gr

    from shared.app.outputs import handler
    from shared.transfer import hub_io
    from shared.transfer.cam import classify

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRANSFER_MODEL", str(quick_model("transfer")))
        app = load_app("transfer", "transfer_app_push")
    alice = gr.OAuthProfile(
        {"name": "A", "preferred_username": "alice", "profile": "", "picture": ""}
    )
    token = gr.OAuthToken(token="hf_alice", scope="write-repos", expires_at=0)
    push = handler(app.finetune.push)  # as the page calls it
    with pytest.raises(gr.Error, match="Sign in with Hugging Face first"):
        push(None, "mine", None, None)
    with pytest.raises(gr.Error, match="Train a model first"):
        push(None, "mine", alice, token)
    assert fake_hub["log"] == []
    summary, _, ticket = app.finetune.fine_tune(
        str(class_zip(tmp_path / "c.zip")), 2, progress=lambda *a, **k: None
    )
    assert push(ticket, "mine", alice, token).startswith("Pushed to [alice/mine]")
    assert (
        fake_hub["upload"]["token"] == "hf_alice" and fake_hub["create"]["repo_id"] == "alice/mine"
    )
    (_, _, files) = fake_hub["log"][-1]
    assert {"config.json", "model.safetensors", "metrics.json", "README.md"} <= set(files)
    pulled = tmp_path / "pulled"
    pulled.mkdir()
    for name, blob in files.items():
        (pulled / name).write_bytes(blob)
    loaded, served = hub_io.load(pulled), app.SESSIONS.store.get(ticket)
    assert loaded.labels == ["bright", "dark"] and loaded.style is None
    image = Image.open(digit_png(tmp_path / "d.png")[0])
    assert classify(loaded, image, cam=False).scores == pytest.approx(
        classify(served, image, cam=False).scores
    )
    assert "12 images" in (pulled / "README.md").read_text()
    # fine-tuning again replaces the session's model in the store; it is not kept twice
    used = app.SESSIONS.store.used
    _, _, again = app.finetune.fine_tune(
        str(class_zip(tmp_path / "c.zip")), 1, ticket, progress=lambda *a, **k: None
    )
    assert app.SESSIONS.store.get(ticket) is None and app.SESSIONS.store.get(again) is not None
    assert app.SESSIONS.store.used == used
    # the replaced model is gone: a push of it gets the one eviction notice, not the new model
    with pytest.raises(gr.Error, match=re.escape(app.SESSIONS.notice(ticket))):
        push(ticket, "mine", alice, token)
