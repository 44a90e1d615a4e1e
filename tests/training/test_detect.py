"""`python -m training.detect`: the artifact folder, the comparison, pushing, torchrun."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import REPO, folder_files
from huggingface_hub import ModelCard

from shared.detect import hub_io, scenes
from shared.detect import train as recipe
from shared.detect.evaluate import predict
from tests.detect.test_coco import scenes_zip
from tests.detect.test_model import classifier_folder
from training import detect


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One quick run from a classifier folder, shared by the tests that only read it."""
    root = tmp_path_factory.mktemp("detect-cli")
    source = classifier_folder(root / "source")
    threads = torch.get_num_threads()
    detect.main(
        ["--quick", "--out", str(root / "out"), "--pretrained-from", str(source)]
        + ["--methods", "scratch,head_only,fine_tuned"]
    )
    torch.set_num_threads(threads)
    return root / "out", source


def test_quick_run_writes_the_artifact_folder(trained):
    out, source = trained
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "config.json", "metrics.json", "model.safetensors",
    ]  # fmt: skip
    loaded = hub_io.load(out)
    assert loaded.config.classes == scenes.CLASSES and loaded.config.img_size == 64
    assert loaded.config.backbone == "test_resnet" and 0 < loaded.config.score_threshold < 1
    metrics = loaded.metrics
    assert metrics["source"] == str(source.resolve()) and metrics["method"] == "head_only"
    for setting in ("full", "few"):
        results = metrics[setting]["results"]
        assert set(results) == set(recipe.METHODS)
        for result in results.values():
            assert 0 <= result["map"] <= result["map_50"] <= 1 and result["train_seconds"] > 0
    assert [s["n_frozen"] for s in metrics["full"]["results"]["fine_tuned"]["stages"]] == [-1, 0]
    assert metrics["map"] == metrics["full"]["results"]["head_only"]["map"]


def test_model_card_reports_map_in_the_model_index(trained):
    card = ModelCard.load(trained[0] / "README.md")
    full = hub_io.load(trained[0]).metrics["full"]["results"]
    reported = {
        r.metric_name: r.metric_value
        for r in card.data.eval_results
        if r.dataset_name.endswith(" 24 training scenes")
    }
    assert reported["fine tuned mAP@0.5"] == full["fine_tuned"]["map_50"]
    assert reported["scratch mAP@[.5:.95]"] == full["scratch"]["map"]
    assert {r.metric_type for r in card.data.eval_results} == {"map", "map_50"}
    assert card.data.pipeline_tag == "object-detection"


def test_saved_detector_predicts_like_the_trained_one(trained, tmp_path):
    loaded = hub_io.load(trained[0])
    images = [x for x, _ in recipe.examples(scenes.make_scenes(2, "test", size=64))]
    first = predict(loaded.model, images)
    hub_io.save(loaded.model, tmp_path / "again")
    second = predict(hub_io.load(tmp_path / "again").model, images)
    for a, b in zip(first, second, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_push_uploads_the_folder_that_reloads(tmp_path, fake_hub, monkeypatch):
    monkeypatch.setenv("ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    out = tmp_path / "out"
    detect.main(
        ["--quick", "--out", str(out), "--push-to-hub", "me/detect-fcos"] + ["--few-scenes", "0"]
    )
    upload = fake_hub["upload"]
    assert fake_hub["create"]["repo_id"] == upload["repo_id"] == "me/detect-fcos"
    uploaded = fake_hub["log"][-1][2]
    assert {"model.safetensors", "config.json", "metrics.json", "README.md"} == set(uploaded)
    assert uploaded == folder_files(out)
    assert hub_io.load(out).metrics["source"] is None  # no artifacts: scratch only


def test_coco_zip_trains_its_own_classes(tmp_path):
    data = scenes_zip(tmp_path / "mine.zip", n=10)
    detect.main(
        ["--quick", "--out", str(tmp_path / "out"), "--data", str(data)]
        + ["--methods", "scratch", "--few-scenes", "0"]
    )
    loaded = hub_io.load(tmp_path / "out")
    assert loaded.config.classes == [str(d) for d in range(10)]
    assert not loaded.config.light_on_dark  # user photos are not inverted
    assert "few" not in loaded.metrics


def test_bad_methods_are_refused():
    with pytest.raises(SystemExit):
        detect.parse_args(["--methods", "magic"])


@pytest.mark.slow
def test_torchrun_two_processes_save_one_loadable_detector(tmp_path):
    out = tmp_path / "ddp"
    run = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "training.detect", "--quick", "--out", str(out),
         "--pretrained-from", str(classifier_folder(tmp_path / "source"))],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    saves = [line for line in run.stdout.splitlines() if line.startswith("saved ")]
    assert len(saves) == 1, saves  # only the main process saves
    assert hub_io.load(out).metrics["full"]["results"]["head_only"]["map"] >= 0
