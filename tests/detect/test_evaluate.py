"""Predictions, detections and mAP: shared/detect/evaluate.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.ops import box_iou

from shared.detect import evaluate, scenes
from shared.detect import train as recipe
from shared.detect.evaluate import detections, mean_average_precision, predict, to_tensor
from tests.detect.test_model import CLASSES, one_thread, tiny_config  # noqa: F401 (autouse)


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


def test_detections_name_classes_and_keep_order():
    answer = {
        "boxes": torch.tensor([[1.0, 2, 3, 4], [5, 6, 7, 8]]),
        "labels": torch.tensor([1, 10]),
        "scores": torch.tensor([0.9, 0.2]),
    }
    found = detections(answer, CLASSES)
    assert [(d.label, d.box) for d in found] == [("0", (1, 2, 3, 4)), ("9", (5, 6, 7, 8))]


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
