"""shared.ui: figures drawn once as gr.Plot would and freed; the process settled before serving."""

from __future__ import annotations

import base64
import gc
import io
import os
import platform
import subprocess
import sys
import weakref

import gradio as gr
import pytest
from conftest import REPO
from PIL import Image

import shared.ui
from shared.plots import history_plot
from shared.ui import plot_data, prepare_to_serve


def test_plot_data_is_what_gr_plot_would_send_and_passes_through_unchanged():
    fig = history_plot([{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}])
    width, height = (fig.get_size_inches() * fig.dpi).round().astype(int)
    data = plot_data(fig)
    header, encoded = data.plot.split(",", 1)
    assert data.type == "matplotlib" and header == "data:image/webp;base64"
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        assert image.format == "WEBP" and image.size == (width, height)
    assert gr.Plot().postprocess(data) is data
    assert not fig.axes  # emptied: what is left of it holds no data


def test_drawn_figures_do_not_wait_for_python_s_rare_full_collections():
    def draw() -> weakref.ref:
        fig = history_plot([{"epoch": 1, "val_loss": 2.0}])
        plot_data(fig)
        return weakref.ref(fig)

    gc.collect()
    gc.freeze()  # what prepare_to_serve() does before an app serves
    try:
        gc.disable()  # only plot_data's own collection may free it
        try:
            earlier = draw()
            assert earlier() is not None  # a reference cycle: only a collection frees it
            draw()  # the next figure's collection does
            assert earlier() is None
        finally:
            gc.enable()
    finally:
        gc.unfreeze()


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
