"""The saved anomaly model: weights, config, metrics.json and a model card in one folder.

The CLI (training/anomaly.py) and the app's "Push to the Hub" both write it with `save_model`,
so a model trained in either place loads the same way (`load_autoencoder`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
from huggingface_hub import EvalResult

from shared.anomaly.scoring import RULES
from shared.anomaly.train import TrainResult, TrainSettings
from shared.hub import save_json, write_model_card

METRIC_NAMES = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
}


def save_model(
    folder: Path, result: TrainResult, settings: TrainSettings, dataset: str, command: str
) -> Path:
    """Write `result` into `folder` (made if missing); `command` is how it was trained."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result.model.save(folder)
    save_json(
        folder / "metrics.json",
        {
            "test": result.metrics,
            "history": result.history,
            "stop_reason": result.stop_reason,
            "settings": asdict(settings),  # the resolved training settings, beside the config
            "budget": asdict(result.budget),
        },
    )
    write_card(folder, result, dataset, command)
    return folder


def write_card(folder: Path, result: TrainResult, dataset: str, command: str) -> None:
    config = result.model.config
    evals = [
        EvalResult(
            task_type="anomaly-detection",
            task_name="Anomaly detection (anomaly = positive class)",
            dataset_type=dataset,
            dataset_name=dataset,
            metric_type=key,
            metric_name=name,
            metric_value=float(result.metrics[key]),
        )
        for key, name in METRIC_NAMES.items()
        if key in result.metrics and not pd.isna(result.metrics[key])
    ]
    record = RULES[config.threshold_rule]
    rule = f"'{record.label}'"
    if record.param_name:
        rule += f" ({record.param_name} = {config.threshold_param:g})"
    on = "labelled validation" if config.threshold_rule == "best_f1" else "training"
    write_model_card(
        folder,
        title=f"Autoencoder anomaly detector ({dataset})",
        summary=(
            f"A {result.model.describe()}. A sample is an anomaly when its reconstruction error "
            f"({config.loss.upper()}) exceeds {config.threshold:.4g}, chosen by the rule "
            f"{rule}. It flagged {config.expected_flag_rate:.1%} of the {on} samples. "
            "Anomaly is the positive class."
        ),
        library_name="pytorch",
        tags=["anomaly-detection", "autoencoder", "pytorch_model_hub_mixin"],
        datasets=[dataset],
        eval_results=evals,
        command=command,
        usage=(
            "from shared.anomaly.model import load_autoencoder\n"
            "model = load_autoencoder('org/name')  # or a local folder\n"
            "errors = model.score(raw_rows)  # raw, unscaled rows or windows\n"
            "anomalous = errors > model.config.threshold"
        ),
    )
