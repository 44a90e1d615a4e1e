"""Random affine jitter for a whole batch at once: one `affine_grid` call instead of a PIL loop.

Used twice: to make the printed-glyph source varied enough to pretrain on, and as the light
augmentation that every method (scratch, head only, fine-tuned) gets on the target data, so the
comparison measures the pretrained weights and not the augmentation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Jitter:
    rotation: float = 10.0  # degrees either way: handwriting leans about this much
    scale: tuple[float, float] = (0.9, 1.1)  # relative size
    shift: float = 0.08  # of the image's side, either way
    shear: float = 0.1  # x += shear * y, either way: slanted strokes


LIGHT = Jitter()  # the target data's augmentation, the same for every method


def affine(
    images: torch.Tensor,
    jitter: Jitter,
    generator: torch.Generator | None = None,
    zoom: torch.Tensor | None = None,
) -> torch.Tensor:
    """Rotate, scale, shear and shift each image of (N, C, H, W) by its own random amount.

    `zoom` (N,) multiplies each image's random scale. Pixels brought in from outside repeat the
    border, which is background in digits and glyphs, whatever the normalisation made of it.
    """
    n = len(images)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-jitter.rotation, jitter.rotation) * math.pi / 180
    # affine_grid maps output to input coordinates: dividing by the scale enlarges the glyph
    scale = uniform(*jitter.scale) * (1 if zoom is None else zoom)
    inv_scale = 1 / scale
    shear = uniform(-jitter.shear, jitter.shear)
    cos, sin = torch.cos(angle) * inv_scale, torch.sin(angle) * inv_scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin + shear * cos
    theta[:, 1, 0], theta[:, 1, 1] = sin, cos + shear * sin
    theta[:, :, 2] = 2 * torch.stack([uniform(-1, 1), uniform(-1, 1)], dim=1) * jitter.shift
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid.to(images.dtype), padding_mode="border", align_corners=False)
