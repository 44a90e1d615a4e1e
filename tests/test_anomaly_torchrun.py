"""Two CPU processes over gloo train the same model, and exactly one of them saves it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

from shared.anomaly.model import load_autoencoder


@pytest.mark.slow
def test_torchrun_two_processes_save_one_loadable_model(tmp_path):
    out = tmp_path / "ddp"
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "training.anomaly", "--quick", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    saves = [line for line in run.stdout.splitlines() if line.startswith("saved to")]
    assert len(saves) == 1, saves  # only the main process saves
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "config.json", "metrics.json", "model.safetensors",
    ]  # fmt: skip
    assert load_autoencoder(out).config.threshold > 0
