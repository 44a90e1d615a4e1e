"""The anomaly app's figures: error histogram, ROC and PR curves, a sample, a flagged series."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

import shared.plots  # noqa: F401 - selects the Agg backend before pyplot loads

from matplotlib import pyplot as plt  # noqa: E402 isort: skip

NORMAL, ANOMALY, LINE = "#2563eb", "#dc2626", "#111827"


def _figure(width: float = 6.4, height: float = 3.4):
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    plt.close(fig)  # the caller owns it; keep pyplot's global list from growing per request
    return fig, ax


def error_histogram(errors: np.ndarray, labels: np.ndarray | None, threshold: float) -> Figure:
    """Reconstruction errors, split by label when labels exist, with the threshold line."""
    fig, ax = _figure()
    bins = np.histogram_bin_edges(errors, bins=50)
    step = {"bins": bins, "histtype": "stepfilled"}  # one shape, not 50 bars: 1/3 faster to draw
    if labels is None:
        counts, _, _ = ax.hist(errors, color=NORMAL, alpha=0.7, label="all samples", **step)
    else:
        counts, _, _ = ax.hist(
            [errors[labels == 0], errors[labels == 1]], color=[NORMAL, ANOMALY], alpha=0.6,
            label=["normal", "anomaly"], **step,
        )  # fmt: skip
    ax.axvline(threshold, color=LINE, linestyle="--", label=f"threshold {threshold:.4g}")
    filled = np.asarray(counts)[np.asarray(counts) > 0]
    # a few anomalies beside thousands of normal samples: the tail they sit in needs log counts
    log = filled.size > 0 and filled.max() > 20 * filled.min()
    if log:
        ax.set_yscale("log")
    ax.set(
        xlabel="reconstruction error", ylabel="samples (log scale)" if log else "samples",
        title="Reconstruction errors",
    )  # fmt: skip
    ax.legend()
    return fig


def roc_pr(errors: np.ndarray, labels: np.ndarray) -> Figure:
    """ROC and precision-recall curves, anomaly as the positive class."""
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(8, 3.4), layout="constrained")
    plt.close(fig)
    fpr, tpr, _ = roc_curve(labels, errors)
    roc.plot(fpr, tpr, color=ANOMALY, label=f"AUC {roc_auc_score(labels, errors):.3f}")
    roc.plot([0, 1], [0, 1], color="gray", linestyle=":")
    roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    precision, recall, _ = precision_recall_curve(labels, errors)
    ap = average_precision_score(labels, errors)
    pr.plot(recall, precision, color=ANOMALY, label=f"AP {ap:.3f}")
    pr.axhline(labels.mean(), color="gray", linestyle=":", label="chance")
    pr.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    for ax in (roc, pr):
        ax.legend(loc="lower right" if ax is roc else "upper right")
        ax.grid(alpha=0.3)
    return fig


def sample_plot(sample: np.ndarray, reconstruction: np.ndarray, title: str) -> Figure:
    """The TF tutorial's figure: input against reconstruction, the error shaded between."""
    fig, ax = _figure()
    xs = np.arange(len(sample))
    ax.plot(xs, sample, color=NORMAL, label="input")
    ax.plot(xs, reconstruction, color=ANOMALY, label="reconstruction")
    ax.fill_between(xs, sample, reconstruction, color="#fca5a5", alpha=0.5, label="error")
    ax.set(xlabel="feature / time step", title=title)
    ax.legend()
    return fig


def series_plot(
    series: np.ndarray, flagged: np.ndarray, point_labels: np.ndarray | None = None
) -> Figure:
    """The series with flagged points in red and labelled anomalies shaded."""
    fig, ax = _figure(9, 3)
    xs = np.arange(len(series))
    ax.plot(xs, series, color=NORMAL, linewidth=0.6, label="series")
    if point_labels is not None and point_labels.any():
        ax.fill_between(
            xs, series.min(), series.max(), where=point_labels > 0, color="#fde68a",
            alpha=0.6, label="labelled anomaly",
        )  # fmt: skip
    hits = flagged > 0
    ax.scatter(xs[hits], series[hits], s=4, color=ANOMALY, label="flagged", zorder=3)
    ax.set(xlabel="time step", title=f"Series: {int(hits.sum())} points flagged")
    ax.legend(loc="upper right")
    return fig
