"""`shared.app.served.load_default`: the one loader of every app's default model."""

from __future__ import annotations

import json

import pytest

from shared.app.served import load_default
from shared.errors import UserInputError


@pytest.fixture
def folder(tmp_path, monkeypatch):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "weights.bin").write_bytes(b"w")
    monkeypatch.setenv("ANOMALY_MODEL", str(model))
    return model


def test_returns_what_the_loader_read_with_the_folders_metrics_and_source(folder):
    (folder / "metrics.json").write_text(json.dumps({"test": {"f1": 0.75}}))
    seen = []
    model, metrics, status = load_default(
        "anomaly", ("config.json", "weights.bin"), lambda f: seen.append(f) or "the model"
    )
    assert (model, metrics) == ("the model", {"test": {"f1": 0.75}})
    assert seen == [folder]
    assert status == f"Model loaded from `$ANOMALY_MODEL ({folder})`."


def test_without_metrics_json_the_metrics_are_empty(folder):
    loaded = load_default("anomaly", ("config.json",), lambda f: 1, what="Detector")
    assert loaded.model == 1 and loaded.metrics == {}
    assert loaded.status.startswith("Detector loaded from")


def test_a_missing_file_says_which_and_how_to_train_one_without_calling_the_loader(folder):
    def never(_):
        raise AssertionError("the loader ran on an incomplete folder")

    model, metrics, status = load_default("anomaly", ("config.json", "model.safetensors"), never)
    assert model is None and metrics == {}
    assert status.startswith("⚠️ **Model not trained yet.**")
    assert "model.safetensors" in status and "python -m training.anomaly" in status


@pytest.mark.parametrize("error", [UserInputError, OSError, ValueError])
def test_a_folder_the_loader_refuses_is_named_with_the_reason(folder, error):
    def refuse(_):
        raise error("a pickle")

    model, metrics, status = load_default("anomaly", ("config.json",), refuse, what="Detector")
    assert model is None and metrics == {}
    assert status == (
        f"⚠️ **Detector could not be loaded** from `$ANOMALY_MODEL ({folder})`: a pickle"
    )


def test_an_unreadable_metrics_json_is_named_too(folder):
    (folder / "metrics.json").write_text("{not json")
    model, _, status = load_default("anomaly", ("config.json",), lambda f: 1)
    assert model is None and "could not be loaded" in status


def test_a_bug_in_the_loader_is_not_hidden_as_a_bad_folder(folder):
    def buggy(_):
        raise KeyError("programming error")

    with pytest.raises(KeyError):
        load_default("anomaly", ("config.json",), buggy)
