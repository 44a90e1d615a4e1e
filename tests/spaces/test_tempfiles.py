"""Uploads don't pile up: after 50 requests the Gradio temp folder holds none of them.

Gradio keeps uploads at content-hash paths that concurrent requests share, so the apps never
delete an upload in a handler (the load benchmark caught that race). Gradio's delete_cache sweep
removes every upload and output older than TEMP_FILE_TTL (10 minutes; 1 s here).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from conftest import load_app, quick_model, serve
from gradio_client import Client, handle_file
from PIL import Image

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
@pytest.mark.parametrize("app", sorted(REQUESTS))
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
        client = Client(url, verbose=False)
        for upload in uploads:
            assert request(client, upload)
        assert leftovers(pattern), "the uploads should be in Gradio's temp folder until the sweep"
        deadline = time.monotonic() + 15
        while leftovers(pattern) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert leftovers(pattern) == []
