"""Backbones (shared/transfer/backbone.py): freezing, pretrained loading, heads, layer rates."""

from __future__ import annotations

import pytest
import torch

from shared.transfer import backbone, hub_io, recipe
from shared.transfer.data import TransferInputError

TINY = "test_resnet"  # timm's registered tiny ResNet, for fast tests


def tiny(num_classes=3, img_size=16, **kw):
    torch.manual_seed(0)
    return backbone.create(TINY, num_classes, img_size, **kw)


def random_split(n=24, classes=3, size=16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, size, size, generator=g), torch.arange(n) % classes


def test_freezing_freezes_and_frozen_batchnorm_keeps_its_statistics():
    model = tiny()
    stages = backbone.stages(model)
    assert len(stages) >= 3
    n_frozen = 2
    frozen = {n for _, names in stages[:n_frozen] for n in names}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = recipe.StageConfig(epochs=1, batch_size=8)
    recipe.train_stage(model, random_split(), None, config, n_frozen=n_frozen)
    after = model.state_dict()
    trainable = [n for n, p in model.named_parameters() if n not in frozen]
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    assert all(not p.requires_grad for n, p in model.named_parameters() if n in frozen)
    assert any(not torch.equal(before[n], after[n]) for n in trainable)
    assert not any(torch.equal(before[n], after[n]) for n in backbone.head_parameters(model))
    # frozen BatchNorm running statistics did not move either (train_mode keeps them in eval)
    frozen_modules = {n.rsplit(".", 1)[0] for n in frozen}
    stats = [
        k for k in before if k.endswith("running_mean") and k.rsplit(".", 1)[0] in frozen_modules
    ]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)


def test_freeze_all_leaves_only_the_head_and_table_says_so():
    model = tiny()
    backbone.freeze(model, -1)
    head = set(backbone.head_parameters(model))
    assert {n for n, p in model.named_parameters() if p.requires_grad} == head
    table = backbone.stage_table(model)
    assert table[0]["stage"] == "head" and table[0]["trainable"]
    assert not any(row["trainable"] for row in table[1:])
    assert sum(r["parameters"] for r in table) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("as_file", [False, True])
def test_pretrained_from_loads_the_source_features(tmp_path, as_file):
    source = tiny(num_classes=5)
    hub_io.save(source, tmp_path / "source", list("abcde"), {})
    where = tmp_path / "source" / "model.safetensors" if as_file else tmp_path / "source"
    target = backbone.create(TINY, 3, 16, pretrained_from=str(where))
    x = random_split()[0]
    source.eval(), target.eval()
    with torch.no_grad():
        assert torch.equal(backbone.features(source, x), backbone.features(target, x))
        assert target(x).shape == (len(x), 3)  # ... with a new head for the target classes
    fresh = tiny(num_classes=3)
    with torch.no_grad():
        assert not torch.equal(backbone.features(fresh, x), backbone.features(target, x))


def test_unknown_backbone_suggests_close_names():
    with pytest.raises(TransferInputError, match=r"Unknown backbone 'resnet19'.*resnet18"):
        backbone.create("resnet19", 3, 16)


def test_hidden_head_round_trips(tmp_path):
    model = tiny(head=backbone.HeadConfig(dropout=0.1, hidden=7))
    hub_io.save(model, tmp_path / "m", ["a", "b", "c"], {"head": {"dropout": 0.1, "hidden": 7}})
    loaded = hub_io.load(tmp_path / "m")
    x = random_split()[0]
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), loaded.model(x))
    assert loaded.labels == ["a", "b", "c"]


def test_head_learning_rate_scale_applies_to_the_head_only():
    torch.manual_seed(0)
    model = backbone.create("test_resnet", 3, 16)
    groups = backbone.layerwise_groups(model, 1e-3, 0.05, 0.5, head_scale=10)
    by_stage = {g["stage"]: g["lr"] for g in groups}
    top = backbone.stages(model)[-1][0]
    assert by_stage["head"] == pytest.approx(1e-2) and by_stage[top] == pytest.approx(5e-4)
