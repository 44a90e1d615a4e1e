"""Every documented flag of training.transfer runs, and its effect shows in what was saved.

Also the --quick model folder: timm's Hub layout, which stock timm and transformers both load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
import timm
import torch
from conftest import cache_repo, quick_model
from huggingface_hub import ModelCard
from PIL import Image

from shared.hub import load_json
from shared.training import maybe_push
from shared.transfer import data, glyphs, hub_io, tune
from shared.transfer.cam import classify
from shared.transfer.data import TransferInputError
from training import transfer

# one run that sets every numeric and switch flag away from its default (and from --quick's)
FLAGS = {
    "--seed": "3",
    "--img-size": "24",
    "--source-images": "1000",
    "--source-epochs": "2",
    "--epochs": "3",
    "--batch-size": "16",
    "--lr": "0.001",
    "--weight-decay": "0.01",
    "--layer-decay": "0.5",
    "--probe-lr-scale": "5.0",
    "--dropout": "0.1",
    "--head-hidden": "8",
    "--freeze-until": "4",
    "--unfreeze-plan": "1",
    "--few-labels": "3,4",
    "--few-epochs": "2",
    "--seeds": "2",
    "--quadrant-seeds": "0",  # the size x similarity chart off (tests/transfer/test_quadrant.py)
    "--threads": "1",
    "--max-images": "200",
    "--workers": "2",  # the runs in two processes (tests/training/test_parallel.py: same numbers)
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "model"
    argv = ["--quick", "--out", str(out), "--no-augment"]
    transfer.main(argv + [item for pair in FLAGS.items() for item in pair])
    return out


@pytest.mark.slow
def test_every_setting_reaches_the_saved_config(run):
    config = load_json(run / "config.json")
    saved = config["transfer"]["training"]
    for flag, value in FLAGS.items():
        key = flag[2:].replace("-", "_")
        lists = ("few_labels", "unfreeze_plan")
        want = [int(v) for v in value.split(",")] if key in lists else type(saved[key])(value)
        assert saved[key] == want, flag
    assert saved["augment"] is False and saved["quick"] is True
    assert config["transfer"]["head"] == {"dropout": 0.1, "hidden": 8}
    assert config["pretrained_cfg"]["input_size"] == [3, 24, 24]


@pytest.mark.slow
def test_every_setting_shaped_the_run(run):
    metrics = load_json(run / "metrics.json")
    assert set(metrics["few_label"]) == {"3", "4"}
    assert "quadrant" not in metrics and "quadrant_runs" not in metrics  # --quadrant-seeds 0
    assert all(len(v["seeds"]) == 2 for v in metrics["few_label"].values())
    full = metrics["full"]
    assert all(len(v) == 2 for v in full["seeds"].values())  # --seeds 2
    assert [s["n_frozen"] for s in full["stages"]] == [4, 1]  # --freeze-until, --unfreeze-plan
    assert sum(len(s["history"]) for s in full["stages"]) == 3  # --epochs over the stages
    assert max(s["lr_trace"][0] for s in full["stages"]) <= 0.001  # --lr is the peak
    assert len(metrics["test_index"]) == 40  # --max-images 200, a fifth held out
    assert metrics["source"]["glyphs"]["train"] == 1000  # --source-images
    assert len(metrics["source"]["history"]) == 2  # --source-epochs
    assert load_json(run / "source" / "config.json")["pretrained_cfg"]["input_size"] == [3, 24, 24]


def image_folder(root, classes=("dark", "bright"), per_class=8):
    rng = np.random.default_rng(0)
    for value, name in zip((30, 220), classes, strict=True):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(value + rng.normal(0, 10, (12, 12)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


@pytest.mark.slow
def test_data_pretrained_from_tune_and_push(run, tmp_path, fake_hub):
    out = tmp_path / "mine"
    transfer.main(
        ["--quick", "--out", str(out), "--data", str(image_folder(tmp_path / "images"))]
        + ["--pretrained-from", str(run / "source"), "--img-size", "24", "--few-labels", "2"]
        + ["--tune", "2", "--folds", "2", "--push-to-hub", "me/my-classifier"]
    )
    config, metrics = load_json(out / "config.json"), load_json(out / "metrics.json")
    assert config["label_names"] == ["bright", "dark"]
    assert "input_style" not in config["transfer"]  # a person's own classes: no digit styling
    assert config["transfer"]["training"]["source"] == str(run / "source")
    assert "source" not in metrics  # nothing was pretrained: the given model was used
    assert len(metrics["tuning"]["trials"]) == 2
    assert len(metrics["tuning"]["trials"][0]["fold_accuracies"]) == 2
    assert fake_hub["create"]["repo_id"] == "me/my-classifier"
    (_, upload, files) = fake_hub["log"][-1]
    assert upload["repo_type"] == "model" and "model.safetensors" in files


def test_online_only_flags_fail_offline_with_a_message(tmp_path):
    with pytest.raises(TransferInputError, match="Could not load weights for 'test_resnet'"):
        transfer.main(["--quick", "--out", str(tmp_path / "a"), "--pretrained"])
    with pytest.raises(Exception, match="(?i)offline|connect|reach|not found|couldn't"):
        transfer.main(["--quick", "--out", str(tmp_path / "b"), "--dataset", "ylecun/mnist"])


def test_an_unknown_backbone_is_named_with_close_timm_names(tmp_path):
    with pytest.raises(TransferInputError, match="Unknown backbone 'resnet_18'.*resnet18"):
        transfer.main(["--quick", "--out", str(tmp_path / "c"), "--backbone", "resnet_18"])


def test_quick_sets_defaults_that_flags_still_override():
    assert transfer.parse_args(["--quick"]).epochs == transfer.QUICK["epochs"]
    assert transfer.parse_args(["--quick", "--epochs", "9"]).epochs == 9
    assert transfer.parse_args([]).few_labels == [5, 10, 25]


def test_every_documented_flag_is_exercised_here():
    exercised = {*FLAGS, "--quick", "--out", "--no-augment", "--augment", "--data"}
    exercised |= {"--pretrained-from", "--tune", "--folds", "--push-to-hub", "--pretrained"}
    exercised |= {"--dataset", "--hub-dataset", "--few-seeds", "--help", "--backbone"}
    exercised |= {"--storage"}
    parser_flags = {
        option
        for action in transfer.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    assert parser_flags <= exercised, parser_flags - exercised


LABELS = list("0123456789")


@pytest.fixture(scope="module")
def folder() -> Path:
    return quick_model("transfer")


def digit(index=0) -> Image.Image:
    return data.digits(data.DIGITS)[0][index]


def test_folder_holds_the_timm_layout_and_no_pickle(folder):
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "README.md", "metrics.json"} <= names
    assert not any(p.suffix in {".bin", ".pth", ".pkl", ".pt"} for p in folder.rglob("*"))
    config = load_json(folder / "config.json")
    assert config["label_names"] == LABELS and config["num_classes"] == 10
    assert "num_classes" not in config.get("model_args", {})  # the transformers pitfall
    assert config["transfer"]["training"]["quick"] is True
    assert config["transfer"]["input_style"] == "digits"  # drawn digits are prepared as these
    # the pretrained model (printed letters) is a timm folder of its own, for --pretrained-from
    source = load_json(folder / "source" / "config.json")
    assert source["label_names"] == list(glyphs.LETTERS)
    assert source["transfer"]["role"] == "pretrained source"
    assert "printed letters" in (folder / "source" / "README.md").read_text()


def test_stock_timm_local_dir_loads_it_with_labels(folder):
    model = timm.create_model(f"local-dir:{folder}", pretrained=True).eval()
    assert model.pretrained_cfg["label_names"] == LABELS
    ours = hub_io.load(folder)
    x = data.encode([digit(0), digit(1)], ours.data_config)
    with torch.no_grad():
        assert torch.equal(model(x), ours.model(x))


def test_stock_transformers_pipeline_loads_it_with_labels(folder):
    from transformers import pipeline

    pipe = pipeline("image-classification", model=str(folder))
    clf = hub_io.load(folder)
    for i in range(3):
        got = pipe(digit(i).convert("RGB"), top_k=10)
        assert sorted(r["label"] for r in got) == LABELS
        ours = classify(clf, digit(i), cam=False).scores
        assert got[0]["label"] == next(iter(ours))
        assert got[0]["score"] == pytest.approx(ours[got[0]["label"]], abs=1e-4)


def test_loads_by_repo_id_from_the_offline_cache(folder):
    cache_repo("someorg/transfer-cnn", folder)
    clf = hub_io.load("someorg/transfer-cnn")
    assert clf.labels == LABELS
    model = timm.create_model("hf-hub:someorg/transfer-cnn", pretrained=True).eval()
    x = data.encode([digit(2)], clf.data_config)
    with torch.no_grad():
        assert torch.equal(model(x), clf.model(x))


def test_push_uploads_the_folder_that_reloads(folder, fake_hub):
    maybe_push(folder, "someorg/pushed-transfer")
    calls = fake_hub["upload"]
    assert calls["repo_id"] == "someorg/pushed-transfer"
    uploaded = Path(calls["folder_path"])
    assert uploaded == folder
    assert {"config.json", "model.safetensors", "README.md"} <= {p.name for p in uploaded.iterdir()}
    assert hub_io.load(uploaded).labels == LABELS


def test_model_card_and_metrics_agree(folder):
    metrics = load_json(folder / "metrics.json")
    card = ModelCard.load(folder / "README.md")
    results = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert results["fine tuned accuracy"] == pytest.approx(
        metrics["full"]["accuracy"]["fine_tuned"]
    )
    assert set(metrics["full"]["accuracy"]) == {"scratch", "head_only", "fine_tuned"}
    assert card.data.library_name == "timm" and "python -m training.transfer --quick" in card.text
    stages = metrics["full"]["stages"]
    assert [s["n_frozen"] for s in stages] == [-1, 2, 0]
    assert stages[0]["trainable"] < stages[-1]["trainable"]  # unfreezing trains more
    assert all(len(s["lr_trace"]) > 0 for s in stages)


# One --tune worker: the real parser reads --storage, the real run_tuning trains test_resnet on
# 24 random 16 px images (one epoch per fold), and prints how many trials its study holds.
TUNE_WORKER = """
import json, sys, torch
from training import transfer
torch.set_num_threads(1)
args = transfer.parse_args(
    ["--quick", "--epochs", "1", "--folds", "2", "--tune", sys.argv[1], "--storage", sys.argv[2]]
)
x, y = torch.rand(24, 3, 16, 16), torch.arange(24) % 3
print(json.dumps(len(transfer.run_tuning(args, None, x, y, 3)["trials"])))
"""


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_two_tune_workers_on_one_storage_share_one_study(tmp_path, scheme):
    url = f"sqlite:///{tmp_path / 'study.db'}" if scheme == "sqlite" else f"journal:{tmp_path}/j"
    trials = 2
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", TUNE_WORKER, str(trials), url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    seen = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-2000:]
        seen.append(json.loads(out.strip().splitlines()[-1]))
    # whichever worker finished last saw its own trials and all of the other's: one study
    assert max(seen) == 2 * trials and min(seen) >= trials
    study = optuna.load_study(study_name=tune.STUDY_NAME, storage=tune.open_storage(url))
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.number for t in done) == list(range(2 * trials))
    assert all(len(t.user_attrs["fold_scores"]) == 2 for t in done)


def test_a_storage_that_cannot_be_opened_is_named_with_the_forms_that_work(tmp_path):
    with pytest.raises(TransferInputError, match="'not a url'.*journal:PATH.*sqlite:///"):
        tune.open_storage("not a url")
    with pytest.raises(TransferInputError, match="could not be opened"):
        tune.open_storage(f"sqlite:///{tmp_path}/missing/folder/study.db")
