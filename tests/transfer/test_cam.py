"""Grad-CAM and the box around its peak: shared/transfer/cam.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from shared.transfer import backbone, data, hub_io, recipe
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
