"""Every detection test runs as training/detect.py does: on one thread."""

from __future__ import annotations
import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """As training/detect.py runs: one thread beats two when other jobs share the 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
