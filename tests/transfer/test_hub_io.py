"""Transfer classifiers in timm's Hub layout: exactly what `save` writes and `load` accepts."""

from __future__ import annotations

import json

import pytest
import timm
import torch
from conftest import cache_repo, folder_files

from shared.hub import ModelSourceError, load_json, save_json
from shared.transfer import backbone, hub_io

X = torch.linspace(-1, 1, 2 * 3 * 16 * 16).reshape(2, 3, 16, 16)


def source_model(**overlay):
    """A tiny timm model for 3 classes whose pretrained config says what `overlay` says."""
    torch.manual_seed(0)
    cfg = {"num_classes": 3, "input_size": (3, 16, 16), **overlay}
    return timm.create_model("test_resnet", num_classes=3, pretrained_cfg_overlay=cfg)


def test_save_writes_our_labels_and_block_and_drops_the_sources(tmp_path):
    model = source_model(
        label_names=["x", "y", "z"],
        label_descriptions={"x": "an x"},
        crop_pct=0.875,
        test_input_size=(3, 20, 20),
        test_crop_pct=0.95,
    )
    hub_io.save(model, tmp_path / "m", ("a", "b", "c"), {"input_style": "digits", "n": 1})
    assert set(folder_files(tmp_path / "m")) == {"config.json", "model.safetensors"}
    config = load_json(tmp_path / "m" / "config.json")
    assert config["label_names"] == ["a", "b", "c"] and config["num_classes"] == 3
    assert config["transfer"] == {"input_style": "digits", "n": 1}
    assert config["architecture"] == "test_resnet"
    # transformers passes num_classes itself: a copy in model_args breaks pipeline()
    assert "num_classes" not in config["model_args"] and config["model_args"]["in_chans"] == 3
    cfg = config["pretrained_cfg"]
    assert "label_names" not in cfg and "label_descriptions" not in cfg  # the source's labels
    # the export's preprocessing is the model's input size and crop, not the source's test-time
    assert cfg["input_size"] == [3, 16, 16] and cfg["crop_pct"] == 0.875
    assert "test_input_size" not in cfg and "test_crop_pct" not in cfg


def test_a_model_without_a_crop_keeps_the_whole_frame(tmp_path):
    model = source_model()
    del model.pretrained_cfg["crop_pct"]
    hub_io.save(model, tmp_path, ["a", "b", "c"], {})
    assert load_json(tmp_path / "config.json")["pretrained_cfg"]["crop_pct"] == 1.0


def test_save_then_load_gives_the_same_classifier(tmp_path):
    head = backbone.HeadConfig(dropout=0.5, hidden=5)
    torch.manual_seed(0)
    model = backbone.create("test_resnet", 2, 16, head)
    extra = {"head": {"dropout": 0.5, "hidden": 5}, "input_style": "digits"}
    hub_io.save(model, tmp_path / "m", [3, 7], extra)
    clf = hub_io.load(tmp_path / "m")
    assert clf.labels == ["3", "7"]  # names, whatever JSON type they were saved as
    assert clf.folder == (tmp_path / "m").resolve()
    assert clf.config == load_json(tmp_path / "m" / "config.json")
    assert clf.style == "digits"
    assert not clf.model.training  # ready to predict: dropout off
    assert clf.data_config == {
        "input_size": (3, 16, 16),
        "interpolation": "bilinear",
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "crop_pct": 1.0,
        "crop_mode": "center",
    }
    model.eval()
    with torch.no_grad():
        assert torch.equal(clf.model(X), model(X))


def test_loads_by_repo_id_from_the_offline_cache(tmp_path):
    hub_io.save(source_model(), tmp_path / "m", list("abc"), {})
    snapshot = cache_repo("someorg/tiny-classifier", tmp_path / "m")
    clf = hub_io.load("someorg/tiny-classifier")
    assert clf.folder == snapshot and clf.labels == ["a", "b", "c"]


@pytest.mark.parametrize("block", [None, {}, {"input_style": None}])
def test_a_plain_timm_folder_loads_with_the_default_head(tmp_path, block):
    model = source_model()
    hub_io.save(model, tmp_path / "m", list("abc"), {})
    config = load_json(tmp_path / "m" / "config.json")
    if block is None:
        del config["transfer"]  # a classifier saved by timm itself has no block of ours
    else:
        config["transfer"] = block
    save_json(tmp_path / "m" / "config.json", config)
    clf = hub_io.load(tmp_path / "m")
    assert clf.style is None and clf.labels == ["a", "b", "c"]
    with torch.no_grad():
        assert torch.equal(clf.model(X), model.eval()(X))


def test_style_of_a_classifier_without_our_block_is_none():
    assert hub_io.Classifier(None, [], {}, {}, None).style is None
    assert hub_io.Classifier(None, [], {}, {"transfer": {"input_style": "x"}}, None).style == "x"


def saved(tmp_path, **changes):
    hub_io.save(source_model(), tmp_path / "m", list("abc"), {})
    config = load_json(tmp_path / "m" / "config.json")
    config.update(changes)
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    return tmp_path / "m"


@pytest.mark.parametrize("labels", [None, [], {"0": "a"}, "abc"])
def test_a_config_without_a_label_list_is_refused_by_name(tmp_path, labels):
    folder = saved(tmp_path, label_names=labels)
    with pytest.raises(ModelSourceError) as info:
        hub_io.load(folder)
    assert str(info.value) == "m/config.json has no label_names list."


def test_pickled_weights_alone_are_refused(tmp_path):
    folder = saved(tmp_path)
    torch.save({}, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelSourceError) as info:
        hub_io.load(folder)
    assert str(info.value) == (
        f"Model folder '{folder}' is missing model.safetensors "
        "(it holds: config.json, pytorch_model.bin)."
    )
    (folder / "config.json").unlink()
    with pytest.raises(ModelSourceError, match=r"is missing config.json, model.safetensors \("):
        hub_io.load(folder)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"label_names": list("abcd")},  # 4 labels, weights for 3 classes
            "m does not hold a loadable timm model: Error(s) in loading state_dict for ResNet:",
        ),
        ({"architecture": "no_such_net"}, "m does not hold a loadable timm model: "),
        ({"transfer": {"head": {"hidden": -1}}}, "m does not hold a loadable timm model: "),
    ],
)
def test_unloadable_models_name_the_first_line_of_the_cause(tmp_path, change, message):
    folder = saved(tmp_path, **change)
    with pytest.raises(ModelSourceError) as info:
        hub_io.load(folder)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_garbage_weights_are_refused(tmp_path):
    folder = saved(tmp_path)
    (folder / "model.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(ModelSourceError) as info:
        hub_io.load(folder)
    assert str(info.value).startswith("m does not hold a loadable timm model: ")
