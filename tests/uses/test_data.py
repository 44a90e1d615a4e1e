"""The digits split, and pictures people give made into digits (or refused by name)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from shared.errors import UserInputError
from shared.uses.data import ImageError, load_split, to_digit


def test_the_split_is_70_30_stratified_scaled_and_read_only():
    digits = load_split(0)
    assert digits.train_x.shape == (1257, 64) and digits.test_x.shape == (540, 64)
    assert digits.train_x.dtype == np.float32 and digits.test_x.min() == 0
    assert digits.train_x.max() == 1 and digits.test_x.max() == 1
    train_counts, test_counts = np.bincount(digits.train_y), np.bincount(digits.test_y)
    share = test_counts / (train_counts + test_counts)
    assert np.all(np.abs(share - 0.3) < 0.01)  # every class 30% held out
    every = load_digits().data / 16
    rows = {r.tobytes() for r in every.astype(np.float32)}
    assert {r.tobytes() for r in digits.test_x} <= rows
    overlap = {r.tobytes() for r in digits.train_x} & {r.tobytes() for r in digits.test_x}
    assert len(overlap) < 5  # only the few digits the data holds twice
    with pytest.raises(ValueError):
        digits.train_x[0, 0] = 1
    assert not np.array_equal(load_split(1).test_y, digits.test_y)


def test_a_digit_of_the_data_stays_itself():
    row = load_split(0).test_x[3].reshape(8, 8)
    assert np.array_equal(to_digit(row), row / row.max())
    assert np.allclose(to_digit(row * 16), row / row.max())  # load_digits' own 0-16 scale


def test_a_drawing_on_white_becomes_bright_ink_on_dark_filling_the_frame():
    drawing = np.full((200, 200, 3), 255, dtype=np.uint8)
    drawing[10:106, 20:44] = 0  # a black "1", 96 px tall, drawn small in the top left corner
    digit = to_digit(drawing)
    assert digit.shape == (8, 8) and digit.dtype == np.float32
    # the square around the ink (96 px) becomes the frame: the stroke runs its full height,
    # centred in columns 3 and 4
    assert np.allclose(digit[:, 3:5], 1) and np.allclose(digit[:, [0, 1, 5, 6, 7]], 0)


def test_strokes_on_a_transparent_canvas_are_the_ink_whatever_their_colour():
    canvas = np.zeros((64, 64, 4), dtype=np.uint8)  # transparent black
    canvas[8:16, :, 3] = 255  # an opaque black stroke across the canvas, 8 px thick
    digit = to_digit(canvas)
    assert np.allclose(digit[3:5], 1) and np.allclose(np.delete(digit, [3, 4], axis=0), 0)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (None, "No image"),
        (np.zeros((8, 8)), "blank"),
        (np.full((100, 100, 3), 255, dtype=np.uint8), "blank"),  # a white page
        (np.ones((4, 4)), "8 to 4096 pixels"),
        (np.ones((5000, 8)), "8 to 4096 pixels"),
        (np.ones((8, 8, 8, 8)), "2-D picture"),
        (np.ones((8, 8, 2)), "2-D picture"),
        (np.full((8, 8), np.nan), "NaN"),
        (np.array([["a"] * 8] * 8), "pixel numbers"),
    ],
)
def test_a_bad_picture_gets_a_named_error(image, message):
    with pytest.raises(ImageError, match=message) as caught:
        to_digit(image)
    assert isinstance(caught.value, UserInputError)
