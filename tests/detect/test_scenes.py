"""Synthetic digit scenes: shared/detect/scenes.py."""

from __future__ import annotations

import numpy as np

from shared.detect import scenes
from tests.detect.test_model import one_thread  # noqa: F401 (autouse)

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
