"""timm backbones: build one by name, load pretrained weights, freeze stages, fit a new head.

Stages are timm's own coarse `group_matcher` groups (for a ResNet: stem, layer1..layer4), so
freezing "up to a stage" means the same thing for every architecture timm knows.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import timm
import torch
from timm.models._manipulate import group_parameters
from torch import nn

from shared.hub import ModelSourceError, load_json, resolve_source
from shared.transfer.data import TransferInputError

WEIGHTS = "model.safetensors"  # the only weights file we read from folders: no pickle


@dataclass
class HeadConfig:
    dropout: float = 0.2  # before the output layer (and after the hidden one)
    hidden: int = 0  # 0: dropout + linear, timm's own head; >0 adds Linear-ReLU of this width


def check_name(name: str) -> None:
    """Raise a message with close timm names when `name` is not a timm model."""
    if timm.is_model(name):
        return
    close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise TransferInputError(f"Unknown backbone {name!r}: timm has no model of that name.{hint}")


def data_overlay(img_size: int) -> dict:
    # digits and small uploads fill the frame, so keep all of it (crop_pct 1.0)
    return {"input_size": (3, img_size, img_size), "crop_pct": 1.0}


def create(
    name: str,
    num_classes: int,
    img_size: int,
    head: HeadConfig | None = None,
    *,
    pretrained: bool = False,
    pretrained_from: str | None = None,
) -> nn.Module:
    """A timm model with a fresh head for `num_classes`.

    `pretrained` downloads timm's Hub weights (online). `pretrained_from` takes a folder or a
    Hub id in timm's layout (``local-dir:``) or a single ``.safetensors`` / ``.pth`` file
    (``pretrained_cfg_overlay=dict(file=...)``; torch files load with ``weights_only=True``).
    """
    head = head or HeadConfig()
    check_name(name)
    overlay = data_overlay(img_size)
    kwargs = {"drop_rate": head.dropout, "num_classes": num_classes}
    if pretrained_from:
        model_id, overlay = _pretrained_source(name, str(pretrained_from), overlay)
        pretrained = True
    else:
        model_id = name
    try:
        model = timm.create_model(
            model_id, pretrained=pretrained, pretrained_cfg_overlay=overlay, **kwargs
        )
    except (RuntimeError, OSError, ValueError) as err:
        raise TransferInputError(
            f"Could not load weights for {name!r} from {pretrained_from or 'the Hub'}: "
            f"{str(err).splitlines()[0]}"
        ) from None
    install_head(model, head, num_classes)
    return model


def install_head(model: nn.Module, head: HeadConfig, num_classes: int) -> None:
    """A fresh head for `num_classes`: timm's own classifier, plus a hidden layer if asked."""
    model.reset_classifier(num_classes)
    if head.hidden:
        _set_classifier(model, _mlp(classifier(model).in_features, head, num_classes))


def _pretrained_source(name: str, source: str, overlay: dict) -> tuple[str, dict]:
    path = Path(source).expanduser()
    if path.is_file():
        if path.suffix not in {".safetensors", ".pth", ".pt", ".bin"}:
            raise TransferInputError(f"{path.name!r} is not a .safetensors or .pth checkpoint.")
        return name, {**overlay, "file": str(path.resolve())}
    try:
        folder = resolve_source(source, required=("config.json", WEIGHTS))
    except ModelSourceError as err:
        raise TransferInputError(str(err)) from None
    arch = load_json(folder / "config.json").get("architecture")
    if arch != name:
        raise TransferInputError(f"{source!r} holds a {arch!r} backbone, not {name!r}.")
    return f"local-dir:{folder}", overlay


def classifier(model: nn.Module) -> nn.Module:
    """The output layer (the last Linear of a hidden-layer head)."""
    module = model.get_submodule(model.pretrained_cfg["classifier"])
    return module[-1] if isinstance(module, nn.Sequential) else module


def _mlp(in_features: int, head: HeadConfig, num_classes: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_features, head.hidden),
        nn.ReLU(),
        nn.Dropout(head.dropout),
        nn.Linear(head.hidden, num_classes),
    )


def _set_classifier(model: nn.Module, module: nn.Module) -> None:
    parent, _, attr = model.pretrained_cfg["classifier"].rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, attr, module)


def stages(model: nn.Module) -> list[tuple[str, list[str]]]:
    """Backbone stages, bottom to top, as (name, parameter names); the head is not a stage."""
    head = head_prefixes(model)
    groups = group_parameters(model, model.group_matcher(coarse=True))
    out = []
    for names in groups.values():
        names = [n for n in names if not n.startswith(head)]
        if names:
            tops = dict.fromkeys(n.split(".")[0] for n in names)
            out.append(("+".join(tops) if len(tops) < 4 else f"{next(iter(tops))}+…", names))
    return out


def head_prefixes(model: nn.Module) -> tuple[str, ...]:
    """Parameter-name prefixes of the head. timm's `classifier` is one name or a tuple of names
    (distilled models; a detector's neck and heads)."""
    names = model.pretrained_cfg["classifier"]
    return tuple(f"{n}." for n in ((names,) if isinstance(names, str) else names))


def head_parameters(model: nn.Module) -> list[str]:
    head = head_prefixes(model)
    return [n for n, _ in model.named_parameters() if n.startswith(head)]


def freeze(model: nn.Module, n_frozen: int) -> None:
    """Freeze the lowest `n_frozen` stages (-1: the whole backbone); train the rest and the head."""
    all_stages = stages(model)
    n_frozen = len(all_stages) if n_frozen < 0 else min(n_frozen, len(all_stages))
    frozen = {n for _, names in all_stages[:n_frozen] for n in names}
    for name, param in model.named_parameters():
        param.requires_grad = name not in frozen


def train_mode(model: nn.Module) -> None:
    """`model.train()`, but frozen BatchNorm layers stay in eval mode.

    Otherwise a frozen BatchNorm would still update its running statistics from the new data,
    silently changing the "frozen" features.
    """
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not any(
            p.requires_grad for p in module.parameters()
        ):
            module.eval()


def stage_table(model: nn.Module) -> list[dict]:
    """One row per stage and the head: parameter count and whether it trains."""
    params = dict(model.named_parameters())
    rows = [("head", head_parameters(model)), *reversed(stages(model))]
    return [
        {
            "stage": name,
            "parameters": sum(params[n].numel() for n in names),
            "trainable": all(params[n].requires_grad for n in names),
        }
        for name, names in rows
    ]


def layerwise_groups(
    model: nn.Module, lr: float, weight_decay: float, layer_decay: float, head_scale: float = 1.0
) -> list[dict]:
    """Optimizer groups of the trainable parameters: lr * layer_decay**depth from the head down.

    The head learns at lr * `head_scale`. Biases and norm weights (1-D) get no weight decay, as
    in timm's optimizer factory.
    """
    params = dict(model.named_parameters())
    rows = [("head", head_parameters(model)), *reversed(stages(model))]
    groups = []
    for depth, (name, names) in enumerate(rows):
        trainable = [params[n] for n in names if params[n].requires_grad]
        for decay, members in (
            (weight_decay, [p for p in trainable if p.ndim > 1]),
            (0.0, [p for p in trainable if p.ndim <= 1]),
        ):
            if members:
                scale = head_scale if depth == 0 else layer_decay**depth
                groups.append(
                    {"params": members, "lr": lr * scale, "weight_decay": decay, "stage": name}
                )
    return groups


def count_trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Pooled backbone features (what the head sees)."""
    return model.forward_head(model.forward_features(x), pre_logits=True)
