"""training.pretrain: the printed-letters "pretrained model", pushed as its own repo and reused."""

from __future__ import annotations

import json

import pytest
import torch
from huggingface_hub import ModelCard

from shared.hub import load_json
from shared.transfer import backbone, glyphs, hub_io
from training import pretrain, transfer


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrained") / "model"
    pretrain.main(["--quick", "--out", str(out)])
    return out


def test_the_folder_is_a_timm_model_of_letters_with_its_card(pretrained):
    config = load_json(pretrained / "config.json")
    assert config["architecture"] == "test_resnet"
    assert config["label_names"] == list(glyphs.LETTERS)
    assert config["transfer"]["role"] == "pretrained source"
    assert config["transfer"]["pretrain"]["images"] == pretrain.QUICK["images"]
    metrics = load_json(pretrained / "metrics.json")
    assert 0 <= metrics["val_accuracy"] <= 1 and metrics["glyphs"]["classes"] == 37
    card = ModelCard.load(pretrained / "README.md")
    assert "printed letters" in card.text and card.data.eval_results[0].metric_value == (
        pytest.approx(metrics["val_accuracy"])
    )
    clf = hub_io.load(pretrained)  # a classifier of letters, loadable like any other
    assert clf.labels == list(glyphs.LETTERS)


def test_pretrained_from_loads_its_features(pretrained):
    clf = hub_io.load(pretrained)
    target = backbone.create("test_resnet", 10, 16, pretrained_from=str(pretrained))
    x = torch.randn(2, 3, 16, 16)
    clf.model.eval(), target.eval()
    with torch.no_grad():
        assert torch.equal(backbone.features(clf.model, x), backbone.features(target, x))


def test_push_to_hub_uploads_the_folder_as_its_own_model_repo(tmp_path, fake_hub):
    out = tmp_path / "glyphs"
    pretrain.main(["--quick", "--out", str(out), "--push-to-hub", "me/glyphs-test-resnet"])
    assert fake_hub["create"]["repo_id"] == "me/glyphs-test-resnet"
    assert fake_hub["upload"]["repo_type"] == "model"
    (_, _, files) = fake_hub["log"][-1]
    assert {"config.json", "model.safetensors", "metrics.json", "README.md"} <= set(files)
    assert json.loads(files["config.json"])["label_names"] == list(glyphs.LETTERS)


def test_transfer_reuses_a_fitting_pretrained_model_and_only_that(pretrained, tmp_path):
    args = transfer.parse_args(["--img-size", "16"])
    assert transfer.fits(pretrained, args)
    assert not transfer.fits(pretrained, transfer.parse_args(["--img-size", "32"]))
    assert not transfer.fits(pretrained, transfer.parse_args(["--backbone", "resnet18"]))
    assert not transfer.fits(tmp_path, args)  # an empty folder


def test_cli_flags_reach_the_config(tmp_path):
    args = pretrain.parse_args(["--images", "123", "--epochs", "7", "--lr", "0.01"])
    config = pretrain.config_from(args)
    assert (config.images, config.epochs, config.lr) == (123, 7, 0.01)
    assert pretrain.config_from(pretrain.parse_args(["--quick"])).images == 2_000


def test_every_flag_reaches_the_saved_model(tmp_path):
    flags = {"--images": 500, "--val-images": 100, "--epochs": 1, "--batch-size": 64,
             "--lr": 0.01, "--img-size": 12, "--threads": 1, "--seed": 2}  # fmt: skip
    out = tmp_path / "m"
    pretrain.main(["--quick", "--out", str(out), "--backbone", "test_resnet"]
                  + [str(v) for pair in flags.items() for v in pair])  # fmt: skip
    saved = load_json(out / "config.json")["transfer"]["pretrain"]
    assert {f"--{k.replace('_', '-')}": v for k, v in saved.items() if k != "backbone"} == flags
    assert load_json(out / "config.json")["pretrained_cfg"]["input_size"] == [3, 12, 12]
    metrics = load_json(out / "metrics.json")
    assert metrics["glyphs"] == {"train": 500, "val": 100, "classes": 37}
    parser_flags = {
        option
        for action in pretrain.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--")
    }
    exercised = {*flags, "--quick", "--out", "--backbone", "--push-to-hub", "--help"}
    assert parser_flags <= exercised, parser_flags - exercised
