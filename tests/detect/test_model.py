"""The detector (shared/detect/model.py): every architecture, backbones, stages and heads."""

from __future__ import annotations

import pytest
import timm
import torch
from safetensors.torch import load_file
from timm.models import save_for_hf

from shared.detect import scenes
from shared.detect import train as recipe
from shared.detect.evaluate import predict
from shared.detect.model import (
    ARCHITECTURES,
    DetectInputError,
    Detector,
    default_config,
    load_backbone,
)
from shared.transfer import backbone

CLASSES = scenes.CLASSES


@pytest.fixture(autouse=True)
def one_thread():
    """As training/detect.py runs: one thread beats two when other jobs share the 2 cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def classifier_folder(path, name: str = "test_resnet", seed: int = 0):
    """A classification "pretrained model" folder in timm's Hub layout, random weights."""
    torch.manual_seed(seed)
    model = timm.create_model(name, num_classes=7)
    save_for_hf(model, path, safe_serialization=True)
    return path


def tiny_config(architecture: str = "fcos", **overrides):
    return default_config(architecture, classes=CLASSES, **overrides)


# --- the detector and its backbone ---------------------------------------------------------


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_trains_and_detects(architecture):
    torch.manual_seed(0)
    detector = Detector(tiny_config(architecture))
    batch = recipe.collate(recipe.examples(scenes.make_scenes(2)))
    detector.train()
    total, parts = recipe.loss(detector, batch)
    assert torch.isfinite(total) and parts
    total.backward()
    answers = predict(detector, batch[0])
    assert len(answers) == 2 and set(answers[0]) == {"boxes", "labels", "scores"}


def test_unknown_architecture_and_backbone_are_named():
    with pytest.raises(DetectInputError, match="Unknown detector 'yolo'"):
        default_config("yolo")
    with pytest.raises(Exception, match="resnet18"):
        Detector(tiny_config(backbone="resnet18x"))


def test_backbone_loads_a_classifier_folder_without_its_head(tmp_path):
    source = classifier_folder(tmp_path / "source")
    detector = Detector(tiny_config())
    assert load_backbone(detector, str(source)) == str(source.resolve())
    weights = load_file(source / "model.safetensors")
    body = detector.body.state_dict()
    assert not any(k.startswith("fc.") for k in body)
    assert set(body) == {k for k in weights if not k.startswith("fc.")}
    assert all(torch.equal(body[k], weights[k]) for k in body)


def test_backbone_source_of_another_architecture_is_refused(tmp_path):
    source = classifier_folder(tmp_path / "source", name="test_efficientnet")
    with pytest.raises(DetectInputError, match="'test_efficientnet' backbone, not 'test_resnet'"):
        load_backbone(Detector(tiny_config()), str(source))
    with pytest.raises(DetectInputError, match="does not exist"):
        load_backbone(Detector(tiny_config()), str(tmp_path / "missing"))


def test_stages_are_the_timm_bodys_and_the_head_is_fpn_plus_detector_head():
    detector = Detector(tiny_config())
    stages = backbone.stages(detector)
    assert len(stages) == 5  # stem, layer1..layer4 of a ResNet
    body = {f"net.backbone.body.{n}" for n, _ in detector.body.named_parameters()}
    assert {n for _, names in stages for n in names} == body
    head = set(backbone.head_parameters(detector))
    assert head and not head & body
    assert head | body == {n for n, _ in detector.named_parameters()}
    assert any(n.startswith("net.backbone.fpn.") for n in head)
