"""Space bundles: self-contained folders that run with nothing but themselves on sys.path."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import runpy
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, cache_repo, folder_files, free_port, quick_model
from gradio_client import Client
from huggingface_hub import SpaceCard

APPS = ("anomaly", "cbow", "transfer")
COMPANIONS = {"transfer": ("detect",), "anomaly": ("anomaly_uses",)}  # served besides its own

# Run a bundle the way Spaces does (`python app.py`), but with the checkout's editable install
# of `shared` switched off, so only the bundle's own copy can be imported.
BOOT = """
import sys, runpy
sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f)]
sys.path = [p for p in sys.path if p not in ("", {repo!r})]
sys.path.insert(0, ".")
import shared
print("SHARED", shared.__file__, flush=True)
runpy.run_path("app.py", run_name="__main__")
"""

# Each app's real call over HTTP: (api_name, args, a check on the answer).
PROBES = {
    "anomaly": ("/detect", ("ecg", 0, None, "", False), lambda answer: "flagged" in answer[2]),
    "cbow": ("/most_similar", ("police", 3), lambda answer: len(answer["data"]) == 3),
    "transfer": ("/classify_example", (0,), lambda answer: answer[1]["label"] in "0123456789"),
}


def load_deploy():
    spec = importlib.util.spec_from_file_location(
        "deploy_under_test", REPO / "spaces" / "deploy.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pinned(path) -> dict[str, str]:
    return dict(line.split("==") for line in path.read_text().split() if "==" in line)


@pytest.mark.parametrize("app", APPS)
def test_bundle_layout_and_front_matter(tmp_path, app, monkeypatch):
    monkeypatch.setenv("HUB_ORG", "someorg")
    out = load_deploy().build_bundle(app, tmp_path / "space")
    assert (out / "app.py").read_text() == (REPO / "spaces" / app / "app.py").read_text()
    assert (out / "shared" / "hub.py").is_file() and not list(out.rglob("__pycache__"))
    root_pins = pinned(REPO / "requirements.txt")
    bundle_pins = pinned(out / "requirements.txt")
    assert bundle_pins and all(root_pins[k] == v for k, v in bundle_pins.items())
    card = SpaceCard.load(out / "README.md").data
    assert card.sdk == "gradio" and card.sdk_version == root_pins["gradio"]
    assert card.app_file == "app.py" and card.python_version == "3.11"
    repos = [f"someorg/{load_deploy().REPO_NAMES[app]}"]
    repos += [f"someorg/{load_deploy().REPO_NAMES[c]}" for c in COMPANIONS.get(app, ())]
    assert card.models == repos and card.preload_from_hub == repos
    # Spaces OAuth, so a signed-in visitor can push a model they trained to their account
    assert card.hf_oauth is True and card.hf_oauth_scopes == ["write-repos"]
    assert sorted(json.loads((out / "models.json").read_text()).values()) == sorted(repos)


def test_transfer_bundle_carries_the_detector_given(tmp_path):
    out = load_deploy().build_bundle("transfer", tmp_path / "s", "me/clf", "me/boxes")
    assert json.loads((out / "models.json").read_text()) == {
        "transfer": "me/clf",
        "detect": "me/boxes",
    }
    assert SpaceCard.load(out / "README.md").data.preload_from_hub == ["me/clf", "me/boxes"]
    assert (out / "detect_tab.py").is_file() == (REPO / "spaces/transfer/detect_tab.py").is_file()
    with pytest.raises(SystemExit, match="--detector: the cbow app has no detector"):
        load_deploy().build_bundle("cbow", tmp_path / "c", None, "me/boxes")
    with pytest.raises(SystemExit, match="--detector: the anomaly app has no detector"):
        load_deploy().build_bundle("anomaly", tmp_path / "a", None, "me/boxes")
    with pytest.raises(SystemExit, match="--detector: 'nope' is not a Hub repo id"):
        load_deploy().build_bundle("transfer", tmp_path / "t", None, "nope")


def test_bundle_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty"):
        load_deploy().build_bundle("cbow", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def start_bundle(bundle: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Client]:
    """Run `python app.py` in `bundle` as a Space does; return the process and a client."""
    port = free_port()
    env = {**env, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-c", BOOT.format(repo=str(REPO))],
        cwd=bundle,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = proc.stdout.readline()
    assert first.startswith("SHARED " + str(bundle)), first
    deadline = time.monotonic() + 120
    while True:
        try:
            return proc, Client(f"http://127.0.0.1:{port}/", verbose=False)
        except Exception:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read()) from None
            assert time.monotonic() < deadline, "bundle did not start in 120 s"
            time.sleep(0.5)


def space_env(hf_home: Path) -> dict[str, str]:
    """The environment of a Space: the preloaded HF cache, offline, no model variables."""
    drop = {"HUB_ORG", "ARTIFACTS_DIR", "HF_HUB_CACHE", "PYTHONPATH"}
    drop |= {f"{app.upper()}_MODEL" for app in (*APPS, "detect", "anomaly_uses")}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS)
def test_bundle_serves_the_model_it_was_built_for(tmp_path, app):
    repo = "some-org/a-non-default-name"
    detector = "some-org/a-non-default-detector" if app == "transfer" else None
    subprocess.run(
        [sys.executable, "spaces/deploy.py", app, "--out", str(tmp_path / "space")]
        + ["--model", repo]
        + (["--detector", detector] if detector else []),
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    bundle = tmp_path / "space"
    expected = {app: repo, **({"detect": detector} if detector else {})}
    defaults = {c: load_deploy().default_repo(c) for c in COMPANIONS.get(app, ()) if c != "detect"}
    expected |= defaults  # a companion no flag names: its default repo
    assert json.loads((bundle / "models.json").read_text()) == expected
    # What preload_from_hub leaves behind: the repo in the Space's HF cache, and nothing else.
    cache_repo(repo, quick_model(app), cache=tmp_path / "hf" / "hub")
    if detector:
        cache_repo(detector, quick_model("detect"), cache=tmp_path / "hf" / "hub")
    for companion, default in defaults.items():
        cache_repo(default, quick_model(companion), cache=tmp_path / "hf" / "hub")
    proc, client = start_bundle(bundle, space_env(tmp_path / "hf"))
    try:
        status = client.predict(api_name="/model_info")
        assert repo in status and "not trained" not in status, status
        api_name, args, check = PROBES[app]
        assert check(client.predict(*args, api_name=api_name))
        if detector:  # the Detect tab answers from the detector repo the bundle names
            _, table, summary = client.predict(3, 0.05, api_name="/detect_scene")
            assert table["data"] and "Scene 3 holds the digits" in summary
        if "anomaly_uses" in defaults:  # the uses tab answers from its companion repo
            *_, psnr = client.predict(7, 0.3, api_name="/uses_denoise")
            assert "PSNR against the clean digit: noisy" in psnr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_bundle_says_which_repo_it_could_not_load(tmp_path):
    bundle = load_deploy().build_bundle("cbow", tmp_path / "space", "some-org/not-cached")
    proc, client = start_bundle(bundle, space_env(tmp_path / "hf"))
    try:
        status = client.predict(api_name="/model_info")
        assert "some-org/not-cached" in status and "dl-labs-demo" not in status, status
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_bundle_refuses_a_malformed_model_repo(tmp_path):
    with pytest.raises(SystemExit, match="not a Hub repo id"):
        load_deploy().build_bundle("cbow", tmp_path / "space", "no-org-here")
    assert not (tmp_path / "space").exists()


def test_push_uploads_exactly_the_bundle_as_a_space(tmp_path, fake_hub):
    load_deploy().main(
        ["anomaly", "--out", str(tmp_path / "pushed"), "--model", "me/ae"]
        + ["--push-to-hub", "me/anomaly-lab"]
    )
    (kind, create, _), (_, upload, uploaded) = fake_hub["log"]
    assert kind == "create" and create["repo_id"] == "me/anomaly-lab"
    assert create["repo_type"] == "space" and create["space_sdk"] == "gradio"
    assert upload["repo_id"] == "me/anomaly-lab" and upload["repo_type"] == "space"
    # the same build into another folder: the upload held exactly these files and bytes
    again = load_deploy().build_bundle("anomaly", tmp_path / "again", "me/ae")
    assert uploaded == folder_files(again)
    assert json.loads(uploaded["models.json"]) == {
        "anomaly": "me/ae",
        "anomaly_uses": "dl-labs-demo/anomaly-uses",  # the uses tab's companion, by default
    }


def publishing_commands() -> list[list[str]]:
    """The bash commands of README.md's Publishing section, continuation lines joined."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Publishing", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)[1]
    lines = re.sub(r"\\\n\s*", " ", block).splitlines()
    return [shlex.split(line.split("#", 1)[0]) for line in lines if line.strip()]


@pytest.mark.slow
def test_readme_publishing_commands_do_what_they_say(tmp_path, monkeypatch, fake_hub):
    commands = publishing_commands()
    assert [c[:3] for c in commands] == [
        ["python", "-m", "training.cbow"],
        ["python", "spaces/deploy.py", "cbow"],
    ]
    monkeypatch.chdir(tmp_path)  # the README's relative --out lands here
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    for command in commands:
        argv = [arg.replace("ORG/", "test-org/") for arg in command]
        monkeypatch.setattr(sys, "argv", argv[2:] if argv[1] == "-m" else argv[1:])
        if argv[1] == "-m":
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(str(REPO / argv[1]), run_name="__main__")
    (_, model, _), (_, weights, files), (_, space, _), (_, bundle, bundled) = fake_hub["log"]
    assert model["repo_id"] == weights["repo_id"] == "test-org/cbow-word2vec"
    assert weights["repo_type"] == "model" and {"vectors.bin", "config.json"} <= set(files)
    assert space["repo_id"] == bundle["repo_id"] == "test-org/cbow-lab"
    assert bundle["repo_type"] == "space" and "app.py" in bundled
    assert json.loads(bundled["models.json"]) == {"cbow": "test-org/cbow-word2vec"}


def test_spaces_is_not_an_importable_package():
    # `spaces` is the Hugging Face ZeroGPU package's name on Spaces
    assert not (REPO / "spaces" / "__init__.py").exists()


@pytest.mark.parametrize("app", APPS)
def test_checked_in_front_matter_matches_pins(app):
    card = SpaceCard.load(REPO / "spaces" / app / "README.md").data
    assert card.sdk_version == pinned(REPO / "requirements.txt")["gradio"]
    assert re.fullmatch(r"\d+\.\d+", card.python_version)
