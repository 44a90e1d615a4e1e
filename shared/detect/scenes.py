"""Built-in detection data: scikit-learn's handwritten digits pasted on a black canvas.

Each scene holds 2 to 6 digits at random sizes and places, each with its exact box (the
bounding box of its ink) and class. The 1,797 digits are split once into a training pool and
a test pool, so no digit image seen in a training scene ever appears in a test scene. Scenes
are drawn from a seed: every run and test sees the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torchvision.ops import box_iou

CLASSES = [str(d) for d in range(10)]  # label i + 1 is digit i: torchvision keeps 0 for background
CANVAS = 128  # pixels; room for 6 digits of up to 40 px with little overlap
DIGITS_PER_SCENE = (2, 6)
DIGIT_SIZE = (20, 40)  # pixels per side of a pasted 8x8 digit (2.5x to 5x upscaled)
INK = 40  # grey levels (of 255) below this are background: bilinear upscaling leaves faint halos
MAX_OVERLAP = 0.2  # IoU a new digit may have with one already placed ("some overlap allowed")
TEST_POOL = 0.25  # share of the digits held out for test scenes, stratified by class
POOL_SEED = 0  # fixed, so the pools never change with the scenes' seed


@dataclass
class Scene:
    image: np.ndarray  # (H, W) uint8, white ink on black
    boxes: np.ndarray  # (n, 4) float32, x0 y0 x1 y1 in pixels, x1/y1 exclusive
    labels: np.ndarray  # (n,) int64, 1..10 (label - 1 is the digit)

    def pil(self) -> Image.Image:
        return Image.fromarray(self.image).convert("RGB")


def digit_pools() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (images, digits), "test": (images, digits)}: disjoint pools, 8x8 uint8 images."""
    data = load_digits()
    pixels = (data.images * (255 / 16)).round().astype(np.uint8)  # digits range 0..16
    index = np.arange(len(pixels))
    train, test = train_test_split(
        index, test_size=TEST_POOL, stratify=data.target, random_state=POOL_SEED
    )
    return {name: (pixels[i], data.target[i]) for name, i in (("train", train), ("test", test))}


def make_scenes(
    n: int,
    pool: str = "train",
    seed: int = 0,
    size: int = CANVAS,
    per_scene: tuple[int, int] = DIGITS_PER_SCENE,
    only: Sequence[int] | None = None,
) -> list[Scene]:
    """`n` scenes of `size` x `size` pixels drawn from the digit `pool` ("train" or "test"),
    each with `per_scene` (lowest, highest) digits, of the digits `only` if given."""
    images, digits = digit_pools()[pool]
    if only is not None:
        keep = np.isin(digits, only)
        images, digits = images[keep], digits[keep]
    rng = np.random.default_rng([seed, 0 if pool == "train" else 1])
    return [_scene(images, digits, rng, size, per_scene) for _ in range(n)]


def _scene(
    images: np.ndarray,
    digits: np.ndarray,
    rng: np.random.Generator,
    size: int,
    per_scene: tuple[int, int],
) -> Scene:
    canvas = np.zeros((size, size), np.uint8)
    boxes, labels = [], []
    for _ in range(rng.integers(per_scene[0], per_scene[1] + 1)):
        pick = rng.integers(len(images))
        side = int(rng.integers(DIGIT_SIZE[0], min(DIGIT_SIZE[1], size) + 1))
        tile = np.asarray(Image.fromarray(images[pick]).resize((side, side), Image.BILINEAR))
        tile = np.where(tile >= INK, tile, 0).astype(np.uint8)
        ys, xs = np.nonzero(tile)
        ink = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
        for _attempt in range(50):  # a free spot is almost always found within a few tries
            x, y = rng.integers(0, size - side + 1, size=2)
            box = ink + np.array([x, y, x, y], np.float32)
            if not boxes or _max_iou(box, boxes) <= MAX_OVERLAP:
                break
        else:
            continue  # the canvas is full: this scene gets one digit fewer
        # the brighter stroke wins where digits overlap, as ink on ink would look
        np.maximum(canvas[y : y + side, x : x + side], tile, out=canvas[y : y + side, x : x + side])
        boxes.append(box)
        labels.append(int(digits[pick]) + 1)
    return Scene(canvas, np.array(boxes, np.float32).reshape(-1, 4), np.array(labels, np.int64))


def _max_iou(box: np.ndarray, boxes: list[np.ndarray]) -> float:
    return box_iou(torch.from_numpy(box[None]), torch.from_numpy(np.stack(boxes))).max().item()
