"""The anomaly app's plotly figures, drawn by the browser from shared/anomaly/plots.py's data.

Gradio's native plots draw the loss curves and the sample viewer; these three need what they
can't express: a threshold line over a histogram, markers over a line, curves whose points
must be joined in their own order (a ROC curve climbs straight up at a fixed x).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from gradio.components.plot import PlotData
from plotly.subplots import make_subplots

from shared.app.outputs import plot_data

NORMAL, ANOMALY, LABELLED, LINE, CHANCE = "#2563eb", "#dc2626", "#f59e0b", "#111827", "#9ca3af"
COLORS = {"all samples": NORMAL, "normal": NORMAL, "anomaly": ANOMALY}
LOG_RATIO = 20  # counts spanning more than this: log scale, or the anomalies' tail is invisible
TEMPLATE = pio.templates["plotly_white"]  # looked up once; by name, each figure copies it anew


def page_data(fig: go.Figure | None) -> PlotData | None:
    """`fig` as gr.Plot sends it, made once: the served answer is cached with its figures in
    this form, so 20 visitors don't each pay for serializing the same figure."""
    return None if fig is None else plot_data(fig)


def _figure() -> go.Figure:
    """An empty figure that skips plotly's per-property validation: these figures are built
    from our own data, and validating it (and copying the template by name) was four fifths of
    the time each one took (15 ms -> 3.5 ms for a 100-bar chart, the same JSON)."""
    return go.Figure(_validate=False)


def _layout(fig: go.Figure, title: str, height: int = 320) -> go.Figure:
    fig.update_layout(
        title=dict(text=title),
        height=height,
        margin=dict(l=50, r=20, t=50, b=40),
        hovermode="closest",
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
        template=TEMPLATE,
    )
    return fig


def histogram(frame: pd.DataFrame, threshold: float) -> go.Figure:
    """Error counts per bin (overlaid per label group) and the threshold as a dashed line."""
    fig = _figure()
    for group, part in frame.groupby("group", sort=False):
        fig.add_bar(
            x=part["error"],
            y=part["samples"],
            width=part["right"] - part["left"],
            name=group,
            marker_color=COLORS.get(group, NORMAL),
            opacity=0.6,
            customdata=part[["left", "right"]].to_numpy(),
            hovertemplate="errors %{customdata[0]:.4g} to %{customdata[1]:.4g}: %{y} samples",
        )
    fig.add_vline(x=threshold, line_dash="dash", line_color=LINE)
    fig.add_annotation(
        x=threshold,
        y=1,
        yref="paper",
        text=f"threshold {threshold:.4g}",
        showarrow=False,
        xanchor="left",
        yanchor="top",
    )
    filled = frame["samples"][frame["samples"] > 0]
    log = len(filled) > 0 and filled.max() > LOG_RATIO * filled.min()
    fig.update_layout(barmode="overlay", bargap=0)
    fig.update_xaxes(title="reconstruction error")
    if log:  # ticks at powers of ten only: 1, 10, 100
        fig.update_yaxes(title="samples (log scale)", type="log", dtick=1)
    else:
        fig.update_yaxes(title="samples")
    return _layout(fig, "Reconstruction errors")


def series(frame: pd.DataFrame) -> go.Figure:
    """The (downsampled) series, its flagged points in red and labelled anomalies in amber."""
    fig = _figure()

    def points(part: pd.DataFrame, name: str, mode: str, **style) -> None:
        fig.add_scatter(x=part["time step"], y=part["value"], mode=mode, name=name, **style)

    points(frame, "series", "lines", line=dict(color=NORMAL, width=1))
    labelled = frame[frame["labelled"] > 0]
    if len(labelled):
        marker = dict(color=LABELLED, size=6, symbol="square-open")
        points(labelled, "labelled anomaly", "markers", marker=marker)
    hits = frame[frame["flagged"]]
    points(hits, "flagged", "markers", marker=dict(color=ANOMALY, size=4))
    fig.update_xaxes(title="time step")
    _layout(fig, f"Series: {len(hits):,} points flagged", height=300)
    return fig.update_layout(hovermode="x")  # the value at the time step under the mouse


def roc_pr(roc: pd.DataFrame, pr: pd.DataFrame) -> go.Figure:
    """ROC and precision-recall side by side, each curve named by its area."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ROC", "Precision-recall"))
    for col, frame, (x, y) in (
        (1, roc, ("false positive rate", "true positive rate")),
        (2, pr, ("recall", "precision")),
    ):
        for curve, part in frame.groupby("curve", sort=False):
            chance = curve == "chance"
            fig.add_scatter(
                x=part[x],
                y=part[y],
                mode="lines",
                name=curve,
                row=1,
                col=col,
                line=dict(color=CHANCE if chance else ANOMALY, dash="dot" if chance else None),
                showlegend=not chance or col == 1,
            )
        fig.update_xaxes(title=x, range=[0, 1], row=1, col=col)
        fig.update_yaxes(title=y, range=[0, 1.02], row=1, col=col)
    _layout(fig, "")
    return fig.update_layout(legend=dict(y=-0.3, yanchor="top", x=0.5, xanchor="center"))
