"""scikit-learn's digits as the uses are measured on them, and any picture made into a digit.

The 1,797 digits are 8x8 pixels of ink from 0 to 16. They are scaled to [0, 1], so a pixel is
a brightness, PSNR has a peak of 1 and a decoder can end in a sigmoid, and split 70/30 with
every class in the same share on both sides.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from shared.errors import UserInputError

SIDE = 8  # the digits are 8x8 pixels
PIXELS = SIDE * SIDE
INK_MAX = 16.0  # load_digits counts ink from 0 to 16 per pixel
TEST_FRACTION = 0.3  # the 70/30 split
MAX_SIDE = 4096  # a drawing or upload larger than this is refused rather than resampled
BLANK = 0.05  # ink below this brightness (of 1) is paper: an image with no more is blank


class ImageError(UserInputError):
    """A picture that cannot be read as a digit; the message says why and what to give."""


@dataclass(frozen=True)
class Digits:
    """The split: rows of 64 pixels in [0, 1] and their classes."""

    train_x: np.ndarray  # (1257, 64) float32
    train_y: np.ndarray  # (1257,) int64
    test_x: np.ndarray  # (540, 64) float32
    test_y: np.ndarray  # (540,) int64


@functools.lru_cache(maxsize=4)
def load_split(seed: int = 0) -> Digits:
    """The 70/30 stratified split for `seed`, read once and shared read-only."""
    bunch = load_digits()
    x = (bunch.data / INK_MAX).astype(np.float32)
    y = bunch.target.astype(np.int64)
    parts = train_test_split(x, y, test_size=TEST_FRACTION, stratify=y, random_state=seed)
    for part in parts:
        part.setflags(write=False)
    train_x, test_x, train_y, test_y = parts
    return Digits(train_x, train_y, test_x, test_y)


def to_digit(image: np.ndarray | None) -> np.ndarray:
    """A picture as a digit: 8x8 float32 in [0, 1], ink bright on a dark ground, as the data.

    Takes what a person gives: an 8x8 digit from the data, or a drawing or photo of any size
    (grey, RGB or RGBA; 0-255 or 0-1). Transparent pixels count as background, a light
    background is inverted, the square around the ink is averaged down to 8x8 and the ink
    stretched to 1.
    """
    if image is None:
        raise ImageError("No image: pick a digit or draw one.")
    pixels = np.asarray(image)
    if pixels.dtype == object or not np.issubdtype(pixels.dtype, np.number):
        raise ImageError(f"The image must be an array of pixel numbers, not {pixels.dtype}.")
    pixels = pixels.astype(np.float64)
    if pixels.ndim == 3 and pixels.shape[2] in (1, 3, 4):
        pixels = _grey(pixels)
    if pixels.ndim != 2:
        raise ImageError(
            f"The image must be a 2-D picture, grey or colour (got shape {pixels.shape})."
        )
    if min(pixels.shape) < SIDE or max(pixels.shape) > MAX_SIDE:
        raise ImageError(
            f"The image must be {SIDE} to {MAX_SIDE} pixels on each side "
            f"(got {pixels.shape[1]}x{pixels.shape[0]})."
        )
    if not np.isfinite(pixels).all():
        raise ImageError("The image holds NaN or infinite pixels.")
    if pixels.max() > 1:  # 0-255 (or the digits' 0-16): bring to [0, 1]
        pixels = pixels / (255.0 if pixels.max() > INK_MAX else INK_MAX)
    pixels = np.clip(pixels, 0, 1)
    if np.median(pixels) > 0.5:  # dark ink on a light ground, as people draw: invert
        pixels = 1 - pixels
    if pixels.max() < BLANK:
        raise ImageError("The image is blank: draw or pick a digit.")
    if pixels.shape != (SIDE, SIDE):
        square = Image.fromarray(_ink_square(pixels).astype(np.float32), mode="F")
        pixels = np.asarray(square.resize((SIDE, SIDE), Image.Resampling.BOX), dtype=np.float64)
    return (pixels / pixels.max()).astype(np.float32)


def _ink_square(pixels: np.ndarray) -> np.ndarray:
    """The smallest square around the ink, centred on it: the digits' strokes fill their
    frame's height, and a digit drawn small in a corner should look like them."""
    rows, cols = np.nonzero(pixels >= BLANK * pixels.max())
    top, left = rows.min(), cols.min()
    height, width = rows.max() + 1 - top, cols.max() + 1 - left
    side = max(height, width)
    square = np.zeros((side, side))
    y, x = (side - height) // 2, (side - width) // 2
    square[y : y + height, x : x + width] = pixels[top : top + height, left : left + width]
    return square


def _grey(pixels: np.ndarray) -> np.ndarray:
    """Colour to grey. On a canvas with transparent pixels the opaque strokes are the ink,
    whatever their colour; an opaque picture keeps its brightness."""
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3] / (255.0 if pixels[..., 3].max() > 1 else 1.0)
        if alpha.min() < 1:
            return alpha
    return pixels[..., :3].mean(axis=2)
