"""The pretraining source (glyphs), augmentation, a person's image as the model sees it, and the
Model tab's numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from shared.transfer import backbone, data, glyphs, report
from shared.transfer.augment import Jitter, affine
from shared.transfer.data import TransferInputError
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


def square(size=32, box=(10, 10, 20, 20)) -> torch.Tensor:
    image = torch.zeros(1, 1, size, size)
    x0, y0, x1, y1 = box
    image[..., y0:y1, x0:x1] = 1
    return image


def test_affine_without_jitter_is_the_identity():
    still = Jitter(rotation=0, scale=(1, 1), shift=0, shear=0)
    image = square()
    assert torch.allclose(affine(image, still), image, atol=1e-5)


def test_affine_zoom_and_shift_do_what_they_say():
    still = Jitter(rotation=0, scale=(1, 1), shift=0, shear=0)
    image = square(box=(12, 12, 20, 20))
    half = affine(image, still, zoom=torch.tensor([0.5]))
    assert float(half.sum()) == pytest.approx(float(image.sum()) / 4, rel=0.15)
    moved = affine(image, Jitter(rotation=0, scale=(1, 1), shift=0.25, shear=0))
    ys, xs = torch.nonzero(moved[0, 0] > 0.5, as_tuple=True)
    assert abs(xs.float().mean() - 15.5) > 1 or abs(ys.float().mean() - 15.5) > 1


def test_affine_keeps_each_image_its_own_jitter():
    images = square().repeat(8, 1, 1, 1)
    out = affine(images, Jitter(rotation=30, scale=(0.8, 1.2), shift=0.1, shear=0.2))
    assert len({round(float(o.sum()), 3) for o in out}) > 4


def digit_on_paper(index=0, scale=20, offset=(37, 11), canvas=(240, 200)):
    """scikit-learn's digit `index`, drawn dark on white paper, enlarged, off centre."""
    digit = data.digits(data.DIGITS)[0][index]
    big = Image.eval(digit, lambda v: 255 - v).resize((8 * scale, 8 * scale), Image.NEAREST)
    paper = Image.new("L", canvas, 255)
    paper.paste(big, offset)
    return digit, paper


def test_a_digit_on_paper_looks_like_the_training_digit():
    digit, paper = digit_on_paper(0)
    seen, (left, top, side) = data.model_view(paper, "digits")
    assert seen.size == (8, 8)
    a, b = np.asarray(seen, float).ravel(), np.asarray(digit, float).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.9
    # the view is the square around the ink, in the paper's own pixels
    ink_rows, ink_cols = np.nonzero(255 - np.asarray(paper) > 80)
    assert left <= ink_cols.min() and ink_cols.max() < left + side
    assert top <= ink_rows.min() and ink_rows.max() < top + side
    assert side == max(np.ptp(ink_rows), np.ptp(ink_cols)) + 1


def test_a_transparent_drawing_is_read_as_ink_on_paper():
    drawing = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).line([(50, 10), (50, 90)], fill=(0, 0, 0, 255), width=8)
    seen, (left, top, side) = data.model_view(drawing, "digits")
    pixels = np.asarray(seen)
    assert pixels[:, 3:5].mean() > 4 * pixels[:, [0, 7]].mean()  # a bright vertical stroke
    assert top <= 10 and top + side >= 90


def test_a_blank_drawing_is_refused_by_name():
    with pytest.raises(TransferInputError, match="blank"):
        data.model_view(Image.new("L", (50, 50), 255), "digits")


def test_a_scikit_learn_digit_is_left_as_it_is():
    digit = data.digits(data.DIGITS)[0][5]
    seen, view = data.model_view(digit, "digits")
    assert seen is digit and view == (0, 0, 8)


def test_other_models_see_the_centre_square():
    image = Image.new("RGB", (60, 40))
    seen, view = data.model_view(image, None)
    assert seen.size == (40, 40) and view == (10, 0, 40)


METRICS = {
    "full": {
        "accuracy": {"scratch": 0.9, "head_only": 0.8, "fine_tuned": 0.95},
        "seeds": {"scratch": [0.9, 0.9], "head_only": [0.7, 0.9], "fine_tuned": [0.95, 0.95]},
        "train_per_class": 108,
    },
    "few_label": {
        "5": {
            "seeds": [
                {"scratch": 0.5, "head_only": 0.7, "fine_tuned": 0.8},
                {"scratch": 0.6, "head_only": 0.9, "fine_tuned": 0.9},
            ]
        }
    },
}


def test_label_curve_has_each_method_at_each_size_with_its_spread():
    curve = report.label_curve(METRICS).set_index(["labels_per_class", "method"])
    assert len(curve) == 6
    five = curve.loc[5]
    assert five.loc["from scratch", "accuracy"] == pytest.approx(0.55)
    assert five.loc["head only", "accuracy"] == pytest.approx(0.8)
    assert (five.loc["head only", "low"], five.loc["head only", "high"]) == (0.7, 0.9)
    assert curve.loc[(108, "head only"), "accuracy"] == pytest.approx(0.8)
    assert (curve["seeds"] == 2).all()


def test_comparison_table_and_lesson_read_the_same_numbers():
    table = report.comparison_table(METRICS)
    assert table["labels per class"].tolist() == ["5", "108 (full set)"]
    assert table.iloc[0]["fine-tuned"] == "85.0% (80.0% to 90.0%)"
    assert table.iloc[0]["from scratch"] == "55.0% (50.0% to 60.0%)"
    assert "85.0% against 55.0% from scratch: 30.0 points ahead" in report.lesson(METRICS)
    behind = {
        "few_label": {"5": {"seeds": [{"scratch": 0.9, "head_only": 0.5, "fine_tuned": 0.8}]}}
    }
    assert "10.0 points behind" in report.lesson(behind)
    assert report.comparison_table({}).empty and report.lesson({}) == ""


def test_head_learning_rate_scale_applies_to_the_head_only():
    torch.manual_seed(0)
    model = backbone.create("test_resnet", 3, 16)
    groups = backbone.layerwise_groups(model, 1e-3, 0.05, 0.5, head_scale=10)
    by_stage = {g["stage"]: g["lr"] for g in groups}
    top = backbone.stages(model)[-1][0]
    assert by_stage["head"] == pytest.approx(1e-2) and by_stage[top] == pytest.approx(5e-4)
