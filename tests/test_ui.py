"""shared.ui: figures serialized once as gr.Plot sends them; the process settled before serving."""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys

import gradio as gr
import plotly.graph_objects as go
import pytest
from conftest import REPO

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
