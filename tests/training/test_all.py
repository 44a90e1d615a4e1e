"""`python -m training.all`: what `make train` and the first `make demo` run, in which order."""

from __future__ import annotations

import pytest

from training import all as train_all
from training import detect, parallel, transfer


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """Record what each step would train instead of training it; artifacts/ is `tmp_path`."""
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path))
    log = []

    def run_jobs(jobs, workers, threads=1, label=""):
        log.append(("step 1", [(j.name, j.kwargs["module"], j.kwargs["argv"]) for j in jobs]))
        return {}

    monkeypatch.setattr(parallel, "run_jobs", run_jobs)
    monkeypatch.setattr(transfer, "main", lambda argv: log.append(("transfer", argv)))
    monkeypatch.setattr(detect, "main", lambda argv: log.append(("detect", argv)))
    return log


def test_everything_in_three_steps_on_every_core(calls, tmp_path, capsys):
    train_all.main(["--workers", "3"])
    out = ["--out"]
    assert calls == [
        ("step 1", [
            ("pretrained", "training.pretrain", [*out, str(tmp_path / "pretrained")]),
            ("anomaly", "training.anomaly", [*out, str(tmp_path / "anomaly")]),
            ("cbow", "training.cbow", [*out, str(tmp_path / "cbow")]),
        ]),
        ("transfer", [*out, str(tmp_path / "transfer"), "--workers", "3"]),
        ("detect", [*out, str(tmp_path / "detect"), "--workers", "3"]),
    ]  # fmt: skip
    printed = capsys.readouterr().out
    for step in ("step 1/3: pretrained, anomaly, cbow", "step 2/3: transfer", "step 3/3: detect"):
        assert step in printed


def test_missing_trains_only_the_folders_that_are_not_there(calls, tmp_path, capsys):
    for name in ("pretrained", "cbow", "transfer"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text("{}")
    (tmp_path / "anomaly").mkdir()  # a folder without config.json: a run that did not finish
    train_all.main(["--missing", "--workers", "1"])
    assert [step for step, _ in calls] == ["step 1", "detect"]
    assert [name for name, *_ in calls[0][1]] == ["anomaly"]
    (tmp_path / "anomaly" / "config.json").write_text("{}")
    (tmp_path / "detect").mkdir()
    (tmp_path / "detect" / "config.json").write_text("{}")
    calls.clear()
    capsys.readouterr()
    train_all.main(["--missing"])  # a second `make demo`: nothing to train, at once
    assert calls == [] and "nothing to train" in capsys.readouterr().out


def test_a_worker_runs_a_training_command_as_its_own_process(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path))
    # CBOW's corpus reader starts processes of its own: the reason for a process per command
    last = train_all.main_job("training.cbow", ["--quick", "--out", str(tmp_path / "cbow")])
    assert last == f"saved to {tmp_path / 'cbow'}"
    assert (tmp_path / "cbow" / "config.json").is_file()
    with pytest.raises(RuntimeError, match="python -m training.cbow failed"):
        train_all.main_job("training.cbow", ["--no-such-flag"])
