"""What scoring shows: errors of the data the user picked, and all that the threshold decides.

The anomaly app's Detect tab, without Gradio: `score` runs a model over a built-in test split or
a parsed upload and returns a `Scored`; `view` turns it and a threshold into a `ThresholdView`
(text, tables, plot data and a CSV, all decided by that one threshold); `compare_rules` sets the
model's threshold rule beside the others; `sample` sets one row beside its reconstruction.
Everything here is data (shared/anomaly/plots.py); the app draws it. Nothing imports Gradio.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from shared.anomaly.builtin import load_builtin
from shared.anomaly.data import window_labels, windows
from shared.anomaly.model import Autoencoder
from shared.anomaly.plots import error_histogram, loss_curves, sample_lines, series_points
from shared.anomaly.scoring import RULES, decisions, flags, metrics, point_scores
from shared.anomaly.upload import table_from_frame
from shared.errors import UserInputError

FLAGGED_SHOWN = 200  # rows of the flagged table; the CSV download has every row
SCORES_DIR = Path(tempfile.mkdtemp(prefix="anomaly-scores-"))  # downloads, pruned as they age
SCORES_TTL = 600  # seconds a scored-rows CSV is kept


@dataclass(frozen=True)
class Scored:
    """A model's errors on some data, with what is needed to show them. Never changed once made:
    the app keeps one in each visitor's page state (the first view's, too)."""

    name: str
    x: np.ndarray  # the samples (rows or windows) that were scored, raw
    errors: np.ndarray  # (n,) reconstruction errors
    labels: np.ndarray | None  # (n,) 1 = anomaly, when the data has labels
    model: Autoencoder
    series: np.ndarray | None = None  # series only: the points, their labels, how windows lie
    point_labels: np.ndarray | None = None
    window: int = 0
    stride: int = 1

    def __deepcopy__(self, memo: dict) -> Scored:
        # Gradio deep-copies a page state's initial value for every visitor; a Scored is never
        # changed, so its copy is itself (the served ECG answer holds 8 MB of windows and a model)
        return self


@dataclass(frozen=True)
class ThresholdView:
    """Everything one threshold decides, each part computed from that same threshold."""

    threshold: float
    n_flagged: int
    count: str  # "**12 of 9,801** samples flagged above 0.0123"
    report: str  # the metrics in words, or why there are none
    metrics: dict | None  # scoring.metrics at this threshold, when labels exist
    confusion: pd.DataFrame
    flagged: pd.DataFrame  # the top FLAGGED_SHOWN flagged rows, worst first
    histogram: pd.DataFrame  # error counts per bin (plots.error_histogram); drawn with the line
    series: pd.DataFrame | None  # series only: plots.series_points, flagged at this threshold
    csv: Path  # every scored row with its flag


def score(
    model: Autoencoder, dataset="ecg", digit=0, uploaded=None, label_col="", drop_missing=False
) -> Scored:
    """Score a built-in test split or a parsed upload (name, frame) with `model`."""
    c = model.config
    series = point_labels = None
    if uploaded:
        name, frame = uploaded
        x, labels, _ = table_from_frame(frame.copy(), label_col, drop_missing)
        if c.kind == "series":
            if x.shape[1] != 1:
                raise UserInputError(
                    f"This model scores one series column (windows of {c.window} points); "
                    f"the file has {x.shape[1]} numeric columns."
                )
            series, point_labels = x[:, 0], labels
            x = windows(series, c.window, c.stride)
            labels = None if labels is None else window_labels(labels, c.window, c.stride)
    else:
        data = load_builtin(dataset, int(digit), c.window or None, c.stride)
        x, labels, name = data.test, data.test_labels, data.name
        series, point_labels = data.series, data.point_labels
    return Scored(name, x, model.score(x), labels, model, series, point_labels, c.window, c.stride)


def scores_file() -> Path:
    """A fresh CSV path in the app's own temp folder, after deleting files older than 10 min.

    Gradio copies a returned file into its cache at once, so ours only has to outlive the request.
    """
    now = time.time()
    for old in SCORES_DIR.glob("scores-*.csv"):
        if now - old.stat().st_mtime > SCORES_TTL:
            old.unlink(missing_ok=True)
    return SCORES_DIR / f"scores-{uuid.uuid4().hex[:12]}.csv"


def view(scored: Scored, threshold: float, csv: Path | None = None) -> ThresholdView:
    """Everything that depends on the threshold: counts, metrics, table, plot data, CSV."""
    errors, labels = scored.errors, scored.labels
    flagged = flags(errors, threshold)
    count = f"**{flagged.sum():,} of {len(errors):,}** samples flagged above {threshold:.4g}"
    m = None
    if labels is not None:
        m = metrics(errors, labels, threshold)
        report = (
            f"Anomaly is the positive class. ROC-AUC **{m['roc_auc']:.3f}**, "
            f"PR-AUC **{m['pr_auc']:.3f}**; at this threshold precision **{m['precision']:.3f}**, "
            f"recall **{m['recall']:.3f}**, F1 **{m['f1']:.3f}**."
        )
        confusion = pd.DataFrame(
            {"": ["actual normal", "actual anomaly"], "predicted normal": [m["tn"], m["fn"]],
             "predicted anomaly": [m["fp"], m["tp"]]}
        )  # fmt: skip
    else:
        report = "No labels: metrics need a label column."
        confusion = pd.DataFrame({"confusion matrix": ["needs a label column (1 = anomaly)"]})
    table = pd.DataFrame(
        {"row": np.arange(len(errors)), "error": errors.astype(np.float64), "flagged": flagged}
    )  # float64: float32 errors would show as 0.7520800232887268 after rounding
    if scored.series is not None:
        table.insert(1, "first point", table["row"] * scored.stride)
    if labels is not None:
        table["label"] = labels
    shown = table[table.flagged == 1].sort_values("error", ascending=False).head(FLAGGED_SHOWN)
    csv = csv or scores_file()
    table.to_csv(csv, index=False)
    series = None
    if scored.series is not None:
        points = point_scores(errors, len(scored.series), scored.window, scored.stride)
        series = series_points(scored.series, points > threshold, scored.point_labels)
    return ThresholdView(
        threshold=float(threshold),
        n_flagged=int(flagged.sum()),
        count=count,
        report=report,
        metrics=m,
        confusion=confusion,
        flagged=shown.round(5),
        histogram=error_histogram(errors, labels),
        series=series,
        csv=csv,
    )


def expectation(scored: Scored) -> str:
    """How many flags the model's own threshold should give here, said before the slider moves."""
    c = scored.model.config
    rule = RULES[c.threshold_rule]
    if not c.expected_flag_rate and not c.rule_thresholds:
        return f"Threshold {c.threshold:.4g}, chosen by '{rule.label}'."
    on = "labelled validation" if c.threshold_rule == "best_f1" else "training"
    return (
        f"Threshold {c.threshold:.4g}, chosen by '{rule.label}'. It flagged "
        f"{c.expected_flag_rate:.1%} of the {on} samples, so expect about "
        f"**{c.expected_flag_rate * len(scored.errors):,.0f} of these {len(scored.errors):,}** "
        "flagged if this data looks like those; more where it holds more anomalies."
    )


def compare_rules(scored: Scored) -> tuple[pd.DataFrame, str]:
    """Each threshold rule the model recorded, applied to this data, and why they differ."""
    c = scored.model.config
    rows = []
    for key, value in c.rule_thresholds.items():
        row = {"rule": RULES[key].label, "threshold": value}
        row["flagged"] = int(flags(scored.errors, value).sum())
        if scored.labels is not None:
            m = decisions(scored.errors, scored.labels, value)
            row.update({k: round(m[k], 3) for k in ("precision", "recall", "f1")})
        rows.append(row | {"in use": "yes" if key == c.threshold_rule else ""})
    if not rows:
        return pd.DataFrame(), "This model was saved without the other rules' thresholds."
    why = (
        "The TensorFlow tutorial's mean + 1 std assumes the training errors are bell-shaped, so "
        "that about one normal sample in six lies above it. Reconstruction errors have a long "
        "right tail, and where anomalies are rare that line still cuts into the normal bulk: "
        "many false alarms. With labelled validation data, best F1 picks the line that "
        "separates the labelled anomalies from the normal samples best; without labels the "
        "tutorial's rule (or a contamination rate you know) is what there is."
    )
    return pd.DataFrame(rows), why


def sample(scored: Scored | None, row: int) -> pd.DataFrame:
    """Input against reconstruction for one scored row (plots.sample_lines)."""
    if not scored:
        raise UserInputError("Score some data first.")
    row = int(row)
    if not 0 <= row < len(scored.x):
        raise UserInputError(f"Row {row} does not exist; pick 0 to {len(scored.x) - 1}.")
    x = scored.x[row : row + 1]
    recon = scored.model.reconstruct(x)[0]
    return sample_lines(x[0], recon)


def summarize(scored: Scored, worst: int = 20) -> dict:
    """The answer at the model's threshold as plain JSON (the app's MCP tool returns it).

    Samples are rows, or windows of a series (each from its "first point"); `flagged_rows`
    holds the `worst` flagged ones, highest error first.
    """
    c, errors = scored.model.config, scored.errors
    flagged = flags(errors, c.threshold)
    order = [i for i in np.argsort(-errors, kind="stable")[:worst] if flagged[i]]
    rows = [{"row": int(i), "error": round(float(errors[i]), 6)} for i in order]
    if scored.series is not None:
        rows = [r | {"first point": r["row"] * scored.stride} for r in rows]
    answer = {
        "data": scored.name,
        "model": scored.model.describe(),
        "samples": len(errors),
        "threshold": c.threshold,
        "threshold_rule": RULES[c.threshold_rule].label,
        "flagged": int(flagged.sum()),
        "flagged_rows": rows,
    }
    if scored.labels is not None:
        m = metrics(errors, scored.labels, c.threshold)
        answer["metrics"] = {
            k: m[k] for k in ("roc_auc", "pr_auc", "precision", "recall", "f1", "tp", "fp", "fn")
        }
    return answer


class ModelSummary(NamedTuple):
    """What the app's Model tab shows of a model."""

    layers: pd.DataFrame  # part, layer, parameters
    curves: pd.DataFrame  # plots.loss_curves of its training history
    text: str  # size, threshold and test metrics in words
    config: dict  # the config saved with the weights, less the scaler's arrays


def describe_model(model: Autoencoder, history: list[dict], metrics: dict) -> ModelSummary:
    """The architecture layer by layer, the loss curves, the test metrics and the config."""
    layers = []
    for part in ("encoder", "decoder"):
        for name, layer in getattr(model, part).named_children():
            n = sum(p.numel() for p in layer.parameters())
            layers.append({"part": part, "layer": f"{name}: {layer}", "parameters": n})
    c = model.config
    total = sum(p.numel() for p in model.parameters())
    text = (
        f"{model.describe()}: input {c.n_features}, latent {c.latent}, {total:,} parameters. "
        f"Threshold {c.threshold:.4g} ({RULES[c.threshold_rule].label})."
    )
    if metrics:
        text += "\n\nTest metrics (anomaly = positive): " + ", ".join(
            f"{k} {metrics[k]:.3f}" for k in ("roc_auc", "pr_auc", "precision", "recall", "f1")
        )
    config = {k: v for k, v in vars(c).items() if k not in ("mean", "std", "columns")}
    return ModelSummary(pd.DataFrame(layers), loss_curves(history), text, config)
