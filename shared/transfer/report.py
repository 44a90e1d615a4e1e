"""What the transfer app's Model tab shows, as data: tables and long-form frames to plot.

Everything here reads a classifier's ``metrics.json`` (written by training/transfer.py), so the
tab shows exactly what training measured. The app draws the frames with Gradio's browser-side
plots; nothing here knows about Gradio.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

METHODS = {"scratch": "from scratch", "head_only": "head only", "fine_tuned": "fine-tuned"}


def label_curve(metrics: dict) -> pd.DataFrame:
    """The course's figure: test accuracy against labels per class, one row per method and size.

    Columns: labels_per_class, method, accuracy (mean over seeds), low, high (the spread), seeds.
    The full training set is the last point, at its own labels per class.
    """
    rows = []
    for per_class, few in metrics.get("few_label", {}).items():
        for key, name in METHODS.items():
            values = [seed[key] for seed in few["seeds"]]
            rows.append(_point(int(per_class), name, values))
    full = metrics.get("full")
    if full:
        per_class = full.get("train_per_class")
        for key, name in METHODS.items():
            rows.append(
                _point(per_class, name, full.get("seeds", {}).get(key, [full["accuracy"][key]]))
            )
    columns = ["labels_per_class", "method", "accuracy", "low", "high", "seeds"]
    return pd.DataFrame(rows, columns=columns).sort_values(["method", "labels_per_class"])


def _point(per_class: int | None, method: str, values: list[float]) -> dict:
    return {
        "labels_per_class": per_class,
        "method": method,
        "accuracy": float(np.mean(values)),
        "low": float(min(values)),
        "high": float(max(values)),
        "seeds": len(values),
    }


def comparison_table(metrics: dict) -> pd.DataFrame:
    """One row per setting: mean test accuracy of each method, with the spread over seeds."""
    columns = ["labels per class", "seeds", *METHODS.values()]
    curve = label_curve(metrics)
    if curve.empty:
        return pd.DataFrame(columns=columns)
    spread = curve["low"].map("{:.1%}".format) + " to " + curve["high"].map("{:.1%}".format)
    curve["cell"] = (
        curve["accuracy"]
        .map("{:.1%}".format)
        .where(curve["seeds"] == 1, curve["accuracy"].map("{:.1%}".format) + " (" + spread + ")")
    )
    table = curve.pivot(index="labels_per_class", columns="method", values="cell").rename_axis(
        columns=None
    )
    table.insert(0, "seeds", curve.groupby("labels_per_class")["seeds"].first())
    full = (metrics.get("full") or {}).get("train_per_class")
    names = [f"{n} (full set)" if n == full else str(n) for n in table.index]
    return table.reset_index(drop=True).assign(**{"labels per class": names})[columns]


def lesson(metrics: dict) -> str:
    """One sentence on what the curve shows, from its own numbers."""
    curve = label_curve(metrics)
    if curve.empty:
        return ""
    fewest = curve["labels_per_class"].min()
    at = curve[curve["labels_per_class"] == fewest].set_index("method")["accuracy"]
    gain = at["fine-tuned"] - at["from scratch"]
    verdict = "ahead of" if gain > 0 else "behind"
    return (
        f"With {fewest} labels per class, the fine-tuned pretrained model reaches "
        f"{at['fine-tuned']:.1%} against {at['from scratch']:.1%} from scratch: "
        f"{abs(gain) * 100:.1f} points {verdict}."
    )


def stage_frame(metrics: dict) -> pd.DataFrame:
    """Which stages each fine-tuning stage trained, with parameter counts."""
    rows = metrics.get("stage_table", [])
    if not rows:
        return pd.DataFrame(columns=["stage", "parameters"])
    frame = pd.DataFrame(rows).pivot_table(
        index="stage", columns="step", values="trainable", aggfunc="first", sort=False
    )
    frame = frame.map(lambda t: "trained" if t else "frozen")
    counts = {r["stage"]: r["parameters"] for r in rows}
    frame.insert(0, "parameters", [counts[s] for s in frame.index])
    frame.columns.name = None
    return frame.reset_index()


def training_curves(metrics: dict, key: str) -> pd.DataFrame:
    """`key` ("loss" or "acc") per epoch: the fine-tuning stages end to end, and the other runs.

    Long form: epoch, value, series.
    """
    full = metrics.get("full", {})
    rows, offset = [], 0
    for stage in full.get("stages", []):
        for row in stage["history"]:
            for split in ("train", "val"):
                if f"{split}_{key}" in row:
                    rows.append(
                        (offset + row["epoch"], row[f"{split}_{key}"], f"{stage['name']} {split}")
                    )
        offset += len(stage["history"])
    for name, run in full.get("runs", {}).items():
        for row in run["history"]:
            if f"val_{key}" in row:
                rows.append((row["epoch"], row[f"val_{key}"], f"{METHODS.get(name, name)} val"))
    return pd.DataFrame(rows, columns=["epoch", "value", "series"])


def lr_trace(metrics: dict) -> pd.DataFrame:
    """The head's learning rate at every optimizer step of staged fine-tuning, as run."""
    rows, step = [], 0
    for stage in metrics.get("full", {}).get("stages", []):
        for lr in stage["lr_trace"]:
            rows.append((step, lr, stage["name"]))
            step += 1
    return pd.DataFrame(rows, columns=["step", "lr", "stage"])


def tuning_frame(metrics: dict) -> pd.DataFrame:
    trials = metrics.get("tuning", {}).get("trials", [])
    return pd.DataFrame(trials).drop(columns="fold_accuracies", errors="ignore").round(5)
