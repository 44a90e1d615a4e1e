"""Save and load classifiers in timm's Hub layout: ``config.json`` + ``model.safetensors``.

The same folder loads with stock ``timm.create_model('local-dir:DIR', pretrained=True)``, with
stock ``transformers.pipeline('image-classification', model=DIR)`` (both show the real label
names), and, by repo id, from the Hub or its offline cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import timm
from safetensors import SafetensorError
from safetensors.torch import load_file
from timm.data import resolve_model_data_config
from timm.models import save_for_hf
from torch import nn

from shared.hub import ModelSourceError, load_json, resolve_source, save_json
from shared.transfer.backbone import WEIGHTS, HeadConfig, install_head

EXTRA_KEY = "transfer"  # our own block in config.json: head shape and training configuration


@dataclass
class Classifier:
    model: nn.Module
    labels: list[str]
    data_config: dict  # timm's preprocessing: input size, mean, std, interpolation, crop
    config: dict  # the whole config.json
    folder: Path

    @property
    def style(self) -> str | None:
        """How a person's image is prepared: "digits" for scikit-learn digit models, else None."""
        return self.config.get(EXTRA_KEY, {}).get("input_style")


def save(model: nn.Module, folder: Path, labels: Sequence[str], extra: dict) -> None:
    """Write the timm Hub layout with `labels` and our `extra` block in ``config.json``."""
    folder = Path(folder)
    size = model.pretrained_cfg["input_size"]
    save_for_hf(
        model,
        folder,
        model_config={"label_names": list(labels), EXTRA_KEY: extra},
        data_config={"input_size": size, "crop_pct": model.pretrained_cfg.get("crop_pct", 1.0)},
        safe_serialization=True,
    )
    config = load_json(folder / "config.json")
    # transformers' TimmWrapper passes num_classes to timm itself; a second copy in model_args
    # makes pipeline() fail with "got multiple values for keyword argument 'num_classes'".
    # timm reads the class count from the root `num_classes`, so nothing is lost.
    config.get("model_args", {}).pop("num_classes", None)
    for key in ("label_names", "label_descriptions"):  # the backbone's source labels, not ours
        config["pretrained_cfg"].pop(key, None)
    save_json(folder / "config.json", config)


def load(source: str | Path) -> Classifier:
    """Load a folder or Hub repo id saved by `save` (or any timm classifier in that layout).

    Only ``model.safetensors`` is read: a folder holding pickled weights alone is refused.
    """
    folder = resolve_source(source, required=("config.json", WEIGHTS))
    config = load_json(folder / "config.json")
    labels = config.get("label_names")
    if not labels or not isinstance(labels, list):
        raise ModelSourceError(f"{folder.name}/config.json has no label_names list.")
    head = HeadConfig(**config.get(EXTRA_KEY, {}).get("head", {}))
    try:
        model = timm.create_model(f"local-dir:{folder}", pretrained=False)
        install_head(model, head, len(labels))
        model.load_state_dict(load_file(folder / WEIGHTS))
    except (RuntimeError, SafetensorError, KeyError, ValueError) as err:
        raise ModelSourceError(
            f"{folder.name} does not hold a loadable timm model: {str(err).splitlines()[0]}"
        ) from None
    model.eval()
    return Classifier(
        model, [str(x) for x in labels], resolve_model_data_config(model), config, folder
    )
