"""The detector's Hub folder: shared/detect/hub_io.py."""

from __future__ import annotations

import pytest
import torch
from conftest import cache_repo

from shared.detect import hub_io, scenes
from shared.detect import train as recipe
from shared.detect.evaluate import predict
from shared.detect.model import Detector
from shared.hub import ModelSourceError
from tests.detect.test_model import classifier_folder, one_thread, tiny_config  # noqa: F401 (autouse)

# --- the artifact --------------------------------------------------------------------------


def test_save_and_load_reproduce_the_boxes_bit_for_bit(tmp_path):
    torch.manual_seed(0)
    detector = Detector(tiny_config(score_threshold=0.4))
    hub_io.save(detector, tmp_path / "det", {"note": "test"})
    (tmp_path / "det" / "metrics.json").write_text('{"map": 0.5}')
    loaded = hub_io.load(tmp_path / "det")
    assert loaded.config == detector.config and loaded.metrics == {"map": 0.5}
    images = [x for x, _ in recipe.examples(scenes.make_scenes(3, "test"))]
    for a, b in zip(predict(detector, images), predict(loaded.model, images), strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)
    # the same folder by Hub repo id, from the offline cache
    cache_repo("someone/detect-test", tmp_path / "det")
    again = hub_io.load("someone/detect-test")
    assert again.config == detector.config


def test_load_refuses_a_classifier_folder_and_pickles(tmp_path):
    with pytest.raises(ModelSourceError, match="not a detector"):
        hub_io.load(classifier_folder(tmp_path / "clf"))
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "config.json").write_text("{}")
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"not read")
    with pytest.raises(ModelSourceError, match="missing model.safetensors"):
        hub_io.load(tmp_path / "pickled")
