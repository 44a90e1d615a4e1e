"""Images in, detections out; detections against true boxes, mAP out (torchmetrics).

mAP is torchmetrics' `MeanAveragePrecision` on the faster-coco-eval backend (COCO's own
definition; with pycocotools, non-default detection limits report -1, torchmetrics #2560). It
ranks every box the detector gives, per class, as COCO does.

What a person sees is different: the boxes above one score threshold. There, torchvision's
per-class suppression can leave one digit under two boxes of different labels (a 3 read as 3 and
as 8), which reads as the model contradicting itself. `one_label_per_object` suppresses across
classes for display, and `objects_with_two_labels` counts what is left to contradict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchmetrics.detection import MeanAveragePrecision
from torchvision.ops import box_iou, nms

from shared.detect.model import Detector

BATCH = 32  # scenes per forward pass when evaluating
# Two boxes of any labels overlapping more than this are one object: the weaker one goes. The
# built-in scenes place digits at IoU <= 0.2 of each other (scenes.MAX_OVERLAP), so 0.5 leaves
# true neighbours alone with room for box error, and 0.5 is also where COCO calls a box a match.
AGNOSTIC_IOU = 0.5
MATCH_IOU = 0.5  # a box is on an object when their IoU reaches this (COCO's mAP@0.5 match)


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the image's own pixels


def to_tensor(image: Image.Image | np.ndarray, light_on_dark: bool = True) -> torch.Tensor:
    """An RGB float tensor (3, H, W) in [0, 1], the detector's input.

    A model trained on light ink on a dark canvas (the built-in scenes) sees a light-background
    image (a sketch, a scan) inverted, so dark strokes on paper look like its training data.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    grey = image.mode in ("L", "LA", "1", "I", "I;16", "F")
    pixels = np.asarray(image.convert("L" if grey else "RGB"), dtype=np.float32) / 255
    x = torch.from_numpy(pixels).reshape(*pixels.shape[:2], -1).permute(2, 0, 1)
    if light_on_dark and x.mean() > 0.5:
        x = 1 - x
    return x.expand(3, -1, -1)  # a grey image stays one channel in memory


@torch.no_grad()
def predict(detector: Detector, images: Sequence[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """torchvision's raw answers (boxes, labels 1..K, scores) for input tensors, in batches."""
    detector.eval()
    out = []
    for start in range(0, len(images), BATCH):
        out += detector(list(images[start : start + BATCH]))
    return out


def detections(answer: dict[str, torch.Tensor], classes: Sequence[str]) -> list[Detection]:
    """One image's raw answer as named detections, best first."""
    return [
        Detection(classes[int(label) - 1], float(score), tuple(round(float(v), 1) for v in box))
        for box, label, score in zip(
            answer["boxes"], answer["labels"], answer["scores"], strict=True
        )
    ]


def mean_average_precision(
    predictions: Sequence[dict[str, torch.Tensor]],
    targets: Sequence[dict[str, torch.Tensor]],
    classes: Sequence[str],
) -> dict:
    """COCO mAP@[.5:.95] and mAP@0.5, overall and per class (by name).

    `targets` hold `boxes` (x0 y0 x1 y1) and `labels` 1..K, as the detector's answers do.
    """
    result: dict = {"per_class": {}}
    for key, thresholds in (("map", None), ("map_50", [0.5])):
        metric = MeanAveragePrecision(
            box_format="xyxy", iou_thresholds=thresholds, class_metrics=True,
            backend="faster_coco_eval",
        )  # fmt: skip
        metric.update(list(predictions), list(targets))
        scores = metric.compute()
        result[key] = float(scores["map"])
        present = scores["classes"].reshape(-1).tolist()
        per_class = scores["map_per_class"].reshape(-1).tolist()
        for label, value in zip(present, per_class, strict=True):
            result["per_class"].setdefault(classes[int(label) - 1], {})[key] = float(value)
    return result


def one_label_per_object(
    answer: dict[str, torch.Tensor], iou: float = AGNOSTIC_IOU
) -> dict[str, torch.Tensor]:
    """One image's answer with class-agnostic suppression: of boxes overlapping above `iou`,
    whatever their labels, only the best-scoring one stays (best first, as the answer was).

    For display and counting at a threshold only: mAP is defined on the per-class ranking.
    Greedy suppression decides each box by better-scoring boxes alone, so suppressing first
    and thresholding after keeps exactly the boxes that thresholding first would: the app can
    suppress once and let its slider re-filter.
    """
    keep = nms(answer["boxes"].float(), answer["scores"], iou)
    return {key: value[keep] for key, value in answer.items()}


def objects_with_two_labels(
    predictions: Sequence[dict[str, torch.Tensor]],
    targets: Sequence[dict[str, torch.Tensor]],
    min_score: float,
) -> dict[str, int]:
    """At a score threshold: how many true objects carry boxes of two or more labels (a box is
    on an object at IoU >= MATCH_IOU), how many carry a box of their own label, and of how many.
    """
    counts = {"objects": 0, "two_labels": 0, "found": 0}
    for answer, truth in zip(predictions, targets, strict=True):
        shown = answer["scores"] >= min_score
        boxes, labels = answer["boxes"][shown], answer["labels"][shown]
        counts["objects"] += len(truth["labels"])
        if not len(boxes) or not len(truth["labels"]):
            continue
        on = box_iou(truth["boxes"].float(), boxes.float()) >= MATCH_IOU  # (objects, boxes)
        for hits, label in zip(on, truth["labels"], strict=True):
            said = set(labels[hits].tolist())
            counts["two_labels"] += len(said) >= 2
            counts["found"] += int(label) in said
    return counts


def detect_image(
    detector: Detector,
    image: Image.Image | np.ndarray,
    min_score: float = 0.0,
    agnostic_iou: float | None = AGNOSTIC_IOU,
) -> list[Detection]:
    """Every detection in one image scoring at least `min_score`, best first, in its pixels,
    one label per object (`one_label_per_object` at `agnostic_iou`; None: per class only)."""
    x = to_tensor(image, detector.config.light_on_dark)
    answer = predict(detector, [x])[0]
    if agnostic_iou is not None:
        answer = one_label_per_object(answer, agnostic_iou)
    found = detections(answer, detector.config.classes)
    return [d for d in found if d.score >= min_score]
