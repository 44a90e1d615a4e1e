"""Detection library: scenes, mAP through the real evaluator, backbones, freezing, round trips."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from conftest import cache_repo
from safetensors.torch import load_file
from timm.models import save_for_hf
from torchvision.ops import box_iou

from shared.detect import evaluate, hub_io, scenes
from shared.detect import train as recipe
from shared.detect.evaluate import detections, mean_average_precision, predict, to_tensor
from shared.detect.model import (
    ARCHITECTURES,
    DetectInputError,
    Detector,
    default_config,
    load_backbone,
)
from shared.hub import ModelSourceError
from shared.transfer import backbone

CLASSES = scenes.CLASSES


@pytest.fixture(autouse=True)
def one_thread():
    """As training/detect.py runs: one thread beats two when other jobs share the 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def classifier_folder(path, name: str = "test_resnet", seed: int = 0):
    """A classification "pretrained model" folder in timm's Hub layout, random weights."""
    torch.manual_seed(seed)
    model = timm.create_model(name, num_classes=7)
    save_for_hf(model, path, safe_serialization=True)
    return path


def tiny_config(architecture: str = "fcos", **overrides):
    return default_config(architecture, classes=CLASSES, **overrides)


# --- scenes --------------------------------------------------------------------------------


def test_scenes_have_the_boxes_they_claim():
    for scene in scenes.make_scenes(40, "train", seed=3):
        n = len(scene.labels)
        assert scenes.DIGITS_PER_SCENE[0] <= n <= scenes.DIGITS_PER_SCENE[1] or n >= 1
        assert scene.labels.min() >= 1 and scene.labels.max() <= 10
        inside = np.zeros(scene.image.shape, bool)
        for x0, y0, x1, y1 in scene.boxes.astype(int):
            assert 0 <= x0 < x1 <= 128 and 0 <= y0 < y1 <= 128
            crop = scene.image[y0:y1, x0:x1]
            # the box is tight: ink on each of its four edges
            assert crop[0].any() and crop[-1].any() and crop[:, 0].any() and crop[:, -1].any()
            side = max(x1 - x0, y1 - y0)
            assert scenes.DIGIT_SIZE[0] // 2 <= side <= scenes.DIGIT_SIZE[1]
            inside[y0:y1, x0:x1] = True
        assert not scene.image[~inside].any(), "ink outside every box"


def test_scenes_are_seeded_and_test_digits_are_never_training_digits():
    a, b = scenes.make_scenes(5, seed=1), scenes.make_scenes(5, seed=1)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0].image, scenes.make_scenes(1, seed=2)[0].image)
    assert not np.array_equal(a[0].image, scenes.make_scenes(1, "test", seed=1)[0].image)
    pools = scenes.digit_pools()
    train = {img.tobytes() for img in pools["train"][0]}
    test = {img.tobytes() for img in pools["test"][0]}
    assert len(train) + len(test) == 1797 and not train & test
    assert set(pools["test"][1]) == set(range(10))


def test_scenes_restricted_to_some_digits():
    for scene in scenes.make_scenes(10, only=(0, 1), per_scene=(1, 2)):
        assert set(scene.labels) <= {1, 2} and 1 <= len(scene.labels) <= 2


def test_light_background_images_are_inverted_for_a_light_on_dark_model():
    paper = np.full((20, 30), 255, np.uint8)
    paper[5:10, 5:10] = 0
    x = to_tensor(paper)
    assert x.shape == (3, 20, 30) and x[0, 7, 7] == 1 and x[0, 0, 0] == 0
    assert to_tensor(paper, light_on_dark=False)[0, 0, 0] == 1


# --- mAP through torchmetrics ------------------------------------------------------------


def _truth():
    return [
        {
            "boxes": torch.tensor([[10.0, 10, 40, 50], [60, 60, 90, 100]]),
            "labels": torch.tensor([1, 4]),
        },
        {"boxes": torch.tensor([[5.0, 70, 30, 100]]), "labels": torch.tensor([4])},
    ]


def _answers(truth, shift=0.0, labels=None):
    return [
        {
            "boxes": t["boxes"] + torch.tensor([shift, 0, shift, 0]),
            "labels": t["labels"] if labels is None else torch.full_like(t["labels"], labels),
            "scores": torch.linspace(0.9, 0.5, len(t["labels"])),
        }
        for t in truth
    ]


def test_a_perfect_prediction_scores_map_1():
    truth = _truth()
    result = mean_average_precision(_answers(truth), truth, CLASSES)
    assert result["map"] == pytest.approx(1.0) and result["map_50"] == pytest.approx(1.0)
    assert set(result["per_class"]) == {"0", "3"}
    assert all(
        v == {"map": pytest.approx(1.0), "map_50": pytest.approx(1.0)}
        for v in result["per_class"].values()
    )


def test_shifted_boxes_and_wrong_classes_score_less():
    truth = _truth()
    far = mean_average_precision(_answers(truth, shift=20), truth, CLASSES)
    assert far["map_50"] == pytest.approx(0.0)  # IoU under 0.5 for every box
    near = mean_average_precision(_answers(truth, shift=4), truth, CLASSES)
    assert near["map_50"] == pytest.approx(1.0) and 0.2 < near["map"] < 0.9
    wrong = mean_average_precision(_answers(truth, labels=7), truth, CLASSES)
    assert wrong["map_50"] == pytest.approx(0.0)
    # an extra false positive ranked above a true one costs precision
    noisy = _answers(truth)
    noisy[0]["boxes"] = torch.cat([noisy[0]["boxes"], torch.tensor([[100.0, 0, 120, 20]])])
    noisy[0]["labels"] = torch.cat([noisy[0]["labels"], torch.tensor([4])])
    noisy[0]["scores"] = torch.cat([noisy[0]["scores"], torch.tensor([0.99])])
    assert mean_average_precision(noisy, truth, CLASSES)["per_class"]["3"]["map_50"] < 1.0


def _one_three_read_twice():
    """A 3 boxed twice, as 3 (0.9) and as 8 (0.7) at IoU 0.88, beside a true 0 at IoU 0.11."""
    truth = {
        "boxes": torch.tensor([[10.0, 10, 40, 40], [34, 10, 64, 40]]),
        "labels": torch.tensor([4, 1]),
    }
    answer = {
        "boxes": torch.tensor([[10.0, 10, 40, 40], [12, 10, 42, 40], [34, 10, 64, 40]]),
        "labels": torch.tensor([4, 9, 1]),
        "scores": torch.tensor([0.9, 0.7, 0.6]),
    }
    return answer, truth


def test_two_labels_on_one_object_become_one_and_neighbours_stay():
    answer, truth = _one_three_read_twice()
    assert box_iou(truth["boxes"][:1], truth["boxes"][1:]).item() < scenes.MAX_OVERLAP
    before = evaluate.objects_with_two_labels([answer], [truth], min_score=0.5)
    assert before == {"objects": 2, "two_labels": 1, "found": 2}
    kept = evaluate.one_label_per_object(answer)
    assert kept["labels"].tolist() == [4, 1] and kept["scores"].tolist() == pytest.approx(
        [0.9, 0.6]
    )
    after = evaluate.objects_with_two_labels([kept], [truth], min_score=0.5)
    assert after == {"objects": 2, "two_labels": 0, "found": 2}
    # above the 8's score only the 3 was ever shown: nothing to suppress there
    assert evaluate.objects_with_two_labels([answer], [truth], min_score=0.8)["two_labels"] == 0


def test_suppressing_before_or_after_the_threshold_keeps_the_same_boxes():
    """The app suppresses once and its slider re-filters: that must equal filtering first."""
    g = torch.Generator().manual_seed(0)
    corners = torch.rand(40, 2, generator=g) * 100
    answer = {
        "boxes": torch.cat([corners, corners + 10 + torch.rand(40, 2, generator=g) * 30], dim=1),
        "labels": torch.randint(1, 11, (40,), generator=g),
        "scores": torch.rand(40, generator=g).sort(descending=True).values,
    }
    everything = evaluate.one_label_per_object(answer)
    assert len(everything["scores"]) < 40  # the random boxes do overlap
    for threshold in (0.1, 0.5, 0.9):
        shown = answer["scores"] >= threshold
        first = evaluate.one_label_per_object({k: v[shown] for k, v in answer.items()})
        after = everything["scores"] >= threshold
        assert torch.equal(first["boxes"], everything["boxes"][after])


def test_the_app_path_suppresses_across_labels_and_map_does_not(monkeypatch):
    """mAP stays COCO's per-class ranking of every box: only detect_image suppresses."""
    calls = []
    real = evaluate.one_label_per_object
    monkeypatch.setattr(
        evaluate, "one_label_per_object", lambda a, iou: calls.append(iou) or real(a, iou)
    )
    detector = recipe.build(tiny_config(), seed=0)
    split = recipe.examples(scenes.make_scenes(2, "test"))
    result = recipe.evaluate(detector, split)
    assert calls == []
    raw = mean_average_precision(
        predict(detector, [x for x, _ in split]), [t for _, t in split], CLASSES
    )
    assert result == raw
    evaluate.detect_image(detector, scenes.make_scenes(1, "test")[0].image)
    assert calls == [evaluate.AGNOSTIC_IOU]
    evaluate.detect_image(detector, scenes.make_scenes(1, "test")[0].image, agnostic_iou=None)
    assert calls == [evaluate.AGNOSTIC_IOU]


# --- the detector and its backbone ---------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_trains_and_detects(architecture):
    torch.manual_seed(0)
    detector = Detector(tiny_config(architecture))
    batch = recipe.collate(recipe.examples(scenes.make_scenes(2)))
    detector.train()
    total, parts = recipe.loss(detector, batch)
    assert torch.isfinite(total) and parts
    total.backward()
    answers = predict(detector, batch[0])
    assert len(answers) == 2 and set(answers[0]) == {"boxes", "labels", "scores"}


def test_unknown_architecture_and_backbone_are_named():
    with pytest.raises(DetectInputError, match="Unknown detector 'yolo'"):
        default_config("yolo")
    with pytest.raises(Exception, match="resnet18"):
        Detector(tiny_config(backbone="resnet18x"))


def test_backbone_loads_a_classifier_folder_without_its_head(tmp_path):
    source = classifier_folder(tmp_path / "source")
    detector = Detector(tiny_config())
    assert load_backbone(detector, str(source)) == str(source.resolve())
    weights = load_file(source / "model.safetensors")
    body = detector.body.state_dict()
    assert not any(k.startswith("fc.") for k in body)
    assert set(body) == {k for k in weights if not k.startswith("fc.")}
    assert all(torch.equal(body[k], weights[k]) for k in body)


def test_backbone_source_of_another_architecture_is_refused(tmp_path):
    source = classifier_folder(tmp_path / "source", name="test_efficientnet")
    with pytest.raises(DetectInputError, match="'test_efficientnet' backbone, not 'test_resnet'"):
        load_backbone(Detector(tiny_config()), str(source))
    with pytest.raises(DetectInputError, match="does not exist"):
        load_backbone(Detector(tiny_config()), str(tmp_path / "missing"))


def test_stages_are_the_timm_bodys_and_the_head_is_fpn_plus_detector_head():
    detector = Detector(tiny_config())
    stages = backbone.stages(detector)
    assert len(stages) == 5  # stem, layer1..layer4 of a ResNet
    body = {f"net.backbone.body.{n}" for n, _ in detector.body.named_parameters()}
    assert {n for _, names in stages for n in names} == body
    head = set(backbone.head_parameters(detector))
    assert head and not head & body
    assert head | body == {n for n, _ in detector.named_parameters()}
    assert any(n.startswith("net.backbone.fpn.") for n in head)


def test_head_only_training_leaves_the_frozen_backbone_and_its_batchnorm_alone(tmp_path):
    detector = recipe.build(tiny_config(), str(classifier_folder(tmp_path / "s")), seed=0)
    before = {k: v.clone() for k, v in detector.state_dict().items()}
    split = recipe.examples(scenes.make_scenes(8))
    config = recipe.RecipeConfig(epochs=1, batch_size=4).stage_config()
    recipe.train(detector, split, config, "head_only")
    after = detector.state_dict()
    body = [k for k in after if k.startswith("net.backbone.body.")]
    assert any("running_mean" in k for k in body)
    assert all(torch.equal(before[k], after[k]) for k in body)
    assert not all(torch.equal(before[k], after[k]) for k in after if k.startswith("net.head."))


def test_staged_fine_tuning_moves_the_backbone_too(tmp_path):
    detector = recipe.build(tiny_config(), str(classifier_folder(tmp_path / "s")), seed=0)
    before = {k: v.clone() for k, v in detector.body.state_dict().items()}
    split = recipe.examples(scenes.make_scenes(8))
    stages = recipe.train(
        detector, split, recipe.RecipeConfig(epochs=2, batch_size=4).stage_config(), "fine_tuned"
    )
    assert [s.n_frozen for s in stages] == [-1, 0]
    assert stages[0].trainable < stages[1].trainable
    after = detector.body.state_dict()
    assert not all(torch.equal(before[k], after[k]) for k in after)


# --- the artifact --------------------------------------------------------------------------


def test_save_and_load_reproduce_the_boxes_bit_for_bit(tmp_path):
    torch.manual_seed(0)
    detector = Detector(tiny_config(score_threshold=0.4))
    hub_io.save(detector, tmp_path / "det", {"note": "test"})
    (tmp_path / "det" / "metrics.json").write_text('{"map": 0.5}')
    loaded = hub_io.load(tmp_path / "det")
    assert loaded.config == detector.config and loaded.metrics == {"map": 0.5}
    images = [x for x, _ in recipe.examples(scenes.make_scenes(3, "test"))]
    for a, b in zip(predict(detector, images), predict(loaded.model, images), strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)
    # the same folder by Hub repo id, from the offline cache
    cache_repo("someone/detect-test", tmp_path / "det")
    again = hub_io.load("someone/detect-test")
    assert again.config == detector.config


def test_load_refuses_a_classifier_folder_and_pickles(tmp_path):
    with pytest.raises(ModelSourceError, match="not a detector"):
        hub_io.load(classifier_folder(tmp_path / "clf"))
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "config.json").write_text("{}")
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ModelSourceError, match="missing model.safetensors"):
        hub_io.load(tmp_path / "pickled")


def test_detections_name_classes_and_keep_order():
    answer = {
        "boxes": torch.tensor([[1.0, 2, 3, 4], [5, 6, 7, 8]]),
        "labels": torch.tensor([1, 10]),
        "scores": torch.tensor([0.9, 0.2]),
    }
    found = detections(answer, CLASSES)
    assert [(d.label, d.box) for d in found] == [("0", (1, 2, 3, 4)), ("9", (5, 6, 7, 8))]


@pytest.mark.slow
def test_a_trained_detector_finds_the_right_digits_on_easy_scenes():
    """Zeros and ones, one or two per scene: 48 scenes x 10 epochs from scratch learn them."""
    config = default_config(classes=["0", "1"])
    easy = {"per_scene": (1, 2), "only": (0, 1)}
    train = recipe.examples(scenes.make_scenes(48, "train", **easy))
    test = recipe.examples(scenes.make_scenes(20, "test", per_scene=(1, 1), only=(0, 1)))
    detector = recipe.build(config, seed=0)
    run = recipe.RecipeConfig(epochs=10, batch_size=8).stage_config()
    recipe.train(detector, train, run, "scratch")
    right = 0
    for answer, (_, truth) in zip(predict(detector, [x for x, _ in test]), test, strict=True):
        best = detections(answer, config.classes)[0]  # the most confident box
        box = torch.tensor([best.box])
        hit = box_iou(box, truth["boxes"]).max() > 0.5
        right += hit and best.label == config.classes[int(truth["labels"][0]) - 1]
    assert right >= 12, f"{right}/20 scenes: best box on the right digit"  # measured 16/20
    assert recipe.evaluate(detector, test)["map_50"] > 0.4  # measured 0.69
