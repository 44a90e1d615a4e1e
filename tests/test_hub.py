"""Model sources, the apps' lookup order, model cards and pushing (network calls patched)."""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import mkdtemp

import conftest
import pytest
from huggingface_hub import EvalResult, ModelCard, constants

from shared import hub
from shared.hub import ModelSourceError, locate_model, resolve_source

SHA = "0123456789abcdef0123456789abcdef01234567"


def make_model_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    hub.save_json(folder / "config.json", {"kind": "test"})
    (folder / "weights.bin").write_bytes(b"\0" * 8)
    return folder


def cache_repo(repo_id: str, revision: str = SHA) -> Path:
    """A small model folder in the tests' offline HF cache as `repo_id`."""
    return conftest.cache_repo(repo_id, make_model_folder(Path(mkdtemp()) / "m"), revision=revision)


def test_local_folder_is_used_as_it_is(tmp_path):
    folder = make_model_folder(tmp_path / "m")
    assert resolve_source(str(folder)) == folder.resolve()


def test_repo_id_resolves_from_offline_cache():
    snapshot = cache_repo("someorg/cached-model")
    assert constants.HF_HUB_OFFLINE
    assert resolve_source("someorg/cached-model") == snapshot
    assert resolve_source(f"someorg/cached-model@{SHA}") == snapshot


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("../etc", "'..'"),
        ("org/../../x", "'..'"),
        ("org/name@../../main", "'..'"),
        ("./no/such/folder", "does not exist"),
        ("/no/such/folder", "does not exist"),
        ("a/b/c", "does not exist"),
        ("not a repo!", "neither an existing folder nor a Hub repo id"),
        ("-bad/name", "neither an existing folder nor a Hub repo id"),
        ("someorg/never-cached", "HF_HUB_OFFLINE is set and there is no cached copy"),
    ],
)
def test_bad_sources_get_clear_messages(source, message):
    with pytest.raises(ModelSourceError, match=message) as info:
        resolve_source(source)
    assert "Traceback" not in str(info.value)


def test_folder_missing_required_files_names_them(tmp_path):
    folder = make_model_folder(tmp_path / "m")
    with pytest.raises(ModelSourceError, match=r"missing model.safetensors \(it holds: config"):
        resolve_source(folder, required=("config.json", "model.safetensors"))


def test_a_file_is_not_a_folder(tmp_path):
    file = tmp_path / "config.json"
    file.write_text("{}")
    with pytest.raises(ModelSourceError, match="is a file"):
        resolve_source(file)


def test_locate_model_order(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("HUB_ORG", "someorg")
    # 3. nothing local: the default Hub repo, which is not cached -> a message, no exception
    missing = locate_model("cbow")
    assert missing.folder is None
    assert missing.source == "someorg/cbow-word2vec"
    assert "python -m training.cbow" in missing.error and "CBOW_MODEL" in missing.error
    # ... and from the cache once it is there
    snapshot = cache_repo("someorg/cbow-word2vec")
    assert locate_model("cbow").folder == snapshot
    # 3. artifacts/<app>/ beats the Hub
    local = make_model_folder(tmp_path / "artifacts" / "cbow")
    assert locate_model("cbow").folder == local.resolve()
    # 2. a Space bundle's models.json beats both (a Space has no artifacts/, but be sure)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    hub.save_json(bundle / hub.BUNDLE_MODELS, {"cbow": "otherorg/my-vectors"})
    unbuilt = locate_model("cbow", app_dir=bundle)
    assert unbuilt.folder is None and "otherorg/my-vectors" in unbuilt.error
    assert "someorg" not in unbuilt.error and "artifacts" not in unbuilt.error
    bundled = cache_repo("otherorg/my-vectors")
    assert locate_model("cbow", app_dir=bundle).folder == bundled
    assert "otherorg/my-vectors" in locate_model("cbow", app_dir=bundle).source
    # ... only for the app it names: another app's models.json entry is not this app's
    assert locate_model("anomaly", app_dir=bundle).source == "someorg/anomaly-autoencoder"
    # 1. the env var beats all
    chosen = make_model_folder(tmp_path / "chosen")
    monkeypatch.setenv("CBOW_MODEL", str(chosen))
    assert locate_model("cbow").folder == chosen.resolve()
    assert locate_model("cbow", app_dir=bundle).folder == chosen.resolve()
    monkeypatch.setenv("CBOW_MODEL", "../escape")
    bad = locate_model("cbow")
    assert bad.folder is None and "'..'" in bad.error


def test_model_card_carries_real_metrics(tmp_path):
    results = [
        EvalResult(
            task_type="tabular-classification",
            dataset_type="ecg",
            dataset_name="ECG",
            metric_type="roc_auc",
            metric_value=0.9321,
            metric_name="ROC-AUC",
        ),
    ]
    hub.write_model_card(
        tmp_path,
        title="Test model",
        summary="A test.",
        library_name="pytorch",
        tags=["anomaly-detection"],
        datasets=["ecg"],
        eval_results=results,
        command="python -m training.anomaly --quick",
        usage="print('hi')",
    )
    card = ModelCard.load(tmp_path / "README.md")
    assert card.data.eval_results[0].metric_value == pytest.approx(0.9321)
    assert card.data.library_name == "pytorch"
    assert "python -m training.anomaly --quick" in card.text
    assert "| ECG | ROC-AUC | 0.9321 |" in card.text


def test_push_uploads_exactly_the_saved_folder(tmp_path, fake_hub):
    folder = make_model_folder(tmp_path / "model")
    calls = fake_hub
    url = hub.push_folder(folder, "someorg/pushed")
    assert url.endswith("someorg/pushed")
    assert calls["create"] == {
        "repo_id": "someorg/pushed",
        "repo_type": "model",
        "exist_ok": True,
        "space_sdk": None,
    }
    assert calls["upload"]["folder_path"] == str(folder)
    assert calls["upload"]["repo_id"] == "someorg/pushed"
    assert sorted(p.name for p in Path(calls["upload"]["folder_path"]).iterdir()) == [
        "config.json",
        "weights.bin",
    ]
    assert resolve_source(calls["upload"]["folder_path"]) == folder.resolve()
    with pytest.raises(ModelSourceError, match="not a Hub repo id"):
        hub.push_folder(folder, "no-slash")


def test_json_round_trip(tmp_path):
    data = {"b": [1, 2.5], "a": {"x": None}}
    hub.save_json(tmp_path / "c.json", data)
    assert hub.load_json(tmp_path / "c.json") == data
    assert json.loads((tmp_path / "c.json").read_text()) == data
