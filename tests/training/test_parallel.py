"""training/parallel.py: the comparisons give the same numbers on one worker and on two."""

from __future__ import annotations

import os

import pytest
import torch
from timm.data import resolve_model_data_config

from shared.hub import load_json
from shared.transfer import data
from tests.detect.test_model import classifier_folder
from training import detect, parallel, transfer


def test_jobs_run_after_the_jobs_they_need_and_each_prints_a_line(capsys):
    jobs = [
        parallel.Job("b", "builtins:dict", {"y": 2}, after=["a"], summary=lambda r: f"y={r['y']}"),
        parallel.Job("a", "builtins:dict", {"x": 1}),
    ]
    for workers in (1, 2):
        results = parallel.run_jobs(jobs, workers, label="demo")
        assert results == {"a": {"x": 1}, "b": {"y": 2, "needs": {"a": {"x": 1}}}}
        lines = [line for line in capsys.readouterr().out.splitlines() if "/2]" in line]
        assert [line.split(" (")[0] for line in lines] == ["demo: [1/2] a", "demo: [2/2] b: y=2"]


def test_a_shared_pool_serves_every_run_inside_it():
    def pids():
        jobs = [parallel.Job(str(i), "os:getpid") for i in range(4)]
        return set(parallel.run_jobs(jobs, 1).values())

    assert pids() == {os.getpid()}  # one worker: here
    with parallel.shared_pool(2):
        first, second = pids(), pids()
    assert os.getpid() not in first | second and len(first | second) <= 2  # the same two
    assert pids() == {os.getpid()}  # closed with the block


def test_bad_job_lists_are_refused():
    with pytest.raises(ValueError, match="unique"):
        parallel.run_jobs([parallel.Job("a", "builtins:dict")] * 2, 1)
    with pytest.raises(ValueError, match="not there"):
        parallel.run_jobs([parallel.Job("a", "builtins:dict", after=["z"])], 1)


def test_workers_default_to_the_cores_and_to_one_for_quick():
    assert transfer.parse_args([]).workers == parallel.default_workers() >= 1
    assert transfer.parse_args(["--quick"]).workers == 1
    assert transfer.parse_args(["--quick", "--workers", "3"]).workers == 3
    assert detect.parse_args(["--quick"]).workers == 1
    assert detect.parse_args(["--workers", "2"]).workers == 2


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_transfer_comparison_is_the_same_on_one_and_two_workers():
    images, labels, names = data.digits(data.DIGITS)
    keep = slice(0, 300)
    argv = ["--quick", "--few-labels", "3,5", "--seeds", "2", "--epochs", "2"]
    argv += ["--few-epochs", "2", "--img-size", "16"]
    runs = []
    for workers in (1, 2):
        args = transfer.parse_args([*argv, "--workers", str(workers)])
        probe = transfer.new_model(args, len(names), None, args.seed)
        x = data.encode(images[keep], resolve_model_data_config(probe))
        y = torch.as_tensor(labels[keep])
        splits = data.split(labels[keep], 0.2, 0.2, args.seed)
        runs.append((args, x, y, splits, transfer.label_budget(args, None, x, y, splits, 10)))
    (args, x, y, splits, (model1, full1, few1, _)), (*_, (model2, full2, few2, _)) = runs
    assert _without_seconds(few1) == _without_seconds(few2)
    assert _without_seconds(full1) == _without_seconds(full2)
    assert _same_weights(model1.state_dict(), model2.state_dict())
    assert set(few1) == {"3", "5"} and len(few1["5"]["seeds"]) == 2
    assert len(full1["seeds"]["scratch"]) == 2 and full1["stages"]
    # and the same as the three methods one after another in this process (`compare`)
    train_idx, val_idx, test_idx = splits
    one = transfer.compare(
        args, None, (x[train_idx], y[train_idx]), (x[val_idx], y[val_idx]),
        (x[test_idx], y[test_idx]), 10, args.seed, args.epochs,
    )  # fmt: skip
    assert one["accuracy"] == {m: v[0] for m, v in full1["seeds"].items()}
    assert _same_weights(one["model"].state_dict(), model1.state_dict())


@pytest.mark.slow
def test_detect_comparison_is_the_same_on_one_and_two_workers(tmp_path):
    source = classifier_folder(tmp_path / "source")
    threads = torch.get_num_threads()
    for workers in (1, 2):
        detect.main(
            ["--quick", "--out", str(tmp_path / str(workers)), "--pretrained-from", str(source)]
            + ["--methods", "head_only,fine_tuned", "--workers", str(workers)]
        )
    torch.set_num_threads(threads)
    one, two = (load_json(tmp_path / w / "metrics.json") for w in ("1", "2"))
    assert _without_seconds(one) == _without_seconds(two)
    assert set(one["full"]["results"]) == {"head_only", "fine_tuned"}
    assert set(one["few"]["results"]) == {"scratch", "head_only", "fine_tuned"}
    weights = [(tmp_path / w / "model.safetensors").read_bytes() for w in ("1", "2")]
    assert weights[0] == weights[1]
