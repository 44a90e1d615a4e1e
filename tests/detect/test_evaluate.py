"""Predictions, detections and mAP: shared/detect/evaluate.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.detect.evaluate import detections, mean_average_precision, to_tensor
from tests.detect.test_model import CLASSES, one_thread  # noqa: F401 (autouse)


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
