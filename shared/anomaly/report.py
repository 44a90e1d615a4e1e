"""What scoring shows: errors of the data the user picked, and all that the threshold decides.

The anomaly app's Detect tab, without Gradio's layout: `score` runs a model over a built-in test
split or a parsed upload, `view` turns the errors and a threshold into text, tables, figures and
a CSV, `sample` draws one row against its reconstruction.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from shared.anomaly.data import load_builtin, table_from_frame, window_labels, windows
from shared.anomaly.model import Autoencoder
from shared.anomaly.plots import error_histogram, sample_plot, series_plot
from shared.anomaly.scoring import flags, metrics, point_scores
from shared.errors import UserInputError
from shared.ui import plot_data

FLAGGED_SHOWN = 200  # rows of the flagged table; the CSV download has every row
SCORES_DIR = Path(tempfile.mkdtemp(prefix="anomaly-scores-"))  # downloads, pruned as they age
SCORES_TTL = 600  # seconds a scored-rows CSV is kept


def score(
    model: Autoencoder, dataset="ecg", digit=0, uploaded=None, label_col="", drop_missing=False
) -> dict:
    """Score a built-in test split or a parsed upload with `model`: errors, labels, samples."""
    c = model.config
    series = point_labels = None
    if uploaded:
        _, name, frame = uploaded
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
    errors = model.score(x)
    return {
        "name": name, "x": x, "errors": errors, "labels": labels, "series": series,
        "point_labels": point_labels, "window": c.window, "stride": c.stride, "model": model,
    }  # fmt: skip


def scores_file() -> Path:
    """A fresh CSV path in the app's own temp folder, after deleting files older than 10 min.

    Gradio copies a returned file into its cache at once, so ours only has to outlive the request.
    """
    now = time.time()
    for old in SCORES_DIR.glob("scores-*.csv"):
        if now - old.stat().st_mtime > SCORES_TTL:
            old.unlink(missing_ok=True)
    return SCORES_DIR / f"scores-{uuid.uuid4().hex[:12]}.csv"


def view(scored: dict, threshold: float, csv: Path | None = None):
    """Everything that depends on the threshold: counts, metrics, table, figures, CSV."""
    errors, labels = scored["errors"], scored["labels"]
    flagged = flags(errors, threshold)
    count = f"**{flagged.sum():,} of {len(errors):,}** samples flagged above {threshold:.4g}"
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
    if scored["series"] is not None:
        table.insert(1, "first point", table["row"] * scored["stride"])
    if labels is not None:
        table["label"] = labels
    shown = table[table.flagged == 1].sort_values("error", ascending=False).head(FLAGGED_SHOWN)
    csv = csv or scores_file()
    table.to_csv(csv, index=False)
    series_fig = None
    if scored["series"] is not None:
        points = point_scores(errors, len(scored["series"]), scored["window"], scored["stride"])
        series_fig = plot_data(
            series_plot(scored["series"], points > threshold, scored["point_labels"])
        )
    return (
        count, report, confusion, shown.round(5),
        plot_data(error_histogram(errors, labels, threshold)), series_fig, str(csv),
    )  # fmt: skip


def sample(scored: dict, row: int):
    """Input against reconstruction for one scored row."""
    if not scored:
        raise UserInputError("Score some data first.")
    row = int(row)
    if not 0 <= row < len(scored["x"]):
        raise UserInputError(f"Row {row} does not exist; pick 0 to {len(scored['x']) - 1}.")
    x = scored["x"][row : row + 1]
    recon = scored["model"].reconstruct(x)[0]
    return plot_data(sample_plot(x[0], recon, f"Row {row}: error {scored['errors'][row]:.4g}"))
