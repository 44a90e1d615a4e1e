"""shared.app.launch: the process settled before serving (Gradio's fixes, gc, malloc arenas)."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys

import pytest
from conftest import REPO
from gradio import processing_utils, route_utils

import shared.app.launch
from shared.app import workarounds
from shared.app.launch import prepare_to_serve


def test_prepare_to_serve_freezes_startup_and_leaves_a_set_malloc_arena_max_alone(monkeypatch):
    asked = []
    monkeypatch.setattr(shared.app.launch, "limit_malloc_arenas", asked.append)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    try:
        prepare_to_serve()
        assert gc.get_freeze_count() > 0 and asked == [shared.app.launch.MALLOC_ARENAS]
        monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
        prepare_to_serve()
        assert asked == [shared.app.launch.MALLOC_ARENAS]  # the operator's setting wins
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
    assert arenas("from shared.app.launch import prepare_to_serve; prepare_to_serve()") == 2


def test_prepare_to_serve_installs_gradios_fixes(monkeypatch):
    monkeypatch.setattr(shared.app.launch, "limit_malloc_arenas", lambda arenas: True)
    workarounds.uninstall()
    try:
        prepare_to_serve()
        assert processing_utils.save_pil_to_cache is workarounds.save_pil_to_cache
        assert route_utils.delete_files_created_by_app is workarounds.delete_files_created_by_app
    finally:
        gc.unfreeze()
        workarounds.uninstall()
