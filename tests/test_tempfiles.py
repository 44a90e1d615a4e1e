"""Uploads don't pile up: after 50 requests the Gradio temp folder holds none of them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import load_app, quick_model, serve
from gradio_client import Client, handle_file


def leftovers(pattern: str) -> list[Path]:
    from gradio.route_utils import DEFAULT_TEMP_DIR

    return [p for p in Path(DEFAULT_TEMP_DIR).rglob(pattern) if p.is_file()]


def wait_for_sweep(pattern: str, seconds: float = 10) -> list[Path]:
    deadline = time.monotonic() + seconds
    while (left := leftovers(pattern)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


@pytest.mark.slow
def test_cbow_uploads_are_swept(tmp_path, monkeypatch):
    # CBOW keeps an upload for the visitor's next step (prepare, then train), so Gradio's
    # delete_cache sweep removes it once it is older than TEMP_FILE_TTL (here 1 s).
    monkeypatch.setenv("TEMP_FILE_TTL", "1")
    monkeypatch.setenv("CBOW_MODEL", str(quick_model("cbow")))
    app = load_app("cbow", "cbow_app_tempfiles")
    text = tmp_path / "probe-cbow-51c9.txt"
    text.write_text("the cat sat on the mat and the dog sat on the log " * 20)
    with serve(app.demo) as url:
        client = Client(url, verbose=False)
        for _ in range(50):
            stats, _ = client.predict(
                "my text", [handle_file(text)], "", True, False, False, 3, api_name="/prepare"
            )
            assert "tokens" in str(stats).lower()
        assert wait_for_sweep("probe-cbow-51c9.txt") == []


@pytest.mark.slow
def test_transfer_uploads_are_deleted_once_read(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("TRANSFER_MODEL", str(quick_model("transfer")))
    app = load_app("transfer", "transfer_app_tempfiles")
    image = tmp_path / "probe-transfer-51c9.png"
    Image.new("RGB", (40, 40), (30, 30, 30)).save(image)
    with serve(app.demo) as url:
        client = Client(url, verbose=False)
        for _ in range(50):
            labels, *_ = client.predict(handle_file(image), api_name="/classify")
            assert labels["label"]
        assert leftovers("probe-transfer-51c9.png") == []
