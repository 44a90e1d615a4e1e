"""`python -m training.anomaly_uses`: every flag reaches the saved folder, --quick stays quick,
the push uploads that folder, and the module runs as a script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, fields

from conftest import REPO

from shared.uses.models import UsesConfig
from tests.uses.test_train import TINY_FLAGS
from training import anomaly_uses as cli

# every UsesConfig flag set away from its default, and the value config.json must then hold
CHANGED = {
    "--code-sizes": (["2", "8"], [2, 8]),
    "--feature-code": (["8"], 8),
    "--hidden": (["24"], [24]),
    "--denoise-code": (["6"], 6),
    "--max-noise": (["0.4"], 0.4),
    "--vae-latent": (["3"], 3),
    "--vae-hidden": (["20", "10"], [20, 10]),
    "--steps": (["30"], 30),
    "--batch-size": (["64"], 64),
    "--lr": (["0.01"], 0.01),
    "--threads": (["1"], 1),
    "--seed": (["2"], 2),
}


def test_every_flag_reaches_config_json(tmp_path, monkeypatch):
    flags = [part for flag, (values, _) in CHANGED.items() for part in (flag, *values)]
    argv = [*flags, "--out", str(tmp_path / "m")]
    monkeypatch.setattr(sys, "argv", ["training/anomaly_uses.py", *argv])  # the card's command
    folder = cli.main(argv)
    config = json.loads((folder / "config.json").read_text())
    for flag, (_, value) in CHANGED.items():
        assert config[flag[2:].replace("-", "_")] == value, flag
    assert "--vae-hidden 20 10" in (folder / "README.md").read_text()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [row["code_size"] for row in metrics["compression"]] == [2, 8]


def test_the_defaults_are_the_config_and_quick_caps_the_steps(tmp_path):
    args = cli.build_parser().parse_args([])
    assert args.out is None and args.quick is False and args.push_to_hub is None
    for f in fields(UsesConfig):
        assert getattr(args, f.name) == getattr(UsesConfig(), f.name), f.name
    folder = cli.main(["--quick", "--steps", "5000", *TINY_FLAGS[3:], "--out", str(tmp_path)])
    assert json.loads((folder / "config.json").read_text())["steps"] == cli.QUICK_STEPS


def test_every_documented_flag_is_run():
    documented = {
        option
        for action in cli.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert documented - set(CHANGED) == {"--quick", "--out", "--push-to-hub"}  # the tests below


def test_push_to_hub_uploads_the_output_folder(tmp_path, fake_hub):
    folder = cli.main([*TINY_FLAGS, "--out", str(tmp_path / "m"), "--push-to-hub", "me/uses"])
    assert fake_hub["create"]["repo_id"] == "me/uses"
    _, upload, files = fake_hub["log"][-1]
    assert upload["folder_path"] == str(folder) and upload.get("repo_type", "model") == "model"
    assert set(files) == {"README.md", "config.json", "metrics.json", "model.safetensors"}
    assert json.loads(files["config.json"]) == asdict(
        UsesConfig(**json.loads(files["config.json"]))
    )


def test_the_module_runs_as_a_script_into_artifacts(tmp_path):
    env = {**os.environ, "ARTIFACTS_DIR": str(tmp_path)}  # the default --out is under it
    command = [sys.executable, "-m", "training.anomaly_uses", *TINY_FLAGS]
    done = subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    assert (tmp_path / "anomaly_uses" / "model.safetensors").is_file()
    assert "trained in" in done.stdout and str(tmp_path / "anomaly_uses") in done.stdout
