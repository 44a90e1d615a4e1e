"""Images in, detections out; detections against true boxes, mAP out (torchmetrics).

mAP is torchmetrics' `MeanAveragePrecision` on the faster-coco-eval backend (COCO's own
definition; with pycocotools, non-default detection limits report -1, torchmetrics #2560).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchmetrics.detection import MeanAveragePrecision

from shared.detect.model import Detector

BATCH = 32  # scenes per forward pass when evaluating


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


def detect_image(
    detector: Detector, image: Image.Image | np.ndarray, min_score: float = 0.0
) -> list[Detection]:
    """Every detection in one image scoring at least `min_score`, best first, in its pixels."""
    x = to_tensor(image, detector.config.light_on_dark)
    found = detections(predict(detector, [x])[0], detector.config.classes)
    return [d for d in found if d.score >= min_score]
