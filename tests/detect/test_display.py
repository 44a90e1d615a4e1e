"""What a visitor sees of a detector's answer: shared/detect/display.py."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from shared.detect import display
from shared.detect.display import Found
from shared.detect.evaluate import Detection
from shared.detect.model import DetectInputError, Detector
from tests.detect.test_model import one_thread, tiny_config  # noqa: F401 (autouse)

FOUND = [  # display pixels at half the visitor's size, best first
    Detection("3", 0.9, (10.0, 20.0, 30.0, 44.0)),
    Detection("7", 0.6, (50.0, 8.0, 70.0, 30.0)),
    Detection("3", 0.3, (80.0, 80.0, 96.0, 100.0)),
]


def test_a_threshold_keeps_the_boxes_scoring_at_least_it_in_the_visitors_pixels():
    state = Found(Image.new("RGB", (128, 128)), 0.5, FOUND, note="Scene 1 holds the digits 3, 7.")
    view = display.shown(state, 0.6)
    assert view.boxes == [((10, 20, 30, 44), "3 0.90"), ((50, 8, 70, 30), "7 0.60")]
    assert view.table.columns.tolist() == display.COLUMNS
    assert view.table.to_dict("records") == [
        {"label": "3", "score": 0.9, "x0": 20.0, "y0": 40.0, "x1": 60.0, "y1": 88.0},
        {"label": "7", "score": 0.6, "x0": 100.0, "y0": 16.0, "x1": 140.0, "y1": 60.0},
    ]
    assert view.summary == (
        "**2 found** at score >= 0.60: 1 x 3, 1 x 7. Scene 1 holds the digits 3, 7."
    )
    assert display.shown(state, 0.3).summary.startswith("**3 found** at score >= 0.30: 2 x 3")


def test_nothing_above_the_threshold_says_what_to_try():
    view = display.shown(Found(Image.new("RGB", (64, 64)), 1.0, FOUND), 0.95)
    assert view.boxes == [] and view.table.empty and view.table.columns.tolist() == display.COLUMNS
    assert view.summary.startswith("**Nothing found** at score >= 0.95. Lower the threshold")


def test_large_images_are_detected_at_display_size_and_odd_sizes_are_refused():
    torch.manual_seed(0)
    detector = Detector(tiny_config())
    found = display.detect_for_display(detector, Image.new("L", (1024, 256), 0), "note")
    assert found.image.size == (512, 128) and found.scale == 0.5 and found.note == "note"
    assert found.image.mode == "RGB"
    small = display.detect_for_display(detector, Image.new("L", (64, 48)))
    assert small.image.size == (64, 48) and small.scale == 1.0
    with pytest.raises(DetectInputError, match="5000x4000 pixels: too large"):
        display.detect_for_display(detector, Image.new("L", (5000, 4000)))
    with pytest.raises(DetectInputError, match="4x40 pixels: too small to hold objects"):
        display.detect_for_display(detector, Image.new("L", (4, 40)))


def test_transparent_strokes_are_flattened_onto_white_paper():
    sketch = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    sketch.putpixel((3, 4), (0, 0, 0, 255))
    flat = display.flatten(sketch)
    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (255, 255, 255)
    assert flat.getpixel((3, 4)) == (0, 0, 0)
    assert display.flatten(Image.new("L", (4, 4), 9)).getpixel((1, 1)) == (9, 9, 9)
