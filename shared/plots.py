"""Plots the apps and model cards share. Each returns a matplotlib Figure for `gr.Plot`."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on servers and Spaces
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def history_plot(
    history: Sequence[dict[str, float]],
    keys: Sequence[str] = ("train_loss", "val_loss"),
    title: str = "Training curves",
    ylabel: str = "loss",
) -> Figure:
    """Line plot of per-epoch values from a training history (one dict per epoch)."""
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    for key in keys:
        points = [(row["epoch"], row[key]) for row in history if key in row]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", markersize=3, label=key.replace("_", " "))
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    ax.grid(alpha=0.3)
    plt.close(fig)  # the caller owns it; keep pyplot's global list from growing per request
    return fig
