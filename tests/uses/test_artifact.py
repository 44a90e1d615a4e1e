"""The saved folder: exactly the issue's metric keys, a card with the numbers, and the app's
loader finding it where it finds every model."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict

import pytest
import torch
from huggingface_hub import ModelCard

from shared.app.served import load_default
from shared.uses.artifact import METRIC_KEYS, save_uses
from shared.uses.models import REQUIRED, load_uses
from tests.uses.test_train import tiny_folder

ROW_KEYS = {
    "denoising": {"noise_std", "noisy_psnr", "median_psnr", "autoencoder_psnr"},
    "compression": {"code_size", "bytes", "autoencoder_mse", "pca_mse"},
    "features": {"labels_per_class", "code_accuracy", "pca_accuracy", "pixel_accuracy"},
}


def test_metrics_json_has_exactly_the_issues_keys():
    metrics = json.loads((tiny_folder() / "metrics.json").read_text())
    assert set(metrics) == set(METRIC_KEYS)
    assert set(metrics["reduction"]) == {"autoencoder_knn", "pca_knn"}
    assert set(metrics["generation"]) == {"elbo", "recognised_fraction"}
    for key, fields in ROW_KEYS.items():
        assert metrics[key] and all(set(row) == fields for row in metrics[key]), key


def test_save_refuses_other_keys(tmp_path):
    model = load_uses(tiny_folder())
    with pytest.raises(ValueError, match="exactly the keys"):
        save_uses(tmp_path, model, {"reduction": {}}, "cmd", 1.0)
    assert not (tmp_path / "model.safetensors").exists()


def test_the_card_and_config_carry_the_numbers_and_settings():
    folder = tiny_folder()
    metrics = json.loads((folder / "metrics.json").read_text())
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "pytorch" and "pytorch_model_hub_mixin" in card.data.tags
    values = {r.metric_name: r.metric_value for r in card.data.eval_results}
    assert values["5-NN accuracy, 2-D autoencoder code"] == metrics["reduction"]["autoencoder_knn"]
    assert values["recognised fraction"] == metrics["generation"]["recognised_fraction"]
    at_3 = next(r for r in metrics["denoising"] if r["noise_std"] == 0.3)
    assert values["PSNR dB at noise 0.3, denoising autoencoder"] == at_3["autoencoder_psnr"]
    assert f"| {metrics['reduction']['pca_knn']:.3f} |" in card.text
    assert "python -m training.anomaly_uses" in card.text
    config = json.loads((folder / "config.json").read_text())
    assert config == asdict(load_uses(folder).config) and config["steps"] == 60


def test_the_app_loader_finds_it_by_variable_and_in_artifacts(tmp_path, monkeypatch):
    x = torch.rand(4, 64, generator=torch.Generator().manual_seed(0))
    expected = load_uses(tiny_folder()).compressor(2)(x)
    monkeypatch.setenv("ANOMALY_USES_MODEL", str(tiny_folder()))
    served = load_default("anomaly_uses", REQUIRED, load_uses)
    assert "ANOMALY_USES_MODEL" in served.status
    assert torch.equal(served.model.compressor(2)(x), expected)
    assert served.metrics == json.loads((tiny_folder() / "metrics.json").read_text())
    monkeypatch.delenv("ANOMALY_USES_MODEL")
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path))
    missing = load_default("anomaly_uses", REQUIRED, load_uses)
    assert missing.model is None and "python -m training.anomaly_uses" in missing.status
    shutil.copytree(tiny_folder(), tmp_path / "anomaly_uses")
    local = load_default("anomaly_uses", REQUIRED, load_uses)
    assert str(tmp_path / "anomaly_uses") in local.status
    assert torch.equal(local.model.compressor(2)(x), expected)
