"""Space bundles: self-contained folders that run with nothing but themselves on sys.path."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import REPO, free_port, quick_model
from gradio_client import Client
from huggingface_hub import SpaceCard

APPS = ("anomaly", "cbow", "transfer")

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
    "transfer": ("/classify_example", (0,), lambda answer: answer[1]["label"] in list("56789")),
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
    repo = f"someorg/{load_deploy().REPO_NAMES[app]}"
    assert card.models == [repo] and card.preload_from_hub == [repo]


def test_bundle_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty"):
        load_deploy().build_bundle("cbow", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
@pytest.mark.parametrize("app", APPS)
def test_bundle_runs_on_its_own(tmp_path, app):
    bundle = load_deploy().build_bundle(app, tmp_path / "space")
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        f"{app.upper()}_MODEL": str(quick_model(app)),
        "PYTHONPATH": "",
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", BOOT.format(repo=str(REPO))],
        cwd=bundle,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("SHARED " + str(bundle)), first
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 120
        while True:
            try:
                client = Client(url, verbose=False)
                break
            except Exception:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "bundle did not start in 120 s"
                time.sleep(0.5)
        api_name, args, check = PROBES[app]
        assert check(client.predict(*args, api_name=api_name))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_spaces_is_not_an_importable_package():
    # `spaces` is the Hugging Face ZeroGPU package's name on Spaces
    assert not (REPO / "spaces" / "__init__.py").exists()


@pytest.mark.parametrize("app", APPS)
def test_checked_in_front_matter_matches_pins(app):
    card = SpaceCard.load(REPO / "spaces" / app / "README.md").data
    assert card.sdk_version == pinned(REPO / "requirements.txt")["gradio"]
    assert re.fullmatch(r"\d+\.\d+", card.python_version)
