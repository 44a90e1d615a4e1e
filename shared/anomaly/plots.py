"""The anomaly app's plot data: plain DataFrames the browser draws, no figures made here.

A series of 10,000 points drawn point by point is a solid block on a 1,000-pixel-wide plot,
and sending it costs more than it shows: `downsample` keeps the smallest and largest value of
each bucket (so every spike survives) and every flagged point (so no decision disappears).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

SERIES_POINTS = 2_000  # ~2 points per pixel of a full-width plot: min and max of each bucket
CURVE_POINTS = 1_000  # points of a ROC or PR line; more don't change what a plot shows
HISTOGRAM_BINS = 50


def downsample(
    values: np.ndarray, keep: np.ndarray | None = None, max_points: int = SERIES_POINTS
) -> np.ndarray:
    """Indices of `values` to draw: the min and max of each bucket, plus every index in `keep`.

    `max_points // 2` equal buckets cover the series in order; a series no longer than
    `max_points` is kept whole. `keep` is a boolean mask (flagged points). Sorted, unique.
    """
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, max_points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    starts = edges[:-1]
    lows = np.minimum.reduceat(values, starts)
    highs = np.maximum.reduceat(values, starts)
    chosen = []
    for start, end, low, high in zip(starts, edges[1:], lows, highs, strict=True):
        part = values[start:end]
        chosen.append(start + int(np.argmax(part == low)))
        chosen.append(start + int(np.argmax(part == high)))
    picked = np.asarray(chosen)
    if keep is not None:
        picked = np.concatenate([picked, np.flatnonzero(keep)])
    return np.unique(picked)


def series_points(
    series: np.ndarray,
    flagged: np.ndarray,
    point_labels: np.ndarray | None = None,
    max_points: int = SERIES_POINTS,
) -> pd.DataFrame:
    """The series to draw: time step, value, flagged, labelled (1 = anomaly), downsampled."""
    flagged = np.asarray(flagged, dtype=bool)
    idx = downsample(np.asarray(series), flagged, max_points)
    labelled = np.zeros(len(idx), dtype=int) if point_labels is None else point_labels[idx]
    return pd.DataFrame(
        {
            "time step": idx,
            "value": np.asarray(series, dtype=np.float64)[idx],
            "flagged": flagged[idx],
            "labelled": np.asarray(labelled, dtype=int),
        }
    )


def error_histogram(
    errors: np.ndarray, labels: np.ndarray | None, bins: int = HISTOGRAM_BINS
) -> pd.DataFrame:
    """Counts of reconstruction errors in equal bins, per label group when labels exist.

    One row per (bin, group): left and right edge, centre, samples, group ("all samples", or
    "normal" and "anomaly"). The threshold is drawn over it; it doesn't change the counts.
    """
    errors = np.asarray(errors, dtype=np.float64)
    edges = np.histogram_bin_edges(errors, bins=bins)
    if labels is None:
        groups = {"all samples": errors}
    else:
        groups = {"normal": errors[labels == 0], "anomaly": errors[labels == 1]}
    frames = []
    for group, values in groups.items():
        counts, _ = np.histogram(values, bins=edges)
        frames.append(
            pd.DataFrame(
                {
                    "left": edges[:-1],
                    "right": edges[1:],
                    "error": (edges[:-1] + edges[1:]) / 2,
                    "samples": counts,
                    "group": group,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _thin(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """Every k-th row, first and last kept, so a line of `max_points` keeps its shape."""
    if len(frame) <= max_points:
        return frame
    idx = np.unique(np.r_[np.linspace(0, len(frame) - 1, max_points).astype(int), len(frame) - 1])
    return frame.iloc[idx].reset_index(drop=True)


def roc_pr(
    errors: np.ndarray, labels: np.ndarray, max_points: int = CURVE_POINTS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ROC and precision-recall curves, anomaly as the positive class, each named by its area.

    ROC: false positive rate, true positive rate, curve ("AUC 0.912" or "chance").
    PR: recall, precision, curve ("AP 0.654" or "chance": the share of anomalies).
    """
    fpr, tpr, _ = roc_curve(labels, errors)
    auc = roc_auc_score(labels, errors)
    roc = pd.concat(
        [
            _thin(
                pd.DataFrame({"false positive rate": fpr, "true positive rate": tpr}), max_points
            ).assign(curve=f"AUC {auc:.3f}"),
            pd.DataFrame(
                {
                    "false positive rate": [0.0, 1.0],
                    "true positive rate": [0.0, 1.0],
                    "curve": "chance",
                }
            ),
        ],
        ignore_index=True,
    )
    precision, recall, _ = precision_recall_curve(labels, errors)
    ap = average_precision_score(labels, errors)
    base = float(np.mean(labels))
    pr = pd.concat(
        [
            _thin(pd.DataFrame({"recall": recall, "precision": precision}), max_points).assign(
                curve=f"AP {ap:.3f}"
            ),
            pd.DataFrame({"recall": [0.0, 1.0], "precision": [base, base], "curve": "chance"}),
        ],
        ignore_index=True,
    )
    return roc, pr


def sample_lines(sample: np.ndarray, reconstruction: np.ndarray) -> pd.DataFrame:
    """The TF tutorial's figure as data: input and reconstruction at each feature or time step."""
    steps = np.arange(len(sample))
    return pd.DataFrame(
        {
            "step": np.r_[steps, steps],
            "value": np.r_[sample, reconstruction].astype(np.float64),
            "line": ["input"] * len(steps) + ["reconstruction"] * len(steps),
        }
    )


def loss_curves(
    history: Sequence[dict[str, float]], keys: Sequence[str] = ("train_loss", "val_loss")
) -> pd.DataFrame:
    """Per-check losses in long form: epoch, loss, curve ("train loss", "val loss")."""
    rows = [
        {"epoch": row["epoch"], "loss": row[key], "curve": key.replace("_", " ")}
        for key in keys
        for row in history
        if key in row
    ]
    return pd.DataFrame(rows, columns=["epoch", "loss", "curve"])
