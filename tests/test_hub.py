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


# --- resolve_source: which folder, and the exact message for each kind of bad source --------


def test_relative_and_home_folders_resolve_to_absolute_paths(tmp_path, monkeypatch):
    folder = make_model_folder(tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    assert resolve_source("m") == folder.resolve() and resolve_source("m").is_absolute()
    assert resolve_source("  m  ") == folder.resolve()  # pasted with spaces around it
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_source("~/m") == folder.resolve()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "The model source is empty: give a folder or a Hub repo id."),
        ("..", "Model source '..' contains '..'; give a plain path or id."),
        ("a\\..\\b", "Model source 'a\\\\..\\\\b' contains '..'; give a plain path or id."),
        ("org/name@..", "Model source 'org/name@..' contains '..'; give a plain path or id."),
        ("./nope", "Model folder './nope' does not exist."),
        ("/nope/x", "Model folder '/nope/x' does not exist."),
        ("~no-such-user-x", "Model folder '~no-such-user-x' does not exist."),
        ("a/b/c", "Model folder 'a/b/c' does not exist."),
        (
            "no repo/x",
            "'no repo/x' is neither an existing folder nor a Hub repo id like 'org/name'.",
        ),
        ("plain", "'plain' is neither an existing folder nor a Hub repo id like 'org/name'."),
    ],
)
def test_bad_source_messages_are_exact(source, message, monkeypatch):
    monkeypatch.setattr(hub, "snapshot_download", pytest.fail)  # none of these is a repo id
    with pytest.raises(ModelSourceError) as info:
        resolve_source(source)
    assert str(info.value) == message


def test_dots_inside_names_are_not_parent_folders(tmp_path):
    folder = make_model_folder(tmp_path / "v1..2")
    assert resolve_source(folder) == folder.resolve()


def test_a_file_message_names_it(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"")
    with pytest.raises(ModelSourceError) as info:
        resolve_source(tmp_path / "f.bin")
    assert (
        str(info.value)
        == f"Model source '{tmp_path / 'f.bin'}' is a file; give the folder that holds it."
    )


def test_missing_files_are_all_named_with_what_the_folder_holds(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelSourceError) as info:
        resolve_source(empty, required=("config.json", "model.safetensors"))
    assert str(info.value) == (
        f"Model folder '{empty}' is missing config.json, model.safetensors (it holds: nothing)."
    )
    folder = make_model_folder(tmp_path / "m")
    (folder / "model.safetensors").mkdir()  # a folder of that name is not the file
    (folder / "b.txt").write_text("")
    with pytest.raises(ModelSourceError) as info:
        resolve_source(folder, required=("config.json", "model.safetensors"))
    assert str(info.value) == (
        f"Model folder '{folder}' is missing model.safetensors "
        "(it holds: b.txt, config.json, model.safetensors, weights.bin)."
    )
    assert resolve_source(folder, required=("config.json", "b.txt")) == folder.resolve()
    assert resolve_source(empty, required=()) == empty.resolve()


@pytest.mark.parametrize(
    ("source", "repo", "revision"),
    [
        ("org/name", "org/name", None),
        ("  org/name  ", "org/name", None),
        ("Org-1/my_model.v2@main", "Org-1/my_model.v2", "main"),
        ("org/name@refs/pr/3", "org/name", "refs/pr/3"),
        ("o/" + "n" * 96, "o/" + "n" * 96, None),
        ("o/n@" + "r" * 200, "o/n", "r" * 200),
    ],
)
def test_repo_ids_download_the_named_repo_and_revision(
    tmp_path, monkeypatch, source, repo, revision
):
    make_model_folder(tmp_path / "snap")
    got = []

    def download(repo_id, revision=None):
        got.append((repo_id, revision))
        return str(tmp_path / "snap")

    monkeypatch.setattr(hub, "snapshot_download", download)
    assert resolve_source(source) == tmp_path / "snap"
    assert got == [(repo, revision)]


@pytest.mark.parametrize(
    "source",
    ["o/" + "n" * 97, "o" * 97 + "/n", "o/n@" + "r" * 201, "o/n@", "_o/n", "o/_n", "o/n@a b"],
)
def test_ids_outside_the_hub_rule_are_not_looked_up(monkeypatch, source):
    monkeypatch.setattr(hub, "snapshot_download", pytest.fail)
    with pytest.raises(ModelSourceError, match="neither an existing folder nor a Hub repo id"):
        resolve_source(source)


class _Response:  # what huggingface_hub's HTTP errors read from a response
    headers: dict = {}
    request = None


@pytest.mark.parametrize(
    ("error", "offline", "message"),
    [
        (
            hub.OfflineModeIsEnabled("off"),
            True,
            "HF_HUB_OFFLINE is set and there is no cached copy of 'org/m@v2'. "
            "Go online once, or train a model locally.",
        ),
        (
            hub.LocalEntryNotFoundError("none"),
            False,
            "Could not reach the Hugging Face Hub for 'org/m@v2' and no cached copy exists. "
            "Check your connection, or train a model locally.",
        ),
        (
            hub.RepositoryNotFoundError("404", response=_Response()),
            False,
            "Hub repo 'org/m' does not exist or is private.",
        ),
        (
            hub.RevisionNotFoundError("404", response=_Response()),
            False,
            "Hub repo 'org/m' has no revision 'v2'.",
        ),
        (
            hub.HfHubHTTPError("500 boom", response=_Response()),
            False,
            "The Hub refused 'org/m@v2': 500 boom",
        ),
    ],
)
def test_hub_failures_name_the_cause(monkeypatch, error, offline, message):
    def download(repo_id, revision=None):
        raise error

    monkeypatch.setattr(hub, "snapshot_download", download)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    with pytest.raises(ModelSourceError) as info:
        resolve_source("org/m@v2")
    assert str(info.value) == message
    assert info.value.__cause__ is error


def test_failures_without_a_revision_name_the_bare_repo(monkeypatch):
    def download(repo_id, revision=None):
        raise hub.HfHubHTTPError("503", response=_Response())

    monkeypatch.setattr(hub, "snapshot_download", download)
    with pytest.raises(ModelSourceError) as info:
        resolve_source("org/m")
    assert str(info.value) == "The Hub refused 'org/m': 503"
    monkeypatch.undo()  # the real snapshot_download, reading the tests' empty offline cache
    with pytest.raises(ModelSourceError) as info:
        resolve_source("org/never-cached")  # the real offline cache, empty for this repo
    assert str(info.value) == (
        "HF_HUB_OFFLINE is set and there is no cached copy of 'org/never-cached'. "
        "Go online once, or train a model locally."
    )


# --- where models live by default ------------------------------------------------------------


def test_artifacts_dir_is_the_env_var_or_artifacts_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARTIFACTS_DIR")
    assert hub.artifacts_dir() == tmp_path.resolve() / "artifacts"
    monkeypatch.setenv("ARTIFACTS_DIR", "elsewhere")
    assert hub.artifacts_dir() == tmp_path.resolve() / "elsewhere"


@pytest.mark.parametrize(
    ("app", "name"),
    [
        ("anomaly", "anomaly-autoencoder"),
        ("cbow", "cbow-word2vec"),
        ("transfer", "transfer-cnn"),
        ("detect", "detect-fcos"),
        ("anomaly_uses", "anomaly-uses"),
    ],
)
def test_default_repo_per_app_under_the_org(monkeypatch, app, name):
    assert hub.default_repo(app) == f"dl-labs-demo/{name}"
    monkeypatch.setenv("HUB_ORG", "me")
    assert hub.default_repo(app) == f"me/{name}"


def test_bundle_repo_reads_only_this_apps_entry(tmp_path):
    assert hub.bundle_repo("cbow", None) is None
    assert hub.bundle_repo("cbow", tmp_path) is None  # no models.json: not a bundle
    (tmp_path / "models.json").mkdir()
    assert hub.bundle_repo("cbow", tmp_path) is None  # not a file
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    hub.save_json(bundle / "models.json", {"cbow": "org/vectors", "anomaly": "", "detect": None})
    assert hub.bundle_repo("cbow", bundle) == "org/vectors"
    assert hub.bundle_repo("anomaly", bundle) is None  # empty entry: as if none
    assert hub.bundle_repo("detect", bundle) is None
    assert hub.bundle_repo("transfer", bundle) is None
    assert hub.bundle_repo("cbow", str(bundle)) == "org/vectors"  # a str folder works too


# --- locate_model: labels, precedence and the hint --------------------------------------------


def test_locate_model_labels_say_where_the_model_came_from(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.delenv("HUB_ORG", raising=False)
    assert locate_model("transfer").source == "dl-labs-demo/transfer-cnn"
    local = make_model_folder(tmp_path / "artifacts" / "transfer")
    found = locate_model("transfer")
    assert found == hub.ModelLocation(local.resolve(), str(local.resolve()), None)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    hub.save_json(bundle / "models.json", {"transfer": "org/bundled"})
    snapshot = cache_repo("org/bundled")
    assert locate_model("transfer", app_dir=bundle) == hub.ModelLocation(
        snapshot, "org/bundled (the repo this Space was built for)", None
    )
    chosen = make_model_folder(tmp_path / "chosen")
    monkeypatch.setenv("TRANSFER_MODEL", f"  {chosen}  ")
    assert locate_model("transfer", app_dir=bundle) == hub.ModelLocation(
        chosen.resolve(), f"$TRANSFER_MODEL ({chosen})", None
    )
    monkeypatch.setenv("TRANSFER_MODEL", "   ")  # blank: as if unset
    assert locate_model("transfer", app_dir=bundle).folder == snapshot
    monkeypatch.setenv("CBOW_MODEL", str(chosen))  # another app's variable is not this app's
    assert locate_model("transfer").folder == local.resolve()


def test_locate_model_checks_the_required_files_and_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    local = make_model_folder(tmp_path / "artifacts" / "anomaly")
    assert (
        locate_model("anomaly", required=("config.json", "weights.bin")).folder == local.resolve()
    )
    missing = locate_model("anomaly", required=("config.json", "model.safetensors"))
    assert missing.folder is None and missing.source == str(local.resolve())
    assert missing.error == (
        f"No anomaly model loaded from {local.resolve()}: Model folder '{local.resolve()}' is "
        "missing model.safetensors (it holds: config.json, weights.bin). "
        "Train one with `python -m training.anomaly` (or `make train`), "
        "or set ANOMALY_MODEL to a model folder or Hub repo id."
    )


# --- saving, cards, pushing --------------------------------------------------------------------


def test_save_json_is_sorted_indented_and_ends_with_a_newline(tmp_path):
    hub.save_json(tmp_path / "c.json", {"b": 1, "a": [2]})
    assert (tmp_path / "c.json").read_text() == '{\n  "a": [\n    2\n  ],\n  "b": 1\n}\n'
    assert hub.load_json(str(tmp_path / "c.json")) == {"a": [2], "b": 1}


def test_model_card_metadata_and_page(tmp_path):
    results = [
        EvalResult(
            task_type="image-classification",
            dataset_type="digits",
            dataset_name="Digits",
            metric_type="accuracy",
            metric_value=0.987654,
        ),
        EvalResult(
            task_type="image-classification",
            dataset_type="digits",
            dataset_name="Digits",
            metric_type="f1",
            metric_value=12345.678,
            metric_name="macro F1",
        ),
    ]
    returned = hub.write_model_card(
        tmp_path,
        title="Digit CNN",
        summary="Reads digits.",
        library_name="timm",
        tags=["a", "b"],
        datasets=["digits"],
        eval_results=results,
        command="python -m training.transfer",
        usage="\n  import timm  \n\n",
        pipeline_tag="image-classification",
        extra="Extra words.",
    )
    card = ModelCard.load(tmp_path / "README.md")
    assert str(card) == str(returned)
    assert card.data.license == "mit"
    assert card.data.pipeline_tag == "image-classification"
    assert card.data.tags == ["a", "b"] and card.data.datasets == ["digits"]
    assert card.data.model_name == "Digit CNN"
    assert [(r.metric_type, r.metric_value) for r in card.data.eval_results] == [
        ("accuracy", pytest.approx(0.987654)),
        ("f1", pytest.approx(12345.678)),
    ]
    assert card.text == (
        "\n# Digit CNN\n\nReads digits.\n\n## Results\n\n"
        "| dataset | metric | value |\n|---|---|---|\n"
        "| Digits | accuracy | 0.9877 |\n| Digits | macro F1 | 1.235e+04 |\n\n"
        "## Use\n\n```python\nimport timm\n```\n\n"
        "## Training\n\n```bash\npython -m training.transfer\n```\n\n"
        "The resolved training configuration is in `config.json`, every metric in `metrics.json`.\n"
        "Extra words."
    )


@pytest.mark.parametrize("repo_id", ["no-slash", "org/name@main", "a/b/c", "", "org/"])
def test_push_refuses_a_bad_repo_id_before_any_call(tmp_path, fake_hub, repo_id):
    with pytest.raises(ModelSourceError) as info:
        hub.push_folder(tmp_path, repo_id)
    assert str(info.value) == f"{repo_id!r} is not a Hub repo id like 'org/name'."
    assert fake_hub["log"] == []


def test_check_repo_id_returns_a_good_id():
    assert hub.check_repo_id("org/name.v2") == "org/name.v2"


@pytest.mark.parametrize(
    ("repo_type", "sdk", "token", "message", "commit"),
    [
        ("model", None, None, "", "Upload model-dir"),
        ("space", "gradio", "hf_visitor", "Deploy it", "Deploy it"),
        ("dataset", None, "hf_other", "", "Upload model-dir"),
    ],
)
def test_push_creates_then_uploads_with_the_right_kind_and_token(
    tmp_path, fake_hub, repo_type, sdk, token, message, commit
):
    folder = make_model_folder(tmp_path / "model-dir")
    given = {"message": message} if message else {}  # the default message names the folder
    url = hub.push_folder(folder, "org/target", repo_type=repo_type, token=token, **given)
    assert url == "https://huggingface.co/org/target"
    auth = {"token": token} if token else {}
    assert [(kind, args) for kind, args, _ in fake_hub["log"]] == [
        (
            "create",
            {
                "repo_id": "org/target",
                "repo_type": repo_type,
                "exist_ok": True,
                "space_sdk": sdk,
                **auth,
            },
        ),
        (
            "upload",
            {
                "repo_id": "org/target",
                "folder_path": str(folder),
                "repo_type": repo_type,
                "commit_message": commit,
                **auth,
            },
        ),
    ]
    assert fake_hub["log"][1][2] == conftest.folder_files(folder)


def test_model_card_defaults_have_no_pipeline_tag_and_no_extra(tmp_path):
    card = hub.write_model_card(
        tmp_path,
        title="T",
        summary="S",
        library_name="pytorch",
        tags=[],
        datasets=[],
        eval_results=[],
        command="c",
        usage="u",
    )
    assert card.data.pipeline_tag is None
    assert card.text.endswith("every metric in `metrics.json`.\n")
    assert "|---|---|---|\n\n\n## Use" in card.text  # no results: an empty table
