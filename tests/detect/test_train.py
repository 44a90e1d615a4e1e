"""The detection recipe: shared/detect/train.py."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import box_iou

from shared.detect import scenes
from shared.detect import train as recipe
from shared.detect.evaluate import detections, predict
from shared.detect.model import DetectInputError, default_config
from tests.detect.test_model import classifier_folder, one_thread, tiny_config  # noqa: F401 (autouse)


def test_head_only_training_leaves_the_frozen_backbone_and_its_batchnorm_alone(tmp_path):
    detector = recipe.build(tiny_config(), str(classifier_folder(tmp_path / "s")), seed=0)
    before = {k: v.clone() for k, v in detector.state_dict().items()}
    split = recipe.examples(scenes.make_scenes(8))
    config = recipe.RecipeConfig(epochs=1, batch_size=4).stage_config()
    recipe.train(detector, split, config, "head_only")
    after = detector.state_dict()
    body = [k for k in after if k.startswith("net.backbone.body.")]
    assert any("running_mean" in k for k in body)
    assert all(torch.equal(before[k], after[k]) for k in body)
    assert not all(torch.equal(before[k], after[k]) for k in after if k.startswith("net.head."))


def test_staged_fine_tuning_moves_the_backbone_too(tmp_path):
    detector = recipe.build(tiny_config(), str(classifier_folder(tmp_path / "s")), seed=0)
    before = {k: v.clone() for k, v in detector.body.state_dict().items()}
    split = recipe.examples(scenes.make_scenes(8))
    stages = recipe.train(
        detector, split, recipe.RecipeConfig(epochs=2, batch_size=4).stage_config(), "fine_tuned"
    )
    assert [s.n_frozen for s in stages] == [-1, 0]
    assert stages[0].trainable < stages[1].trainable
    after = detector.body.state_dict()
    assert not all(torch.equal(before[k], after[k]) for k in after)


@pytest.mark.slow
def test_a_trained_detector_finds_the_right_digits_on_easy_scenes():
    """Zeros and ones, one or two per scene: 48 scenes x 10 epochs from scratch learn them."""
    config = default_config(classes=["0", "1"])
    easy = {"per_scene": (1, 2), "only": (0, 1)}
    train = recipe.examples(scenes.make_scenes(48, "train", **easy))
    test = recipe.examples(scenes.make_scenes(20, "test", per_scene=(1, 1), only=(0, 1)))
    detector = recipe.build(config, seed=0)
    run = recipe.RecipeConfig(epochs=10, batch_size=8).stage_config()
    recipe.train(detector, train, run, "scratch")
    right = 0
    for answer, (_, truth) in zip(predict(detector, [x for x, _ in test]), test, strict=True):
        best = detections(answer, config.classes)[0]  # the most confident box
        box = torch.tensor([best.box])
        hit = box_iou(box, truth["boxes"]).max() > 0.5
        right += hit and best.label == config.classes[int(truth["labels"][0]) - 1]
    assert right >= 12, f"{right}/20 scenes: best box on the right digit"  # measured 16/20
    assert recipe.evaluate(detector, test)["map_50"] > 0.4  # measured 0.69


def test_fine_tune_trains_a_new_head_for_a_zips_classes_on_the_base_backbone(tmp_path):
    import dataclasses

    from shared.detect import coco
    from shared.detect.hub_io import LoadedDetector

    model = recipe.build(tiny_config(), str(classifier_folder(tmp_path / "s")), seed=0)
    base = LoadedDetector(model, model.config, tmp_path, {})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = coco.load_zip(coco.write_scenes_zip(tmp_path / "z.zip", n=4))
    data = dataclasses.replace(data, classes=[f"d{c}" for c in data.classes])
    tuned = recipe.fine_tune(base, data, 1)
    assert tuned.detector.config.classes == data.classes and tuned.detector.folder == tmp_path
    assert tuned.detector.config.img_size == base.config.img_size
    assert len(tuned.stage.history) == 1 and tuned.stage.n_frozen == -1
    assert 0 <= tuned.score["map_50"] <= 1
    after = tuned.detector.model.state_dict()
    body = [k for k in after if k.startswith("net.backbone.body.")]
    assert body and all(torch.equal(before[k], after[k]) for k in body)  # carried over, frozen
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # base untouched
    many = dataclasses.replace(data, classes=[str(i) for i in range(recipe.MAX_CLASSES + 1)])
    with pytest.raises(DetectInputError, match="names 101 categories; .* at most 100"):
        recipe.fine_tune(base, many, 1)
