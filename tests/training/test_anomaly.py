"""Every documented flag of `python -m training.anomaly` runs once, and its effect is checked.

Each case runs the CLI in this process (quick, on tiny data) and asserts what the flag must have
changed in the artifact: config.json, metrics.json (resolved settings and budget), the card or
the upload. A last test checks that the cases cover every flag `--help` documents.
Also the --quick run as a whole, and under torchrun with two processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from shared.anomaly.model import load_autoencoder
from shared.anomaly.upload import read_csv
from training import anomaly as cli


def table_csv(folder: Path) -> Path:
    """60 rows of 3 correlated columns, 10 of them anomalies (label 1) far off the line."""
    rng = np.random.default_rng(0)
    t = rng.normal(size=60)
    x = np.c_[t, 2 * t, -t] + 0.05 * rng.normal(size=(60, 3))
    labels = np.r_[np.ones(10, dtype=int), np.zeros(50, dtype=int)]
    x[:10] += rng.choice([-4, 4], size=(10, 3))
    path = folder / "rows.csv"
    pd.DataFrame(x, columns=["a", "b", "c"]).assign(label=labels).to_csv(path, index=False)
    return path


def words_csv(folder: Path) -> Path:
    """The same rows with text labels, as the ECG5000 file has 1 = normal."""
    frame = read_csv(table_csv(folder)).frame
    frame["label"] = np.where(frame["label"] == 1, "bad", "ok")
    path = folder / "words.csv"
    frame.to_csv(path, index=False)
    return path


def missing_csv(folder: Path) -> Path:
    frame = read_csv(table_csv(folder)).frame
    frame.loc[frame.index[[20, 30]], "a"] = np.nan
    path = folder / "missing.csv"
    frame.to_csv(path, index=False)
    return path


def series_csv(folder: Path) -> Path:
    points = np.sin(np.arange(400) / 4)
    labels = np.zeros(400, dtype=int)
    points[300:305] += 3
    labels[300:305] = 1
    path = folder / "series.csv"
    pd.DataFrame({"v": points, "y": labels}).to_csv(path, index=False)
    return path


def run(tmp_path: Path, monkeypatch, *flags: str) -> tuple[Path, dict, dict]:
    out = tmp_path / "out"
    argv = ["--quick", "--out", str(out), *flags]
    monkeypatch.setattr(sys, "argv", ["training/anomaly.py", *argv])  # the card's command line
    folder = cli.main(argv)
    config = json.loads((folder / "config.json").read_text())
    record = json.loads((folder / "metrics.json").read_text())
    return folder, config, record


def baseline_weights(tmp_path: Path, monkeypatch, *flags: str):
    folder, _, _ = run(tmp_path / "baseline", monkeypatch, *flags)
    return load_autoencoder(folder).state_dict()


# flags -> the check of what they changed, given (tmp_path, monkeypatch, folder, config, record)
CASES = {
    "dataset-normal-digit": (
        ["--dataset", "digits", "--normal-digit", "3"],
        lambda t, m, f, c, r: c["dataset"] == "digits (normal = 3)" and c["n_features"] == 64,
    ),
    "seed": (
        ["--dataset", "breast_cancer", "--seed", "3"],
        lambda t, m, f, c, r: any(
            not np.array_equal(a, b)
            for a, b in zip(
                load_autoencoder(f).state_dict().values(),
                baseline_weights(t, m, "--dataset", "breast_cancer").values(),
                strict=True,
            )
        ),
    ),
    "csv-label-col": (
        ["--csv", "{table}", "--label-col", "label"],
        # split_labelled: 30% of each class is test, so 3 of the 10 anomalies and 15 normal rows
        lambda t, m, f, c, r: c["dataset"] == "rows.csv"
        and c["columns"] == ["a", "b", "c"]
        and (r["test"]["anomalies"], r["test"]["n"]) == (3, 18),
    ),
    "normal-label": (
        ["--csv", "{words}", "--label-col", "label", "--normal-label", "ok"],
        lambda t, m, f, c, r: (r["test"]["anomalies"], r["test"]["n"]) == (3, 18),
    ),
    "drop-missing": (
        ["--csv", "{missing}", "--drop-missing"],
        # no label column: every column is a feature, and the scaler saw the 58 complete rows
        lambda t, m, f, c, r: c["dataset"] == "missing.csv" and r["test"] == {}
        and np.allclose(c["mean"], read_csv(t / "missing.csv").frame.dropna().mean(), rtol=1e-5),
    ),
    "layout-window-stride": (
        ["--csv", "{series}", "--layout", "series", "--label-col", "y", "--window", "30",
         "--stride", "2"],
        lambda t, m, f, c, r: (c["kind"], c["window"], c["stride"], c["n_features"])
        == ("series", 30, 2, 30) and r["test"]["n"] == (400 - 30) // 2 + 1,
    ),
    "unsupervised": (
        ["--csv", "{table}", "--label-col", "label", "--unsupervised"],
        # the scaler then learns from the anomalies too: 10 of them shifted by +-4
        lambda t, m, f, c, r: not np.allclose(
            c["std"],
            json.loads(
                (run(t / "semi", m, "--csv", str(table_csv(t)), "--label-col", "label")[0]
                 / "config.json").read_text()
            )["std"],
        ),
    ),
    "variant-conv": (
        ["--dataset", "kdd135", "--variant", "conv", "--max-steps", "20"],
        lambda t, m, f, c, r: c["variant"] == "conv" and c["window"] == 128,
    ),
    "hidden-latent-loss": (
        ["--dataset", "breast_cancer", "--hidden", "12", "6", "--latent", "3", "--loss", "mae"],
        lambda t, m, f, c, r: (c["hidden"], c["latent"], c["loss"]) == ([12, 6], 3, "mae")
        and load_autoencoder(f).encoder[0].out_features == 12,
    ),
    "lr-threads-seconds": (
        ["--dataset", "breast_cancer", "--lr", "0.002", "--threads", "2", "--max-seconds", "30"],
        lambda t, m, f, c, r: (r["settings"]["lr"], r["settings"]["threads"],
                               r["settings"]["max_seconds"]) == (0.002, 2, 30.0),
    ),
    "batch-size-epochs": (
        ["--dataset", "breast_cancer", "--batch-size", "16", "--epochs", "2"],
        # 179 normal training rows; 10% of them (17) is under min_val (32), so none is held out:
        # 179 // 16 = 11 steps a pass, checked after each pass
        lambda t, m, f, c, r: r["budget"] == {"batch_size": 16, "steps": 22, "steps_per_check": 11}
        and len(r["history"]) == 2,
    ),
    # 179 rows: batch 32 (179/32 rounds to 4, raised to 32), 5 steps a pass; 1 pass is under
    # --min-steps, so 60 steps, checked every 60 / 3 = 20
    "step-budget": (
        ["--dataset", "breast_cancer", "--min-steps", "60", "--max-steps", "80",
         "--target-epochs", "1", "--checks", "3", "--patience", "100"],
        lambda t, m, f, c, r: r["budget"] == {"batch_size": 32, "steps": 60, "steps_per_check": 20}
        and len(r["history"]) == 3,
    ),
    "val-fraction-min-val": (
        ["--dataset", "breast_cancer", "--val-fraction", "0.05", "--min-val", "100"],
        # 5% of 179 is 8 < 100 held out: no validation split, early stopping on training loss
        lambda t, m, f, c, r: "val_loss" not in r["history"][0]
        and r["settings"]["val_fraction"] == 0.05,
    ),
    "max-rows": (
        ["--dataset", "breast_cancer", "--max-rows", "40", "--batch-size", "40", "--epochs", "1"],
        lambda t, m, f, c, r: r["budget"]["batch_size"] == 40 and r["budget"]["steps"] == 1,
    ),
    "threshold-rule-param": (
        ["--dataset", "breast_cancer", "--threshold-rule", "percentile", "--threshold-param",
         "0.2"],
        lambda t, m, f, c, r: (c["threshold_rule"], c["threshold_param"]) == ("percentile", 0.2)
        and abs(c["expected_flag_rate"] - 0.2) < 0.01,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_each_flag_changes_the_artifact(case, tmp_path, monkeypatch):
    flags, check = CASES[case]
    files = {
        "{table}": table_csv,
        "{words}": words_csv,
        "{missing}": missing_csv,
        "{series}": series_csv,
    }
    flags = [str(files[f](tmp_path)) if f in files else f for f in flags]
    folder, config, record = run(tmp_path, monkeypatch, *flags)
    assert check(tmp_path, monkeypatch, folder, config, record)
    card = (folder / "README.md").read_text()
    assert "python -m training.anomaly --quick" in card and flags[-1] in card


def test_push_to_hub_uploads_the_output_folder(tmp_path, monkeypatch, fake_hub):
    folder, _, _ = run(
        tmp_path, monkeypatch, "--dataset", "breast_cancer", "--push-to-hub", "someorg/ae-test"
    )
    assert fake_hub["create"]["repo_id"] == "someorg/ae-test"
    upload = fake_hub["upload"]
    assert upload["repo_id"] == "someorg/ae-test" and Path(upload["folder_path"]) == folder
    assert upload.get("repo_type", "model") == "model"
    assert {"config.json", "model.safetensors", "metrics.json", "README.md"} <= {
        p.name for p in folder.iterdir()
    }


def test_the_flags_are_the_settings_and_their_defaults():
    from dataclasses import fields

    from shared.anomaly.train import TrainSettings

    args = cli.parse_args([])
    for f in fields(TrainSettings):
        assert getattr(args, f.name) == getattr(TrainSettings(), f.name), f.name
    assert args.window is None and cli.load_data(args).window == 200  # the app's window too


def test_every_documented_flag_is_run():
    documented = {
        option
        for action in cli.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    used = {f for flags, _ in CASES.values() for f in flags if f.startswith("--")}
    used |= {"--quick", "--out", "--push-to-hub"}  # run() and the push test
    assert documented - used == set()


def test_the_module_runs_as_a_script(tmp_path):
    import subprocess

    out = tmp_path / "m"
    subprocess.run(
        [sys.executable, "-m", "training.anomaly", "--quick", "--dataset", "breast_cancer",
         "--out", str(out)],
        check=True, cwd=REPO, capture_output=True,
    )  # fmt: skip
    assert load_autoencoder(out).config.threshold_rule == "best_f1"  # labelled validation


@pytest.mark.slow
def test_cli_quick_run_writes_a_loadable_artifact(tmp_path):
    out = tmp_path / "m"
    subprocess.run(
        [sys.executable, "-m", "training.anomaly", "--quick", "--dataset", "digits",
         "--normal-digit", "3", "--threshold-rule", "best_f1", "--out", str(out)],
        check=True, cwd=REPO, capture_output=True, env={**os.environ},
    )  # fmt: skip
    model = load_autoencoder(out)
    assert model.config.threshold_rule == "best_f1" and model.config.n_features == 64
    assert "roc_auc" in pd.read_json(out / "metrics.json", typ="series")["test"]


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
