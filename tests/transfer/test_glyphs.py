"""The pretraining source: glyphs rendered by shared/transfer/glyphs.py."""

from __future__ import annotations

import pytest
import torch

from shared.transfer import glyphs
from shared.transfer.glyphs import GlyphConfig

SMALL = GlyphConfig(n_images=300)


@pytest.fixture(scope="module")
def small_glyphs():
    return glyphs.generate(SMALL)


def test_every_face_renders_every_letter():
    protos, names = glyphs.prototypes()
    assert names == list(glyphs.LETTERS) and len(names) == len(set(names)) == 37
    assert protos.shape == (len(glyphs.FACES) * 37, 1, glyphs.PROTO_SIZE, glyphs.PROTO_SIZE)
    ink = protos.flatten(1).amax(dim=1)
    assert (ink > 0.9).all(), "a face drew no letter (a missing font or glyph)"
    # each prototype fills its square: the longer side spans the frame
    rows = (protos[:, 0] > 0.3).any(dim=2).sum(dim=1)
    cols = (protos[:, 0] > 0.3).any(dim=1).sum(dim=1)
    assert (torch.maximum(rows, cols) >= glyphs.PROTO_SIZE - 4).all()


def test_glyphs_are_deterministic_from_their_seed(small_glyphs):
    x, y, names = small_glyphs
    again, y2, _ = glyphs.generate(SMALL)
    assert torch.equal(x, again) and torch.equal(y, y2)
    other, y3, _ = glyphs.generate(GlyphConfig(n_images=300, seed=1))
    assert not torch.equal(x, other) and not torch.equal(y, y3)
    assert x.dtype == torch.uint8 and x.shape == (300, 32, 32)
    assert y.min() >= 0 and y.max() < len(names) and len(set(y.tolist())) > 30


def test_glyphs_are_white_ink_on_black_filling_most_of_the_frame(small_glyphs):
    x, _, _ = small_glyphs
    assert (x.flatten(1).amax(dim=1) == 255).all()  # the ink is at full white, like digits
    corners = torch.cat([x[:, :3, :3], x[:, -3:, -3:]], dim=1).float().mean()
    assert corners < 30  # the background is dark
    ink = x > 100
    height = ink.any(dim=2).float().sum(dim=1) / 32
    width = ink.any(dim=1).float().sum(dim=1) / 32
    longer = torch.maximum(height, width)
    assert 0.5 < longer.median() < 1.0  # letters fill most of the frame, as digits do
    assert longer.min() > 0.2  # nothing rendered as a speck


def test_to_model_input_matches_timm_normalisation(small_glyphs):
    x, _, _ = small_glyphs
    config = {"input_size": (3, 32, 32), "mean": (0.5, 0.4, 0.3), "std": (0.2, 0.25, 0.5)}
    got = glyphs.to_model_input(x[:4], config)
    assert got.shape == (4, 3, 32, 32)
    want = (x[:4].float() / 255 - 0.4) / 0.25
    assert torch.allclose(got[:, 1], want, atol=1e-5)
    assert glyphs.to_model_input(x[:2], {**config, "input_size": (3, 48, 48)}).shape[-1] == 48
