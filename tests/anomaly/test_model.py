"""The autoencoder and its artifact (shared/anomaly/model.py): save, load, push, refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import quick_model
from huggingface_hub import ModelCard, constants

from shared.anomaly.builtin import load_builtin
from shared.anomaly.model import (
    Autoencoder,
    AutoencoderConfig,
    ModelShapeError,
    load_autoencoder,
    weight_bytes,
)
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.errors import UserInputError
from shared.hub import ModelSourceError, push_folder
from tests.spaces.anomaly.test_app import _app_with_model


# --- the model: training, round trips, the planted anomaly ----------------------------------
@pytest.fixture(scope="module")
def quick():
    return quick_model("anomaly")


def test_quick_artifact_loads_and_its_card_carries_the_metrics(quick):
    assert {"config.json", "model.safetensors", "metrics.json", "README.md"} <= {
        p.name for p in quick.iterdir()
    }
    model = load_autoencoder(quick)
    card = ModelCard.load(quick / "README.md")
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    test = pd.read_json(quick / "metrics.json", typ="series")["test"]
    assert results["roc_auc"] == pytest.approx(test["roc_auc"])
    assert model.config.threshold == pytest.approx(test["threshold"])
    assert model.config.mean and model.config.window > 0  # raw input reproduces scores


def test_save_load_reproduces_scores_exactly(tmp_path):
    data = load_builtin("breast_cancer")
    result = train_autoencoder(data, TrainSettings(epochs=3))
    result.model.save(tmp_path / "m")
    loaded = load_autoencoder(tmp_path / "m")
    np.testing.assert_array_equal(loaded.score(data.test), result.model.score(data.test))
    assert loaded.config == result.model.config
    # scored (and scaled) a batch at a time: the same numbers, the same shape checks when empty
    np.testing.assert_allclose(
        loaded.score(data.test, batch_size=7), loaded.score(data.test), rtol=1e-5
    )
    assert loaded.score(data.test[:0]).shape == (0,)
    with pytest.raises(ModelShapeError, match="expects 30 columns"):
        loaded.score(data.test[:0, :3])


def test_strict_loading_refuses_missing_weights(tmp_path, quick):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "m"
    shutil.copytree(quick, folder)
    weights = load_file(folder / "model.safetensors")
    weights.pop(next(iter(weights)))
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelSourceError, match="do not fit its config.json"):
        load_autoencoder(folder)


def test_repo_id_loads_from_the_offline_cache(quick):
    sha = "a" * 40
    root = Path(constants.HF_HUB_CACHE) / "models--someorg--anomaly-test"
    shutil.copytree(quick, root / "snapshots" / sha)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(sha)
    model, local = load_autoencoder("someorg/anomaly-test"), load_autoencoder(quick)
    probe = np.random.default_rng(0).normal(size=(5, local.config.n_features))
    np.testing.assert_array_equal(model.score(probe), local.score(probe))


def test_push_uploads_the_artifact_folder_that_reloads(quick, monkeypatch, fake_hub):
    push_folder(quick, "someorg/anomaly-autoencoder")
    calls = fake_hub["upload"]
    uploaded = Path(calls["folder_path"])
    assert uploaded == quick and calls["repo_id"] == "someorg/anomaly-autoencoder"
    assert {"model.safetensors", "config.json", "metrics.json", "README.md"} <= {
        p.name for p in uploaded.iterdir()
    }
    app = _app_with_model(monkeypatch, uploaded)
    assert app.SESSIONS.served.model is not None and "Model loaded from" in app.model_info()


def test_a_config_with_an_unknown_rule_is_refused(tmp_path, quick):
    import json

    folder = tmp_path / "m"
    shutil.copytree(quick, folder)
    config = json.loads((folder / "config.json").read_text())
    config["rule_thresholds"]["median"] = 0.5
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelSourceError, match="threshold rules must be among"):
        load_autoencoder(folder)


def test_weight_bytes_is_what_the_built_model_weighs():
    for config in (AutoencoderConfig(200), AutoencoderConfig(140, variant="conv", latent=7)):
        built = sum(p.numel() * p.element_size() for p in Autoencoder(config).parameters())
        assert weight_bytes(config) == built


def test_wide_models_score_in_smaller_batches_with_the_same_errors():
    model = Autoencoder(AutoencoderConfig(3000, mean=[0.0], std=[1.0]))
    x = np.random.default_rng(1).normal(size=(1500, 3000)).astype(np.float32)
    assert model.widest() == 3000 and 2**21 // 3000 == 699  # so 699 rows a batch, not 8,192
    np.testing.assert_allclose(model.score(x), model.score(x, batch_size=1500), rtol=1e-5)


def test_check_size_refuses_a_model_over_the_cap_before_it_is_built():
    from shared.anomaly.model import MAX_MODEL_MB, check_size, largest_window

    window = largest_window(MAX_MODEL_MB)
    check_size(window, "dense", 0)  # the largest allowed passes
    with pytest.raises(UserInputError, match=f"of {window + 1:,} inputs would weigh 20.0 MB; a"):
        check_size(window + 1, "dense", 0)
    # the latent size counts too, and the refusal says how to get a smaller model
    with pytest.raises(UserInputError, match="smaller latent size") as info:
        check_size(200, "dense", 1024, max_mb=0.1)
    assert "would weigh 0.3 MB; a model trained here may weigh 0.1 MB" in str(info.value)
    check_size(200, "dense", 1024, max_mb=0.5)  # 200 inputs, latent 1024: 0.26 MB of float32
