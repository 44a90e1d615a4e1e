"""A new head for a visitor's classes on a frozen backbone: shared/transfer/finetune.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import folder_files
from PIL import Image

from shared.hub import load_json
from shared.transfer import backbone, data, finetune, hub_io, recipe
from shared.transfer.cam import classify


@pytest.fixture
def base(tmp_path) -> hub_io.Classifier:
    """A tiny digit classifier saved and loaded the way the app loads its model."""
    torch.manual_seed(0)
    model = backbone.create("test_resnet", 3, 16)
    hub_io.save(model, tmp_path / "base", ["0", "1", "2"], {"input_style": "digits"})
    return hub_io.load(tmp_path / "base")


def tiles(n: int = 6) -> tuple[list[Image.Image], np.ndarray, list[str]]:
    """Dark and bright tiles: two classes any backbone tells apart."""
    images = [Image.new("L", (16, 16), 20 + i) for i in range(n)]
    images += [Image.new("L", (16, 16), 230 - i) for i in range(n)]
    return images, np.array([0] * n + [1] * n), ["bright", "dark"][::-1]


def test_the_new_head_learns_the_classes_on_a_frozen_copy_of_the_backbone(base):
    before = {k: v.clone() for k, v in base.model.state_dict().items()}
    images, labels, names = tiles()
    epochs = []
    tuned = finetune.fine_tune(base, images, labels, names, 4, on_epoch=epochs.append)
    clf = tuned.classifier
    assert clf.labels == ["dark", "bright"] and clf.folder == base.folder
    assert clf.model is not base.model and clf.data_config == base.data_config
    assert [row["epoch"] for row in epochs] == [1, 2, 3, 4] and len(tuned.run.history) == 4
    history = tuned.run.history
    assert history[-1]["train_loss"] < history[0]["train_loss"]  # the head learns
    split = (data.encode(images, base.data_config), torch.as_tensor(labels))
    assert tuned.accuracy == recipe.accuracy(clf.model, split)  # of the model returned
    assert clf.config[hub_io.EXTRA_KEY] == {
        "head": {},
        "fine_tune": {"images": 12, "epochs": 4, "train_accuracy": tuned.accuracy},
    }
    # no digit-style preparation for the visitor's own pictures
    assert clf.style is None and base.style == "digits"
    after = clf.model.state_dict()
    body = [k for k in after if not k.startswith("fc.")]
    assert all(torch.equal(before[k], after[k]) for k in body)  # the backbone stayed frozen
    assert all(torch.equal(v, before[k]) for k, v in base.model.state_dict().items())
    assert tuned.run.trainable == sum(p.numel() for p in clf.model.fc.parameters())
    assert tuned.summary.startswith("Trained a new head for **dark, bright** on 12 images (")
    assert f": 4 epochs, finished; training accuracy {tuned.accuracy:.1%}." in tuned.summary
    curve = tuned.curve()
    assert curve.columns.tolist() == ["epoch", "value", "series"] and len(curve) == 8
    assert set(curve["series"]) == {"loss", "acc"}


def test_the_head_learns_at_the_probe_rate(base, monkeypatch):
    seen = []
    train_stage = recipe.train_stage
    monkeypatch.setattr(
        recipe, "train_stage", lambda *a, **k: seen.append(a[3]) or train_stage(*a, **k)
    )
    finetune.fine_tune(base, *tiles(2), 1)
    assert seen[0].head_lr_scale == recipe.PROBE_LR_SCALE == 10.0
    # the training CLI's head-only run uses the same rate by default, defined once
    from training.transfer import build_parser

    assert build_parser().parse_args([]).probe_lr_scale == recipe.PROBE_LR_SCALE


def test_a_saved_fine_tune_reloads_with_the_same_answers_and_a_card(base, tmp_path):
    clf = finetune.fine_tune(base, *tiles(), 2).classifier
    finetune.save(clf, tmp_path / "out")
    files = folder_files(tmp_path / "out")
    assert {"config.json", "model.safetensors", "metrics.json", "README.md"} <= set(files)
    assert load_json(tmp_path / "out" / "metrics.json")["images"] == 12
    card = files["README.md"].decode()
    assert "dark, bright" in card and "12 images for 2 epochs" in card
    loaded = hub_io.load(tmp_path / "out")
    image = Image.new("L", (16, 16), 40)
    assert loaded.labels == clf.labels
    assert classify(loaded, image, cam=False).scores == pytest.approx(
        classify(clf, image, cam=False).scores
    )
