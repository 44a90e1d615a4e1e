"""Grad-CAM and the box around its peak: shared/transfer/cam.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from shared.transfer import backbone, cam, data, hub_io, recipe
from shared.transfer.cam import cam_box, cam_layer, classify, grad_cam
from tests.transfer.test_backbone import random_split, tiny

# --- Grad-CAM --------------------------------------------------------------------------


def square_images(n, size=32, side=10, seed=0):
    """Dark noisy images; odd ones hold a bright square at a random place (class 1)."""
    rng = np.random.default_rng(seed)
    images, labels, boxes = [], [], []
    for i in range(n):
        pixels = rng.integers(0, 40, (size, size)).astype(np.uint8)
        x0, y0 = rng.integers(0, size - side, 2)
        if i % 2:
            pixels[y0 : y0 + side, x0 : x0 + side] = 255
        images.append(Image.fromarray(pixels))
        labels.append(i % 2)
        boxes.append((x0, y0, x0 + side, y0 + side))
    return images, np.array(labels), boxes


@pytest.mark.slow
def test_grad_cam_box_lands_on_the_planted_square():
    images, labels, _ = square_images(160)
    model = tiny(num_classes=2, img_size=32)
    clf = hub_io.Classifier(model, ["empty", "square"], backbone.data_overlay(32), {}, None)
    clf.data_config = {**backbone.data_overlay(32), "mean": (0.5,) * 3, "std": (0.5,) * 3}
    x, y = data.encode(images, clf.data_config), torch.as_tensor(labels)
    config = recipe.StageConfig(epochs=4, batch_size=16)
    recipe.train_stage(model, (x, y), None, config, n_frozen=0)
    test_images, test_labels, test_boxes = square_images(12, seed=1)
    hits = 0
    for image, label, (x0, y0, x1, y1) in zip(test_images, test_labels, test_boxes, strict=True):
        if not label:
            continue
        pred = classify(clf, image)
        assert pred.heatmap is not None and pred.heatmap.size == (256, 256)
        bx0, by0, bx1, by1 = pred.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hits += bx0 <= cx < bx1 and by0 <= cy < by1 and (bx1 - bx0) * (by1 - by0) < 0.5 * 32 * 32
    assert hits >= 5, f"box on the square in only {hits} of 6 images"


def test_cam_box_is_the_region_around_the_peak():
    cam = np.zeros((16, 16))
    cam[2:5, 3:7] = 1.0  # the peak region
    cam[10:12, 10:12] = 0.6  # a second, weaker region above threshold: not in the box
    assert cam_box(cam) == (3, 2, 7, 5)


def iou(a, b):
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def stroke_cam(size=32):
    """A CAM as the 4x4 stage draws one: a hot cell on one stroke, weak evidence around it."""
    yy, xx = np.mgrid[:size, :size]
    heat = np.exp(-((xx - 0.3 * size) ** 2 + (yy - 0.3 * size) ** 2) / (2 * (size / 10) ** 2))
    return np.maximum(heat, 0.3 * (np.abs(xx - size / 2) + np.abs(yy - size / 2) < size / 3))


def test_the_box_finds_pasted_digits_that_the_half_peak_box_misses():
    """Held-out-style digits pasted anywhere in a dark 128 px image (the benchmark's setting)."""
    images, _, _ = data.digits(data.DIGITS)
    rng = np.random.default_rng(0)
    new, old = [], []
    for index in range(0, 200, 10):
        image, (truth,) = data.pasted([images[index]], rng)
        _, view = data.model_view(image, "digits")
        heat = stroke_cam()
        new.append(iou(cam.object_box(image, heat, view), truth))
        left, top, side = view
        x0, y0, x1, y1 = (v * side / 32 for v in cam_box(heat))  # the rule it replaced
        old.append(iou((left + x0, top + y0, left + x1, top + y1), truth))
    assert min(new) >= 0.7, new  # the ink the evidence touches: the whole digit
    assert max(old) < 0.5, old  # half the peak: one stroke of it


def test_on_a_busy_background_the_box_is_the_evidence_region():
    noise = np.random.default_rng(0).integers(0, 256, (64, 64)).astype(np.uint8)
    image = Image.fromarray(noise)
    assert cam.plain_ink(image) is None
    heat = np.zeros((32, 32))
    heat[8:16, 4:12] = 1.0
    assert cam.object_box(image, heat, (0, 0, 64)) == (8, 16, 24, 32)  # 2 image px per CAM px
    # a view hanging over the image's edge is clipped to the image
    assert cam.object_box(image, heat, (-16, -16, 64)) == (0, 0, 8, 16)


def test_evidence_region_joins_nearby_pieces_and_leaves_far_ones():
    heat = np.zeros((32, 32))
    heat[4:8, 4:8] = 1.0  # the peak
    heat[4:8, 10:13] = 0.5  # 2 px away: the same object (JOIN is 4 px at 32)
    heat[24:28, 24:28] = 0.9  # far away: another object
    region = cam.evidence_region(heat)
    ys, xs = np.nonzero(region)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (4, 12, 4, 7)
    assert cam.evidence_region(np.zeros((8, 8))).all()  # no evidence: no place is preferred


def test_a_transparent_sketch_is_ink_on_paper():
    sketch = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    sketch.paste((0, 0, 0, 255), (20, 10, 28, 50))
    ink = cam.plain_ink(sketch)
    ys, xs = np.nonzero(ink)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (20, 27, 10, 49)


def test_an_empty_cam_falls_back_to_a_finer_stage(monkeypatch):
    from shared.transfer import cam

    model = tiny(num_classes=2, img_size=32)
    tried = []

    def fake(model, x, class_index, layer):
        tried.append(layer)
        heat = np.zeros((32, 32))
        if layer == "layer1":
            heat[4:8, 20:24] = 1.0
        return heat

    monkeypatch.setattr(cam, "grad_cam", fake)
    heat = cam.positive_cam(model, random_split(1, size=32)[0], 1)
    assert tried == ["layer2", "layer1"] and cam.cam_box(heat) == (20, 4, 24, 8)


def test_grad_cam_works_with_a_frozen_model():
    model = tiny(num_classes=2, img_size=32)
    backbone.freeze(model, -1)
    for p in model.parameters():
        p.requires_grad = False
    heat = grad_cam(model, random_split(1, size=32)[0], 1, cam_layer(model, 32))
    assert heat.shape == (32, 32) and heat.min() >= 0 and heat.max() <= 1
