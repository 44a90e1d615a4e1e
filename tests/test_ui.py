"""shared.ui: figures serialized once as gr.Plot sends them; the process settled before serving."""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import REPO
from PIL import Image

import shared.ui
from shared.ui import plot_data, prepare_to_serve


def test_plot_data_is_what_gr_plot_would_send_and_passes_through_unchanged():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[1.0, 0.5], name="loss"))
    data = plot_data(fig)
    assert data == gr.Plot().postprocess(fig)  # what the browser gets for the figure itself
    assert data.type == "plotly"
    assert json.loads(data.plot)["data"][0]["y"] == [1.0, 0.5]
    assert gr.Plot().postprocess(data) is data  # a cached one is not serialized again


def test_prepare_to_serve_freezes_startup_and_leaves_a_set_malloc_arena_max_alone(monkeypatch):
    asked = []
    monkeypatch.setattr(shared.ui, "limit_malloc_arenas", asked.append)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    try:
        prepare_to_serve()
        assert gc.get_freeze_count() > 0 and asked == [shared.ui.MALLOC_ARENAS]
        monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
        prepare_to_serve()
        assert asked == [shared.ui.MALLOC_ARENAS]  # the operator's setting wins
    finally:
        gc.unfreeze()


THREADS_ALLOCATING = """
import ctypes, sys, threading, torch
{setup}
def work():
    for _ in range(200):
        a = torch.randn(64, 64)
        (a @ a).sum()
threads = [threading.Thread(target=work) for _ in range(12)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per heap, on stderr
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_after_prepare_to_serve_worker_threads_share_two_malloc_arenas():
    def arenas(setup: str) -> int:
        env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
        code = THREADS_ALLOCATING.format(setup=setup)
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
            timeout=120, check=True,
        )  # fmt: skip
        return sum(line.startswith("Arena ") for line in run.stderr.splitlines())

    assert arenas("") > 2  # the control: threads that allocate at once get heaps of their own
    assert arenas("from shared.ui import prepare_to_serve; prepare_to_serve()") == 2


def test_output_images_are_cached_whole_and_written_once(tmp_path):
    """Identical answers to concurrent requests share a file: it must never be rewritten while
    another request's browser downloads it (Gradio 6.31 rewrote it each time)."""
    from gradio import processing_utils

    from shared.ui import write_once

    assert processing_utils.save_pil_to_cache.__module__ == "shared.ui"  # what components call
    image = Image.new("RGB", (64, 64), "red")
    first = Path(processing_utils.save_pil_to_cache(image, str(tmp_path), format="png"))
    with Image.open(first) as back:
        assert back.size == (64, 64) and back.getpixel((0, 0)) == (255, 0, 0)
    inode = first.stat().st_ino
    os.utime(first, (1, 1))  # as if saved long ago
    again = Path(processing_utils.save_img_array_to_cache(np.array(image), str(tmp_path), "png"))
    assert again == first and first.stat().st_ino == inode  # not written again...
    assert first.stat().st_mtime > 1  # ...but served now: Gradio's TTL sweep counts from here
    # a file that is not whole (a writer that died) is replaced whole, by a rename
    first.write_bytes(first.read_bytes()[:10])
    write_once(first, b"0123456789abcdef")
    assert first.read_bytes() == b"0123456789abcdef" and first.stat().st_ino != inode
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary left


def test_concurrent_identical_answers_never_expose_a_partial_file(tmp_path):
    from gradio import processing_utils

    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8))
    size, errors = None, []

    def save_and_read():
        path = Path(processing_utils.save_pil_to_cache(image, str(tmp_path), format="png"))
        for _ in range(20):
            if len(path.read_bytes()) != size:
                errors.append(len(path.read_bytes()))

    size = len(processing_utils.encode_pil_to_bytes(image, "png"))
    threads = [threading.Thread(target=save_and_read) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []


def test_the_temp_file_sweep_survives_an_upload_arriving_meanwhile(tmp_path, monkeypatch):
    """Gradio's sweep walked the live set: an upload landing mid-sweep raised and killed the
    scheduled task, so nothing was ever deleted again."""
    import types

    from gradio import route_utils

    old = [tmp_path / f"old-{i}" for i in range(3)]
    for path in old:
        path.write_text("x")
    files = {str(p) for p in old}
    blocks = types.SimpleNamespace(blocks={}, temp_file_sets=[files])
    remove = os.remove

    def remove_while_an_upload_lands(path):
        remove(path)
        files.add(str(tmp_path / f"new-{len(files)}"))  # what the upload route does meanwhile

    monkeypatch.setattr(os, "remove", remove_while_an_upload_lands)
    # the schedule's function (ours); age -1: every file is past it (the sweep reads ctime)
    route_utils.delete_files_created_by_app(blocks, age=-1)
    assert not any(p.exists() for p in old)
    assert files == {str(tmp_path / f"new-{n}") for n in (3, 4, 5)}  # the uploads stay listed
