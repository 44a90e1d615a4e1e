"""The detector's metrics.json as a table: from scratch, head only and fine-tuned compared."""

from __future__ import annotations

import pandas as pd

from shared.detect.train import METHODS


def comparison_table(metrics: dict) -> pd.DataFrame:
    """mAP and training seconds of every method, on the full and the few-scene settings."""
    rows = []
    for setting in ("full", "few"):
        if setting not in metrics:
            continue
        block = metrics[setting]
        for method in METHODS:
            if method in block["results"]:
                r = block["results"][method]
                rows.append(
                    {
                        "training scenes": block["scenes"],
                        "epochs": block["epochs"],
                        "method": method.replace("_", " "),
                        "mAP@0.5": round(r["map_50"], 3),
                        "mAP@[.5:.95]": round(r["map"], 3),
                        "train s": round(r["train_seconds"], 1),
                    }
                )
    return pd.DataFrame(rows)
