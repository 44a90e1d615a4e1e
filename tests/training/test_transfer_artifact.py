"""The --quick model folder: timm Hub layout that stock timm and transformers both load."""

from __future__ import annotations

from pathlib import Path

import pytest
import timm
import torch
from conftest import cache_repo, quick_model
from huggingface_hub import ModelCard
from PIL import Image

from shared.hub import load_json
from shared.training import maybe_push
from shared.transfer import data, glyphs, hub_io
from shared.transfer.cam import classify

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
