"""The detector's artifact folder: ``model.safetensors`` + ``config.json``, one loader for all.

``config.json`` holds every `DetectorConfig` field at the top level (backbone, architecture,
input size, classes, score threshold, ...) plus a ``training`` block, so a loaded detector
is built exactly like the trained one. `load` takes a folder or a Hub repo id (the offline
cache works) and reads safetensors only: nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from shared.detect.model import Detector, DetectorConfig
from shared.hub import ModelSourceError, load_json, resolve_source, save_json
from shared.transfer.backbone import WEIGHTS

FORMAT = "dl-labs-detector"  # config.json's "format": tells our folders from a classifier's


@dataclass
class LoadedDetector:
    model: Detector
    config: DetectorConfig
    folder: Path
    metrics: dict  # metrics.json, or {} where the folder has none


def save(detector: Detector, folder: Path, training: dict | None = None) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in detector.state_dict().items()}
    save_file(state, folder / WEIGHTS, metadata={"format": "pt"})
    config = {"format": FORMAT, **dataclasses.asdict(detector.config), "training": training or {}}
    save_json(folder / "config.json", config)


def config_from(data: dict) -> DetectorConfig:
    """A `DetectorConfig` from config.json's fields (JSON lists back to tuples)."""
    values = {}
    for f in dataclasses.fields(DetectorConfig):
        if f.name in data:
            value = data[f.name]
            values[f.name] = tuple(value) if str(f.type).startswith("tuple") else value
    return DetectorConfig(**values)


def load(source: str | Path) -> LoadedDetector:
    """Load a detector folder (or Hub repo id) written by `save`."""
    folder = resolve_source(source, required=("config.json", WEIGHTS))
    data = load_json(folder / "config.json")
    if data.get("format") != FORMAT:
        raise ModelSourceError(
            f'{folder.name}/config.json is not a detector\'s (no "format": "{FORMAT}").'
        )
    try:
        config = config_from(data)
        model = Detector(config)
        model.load_state_dict(load_file(folder / WEIGHTS))
    except (RuntimeError, SafetensorError, TypeError, ValueError) as err:
        raise ModelSourceError(
            f"{folder.name} does not hold a loadable detector: {str(err).splitlines()[0]}"
        ) from None
    model.eval()
    metrics_file = folder / "metrics.json"
    metrics = load_json(metrics_file) if metrics_file.is_file() else {}
    return LoadedDetector(model, config, folder, metrics)
