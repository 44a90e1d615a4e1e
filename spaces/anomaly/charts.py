"""The anomaly app's plotly figures, drawn by the browser from shared/anomaly/plots.py's data.

Gradio's native plots draw the loss curves and the sample viewer; these three need what they
can't express: a threshold line over a histogram, markers over a line, curves whose points
must be joined in their own order (a ROC curve climbs straight up at a fixed x).

Each figure is written as the JSON plotly.js reads ({"data": traces, "layout": ...}) rather
than built as a `go.Figure`: plotly's figure objects check every property as it is set, and
for an uploaded 3,000-point ECG CSV the three figures took 85 ms of CPU that way (series 14,
histogram 25, ROC/PR 46) against 6 ms written out, the same traces and layout (2 cores).
tests/anomaly/test_plots.py reads each one back through plotly's checks.
"""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import plotly.io as pio
from gradio.components.plot import PlotData

NORMAL, ANOMALY, LABELLED, LINE, CHANCE = "#2563eb", "#dc2626", "#f59e0b", "#111827", "#9ca3af"
COLORS = {"all samples": NORMAL, "normal": NORMAL, "anomaly": ANOMALY}
LOG_RATIO = 20  # counts spanning more than this: log scale, or the anomalies' tail is invisible
LEGEND = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"}
# plotly's white theme, read once: its layout and its bar and scatter styles, the only traces
# drawn here. The whole theme (heat maps, 3-D, maps) is 7.2 KB in every figure; this is 3.1 KB.
_WHITE = pio.templates["plotly_white"].to_plotly_json()
TEMPLATE = {"layout": _WHITE["layout"], "data": {k: _WHITE["data"][k] for k in ("bar", "scatter")}}


def page_data(fig: dict | None) -> PlotData | None:
    """`fig` as gr.Plot sends it to the browser: its JSON, made once per answer."""
    return None if fig is None else PlotData(type="plotly", plot=pio.to_json(fig, validate=False))


def typed(values) -> dict:
    """A numeric column (or 2-D block) as plotly.js's typed array, base64 bytes decoded without
    parsing: floats as 8 bytes against about 19 characters of JSON text each; integers in the
    fewest bytes that hold them, as plotly's own encoder picks (a time step fits in 2)."""
    a = np.asarray(values)
    if a.dtype.kind == "f":
        a, dtype = a.astype("<f8"), "f8"
    else:
        low, high = (int(a.min()), int(a.max())) if a.size else (0, 0)
        bits = next(b for b in (8, 16, 32) if -(2 ** (b - 1)) <= low and high < 2 ** (b - 1))
        dtype = f"i{bits // 8}"
        a = a.astype(f"<{dtype}")
    sent = {"dtype": dtype, "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    return sent | ({"shape": ",".join(map(str, a.shape))} if a.ndim > 1 else {})


def axis(title: str, **options) -> dict:
    return {"title": {"text": title}, **options}


def figure(data: list[dict], title: str, height: int = 320, **layout) -> dict:
    """Our figures' common layout (a horizontal legend above the plot), plus `layout`."""
    return {
        "data": data,
        "layout": {
            "title": {"text": title},
            "height": height,
            "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
            "hovermode": "closest",
            "legend": LEGEND,
            "template": TEMPLATE,
            **layout,
        },
    }


def histogram(frame: pd.DataFrame, threshold: float) -> dict:
    """Error counts per bin (overlaid per label group) and the threshold as a dashed line."""
    bars = [
        {
            "type": "bar",
            "x": typed(part["error"]),
            "y": typed(part["samples"]),
            "width": typed(part["right"] - part["left"]),
            "name": group,
            "marker": {"color": COLORS.get(group, NORMAL)},
            "opacity": 0.6,
            "customdata": typed(part[["left", "right"]].to_numpy()),
            "hovertemplate": "errors %{customdata[0]:.4g} to %{customdata[1]:.4g}: %{y} samples",
        }
        for group, part in frame.groupby("group", sort=False)
    ]
    line = {"type": "line", "x0": threshold, "x1": threshold, "xref": "x", "y0": 0, "y1": 1}
    line |= {"yref": "y domain", "line": {"dash": "dash", "color": LINE}}
    label = {"x": threshold, "y": 1, "yref": "paper", "text": f"threshold {threshold:.4g}"}
    label |= {"showarrow": False, "xanchor": "left", "yanchor": "top"}
    filled = frame["samples"][frame["samples"] > 0]
    log = len(filled) > 0 and filled.max() > LOG_RATIO * filled.min()
    # ticks at powers of ten only (1, 10, 100) on a log scale
    y = axis("samples (log scale)", type="log", dtick=1) if log else axis("samples")
    return figure(
        bars,
        "Reconstruction errors",
        barmode="overlay",
        bargap=0,
        shapes=[line],
        annotations=[label],
        xaxis=axis("reconstruction error"),
        yaxis=y,
    )


def series(frame: pd.DataFrame) -> dict:
    """The (downsampled) series, its flagged points in red and labelled anomalies in amber."""

    def points(part: pd.DataFrame, name: str, mode: str, **style) -> dict:
        x, y = typed(part["time step"]), typed(part["value"])
        return {"type": "scatter", "x": x, "y": y, "mode": mode, "name": name, **style}

    traces = [points(frame, "series", "lines", line={"color": NORMAL, "width": 1})]
    labelled = frame[frame["labelled"] > 0]
    if len(labelled):
        marker = {"color": LABELLED, "size": 6, "symbol": "square-open"}
        traces.append(points(labelled, "labelled anomaly", "markers", marker=marker))
    hits = frame[frame["flagged"]]
    traces.append(points(hits, "flagged", "markers", marker={"color": ANOMALY, "size": 4}))
    title = f"Series: {len(hits):,} points flagged"
    # hovermode x: the value at the time step under the mouse
    return figure(traces, title, height=300, xaxis=axis("time step"), hovermode="x")


def roc_pr(roc: pd.DataFrame, pr: pd.DataFrame) -> dict:
    """ROC and precision-recall side by side, each curve named by its area."""
    traces, layout = [], {}
    for col, frame, (x, y) in (
        (1, roc, ("false positive rate", "true positive rate")),
        (2, pr, ("recall", "precision")),
    ):
        n = "" if col == 1 else "2"
        for curve, part in frame.groupby("curve", sort=False):
            chance = curve == "chance"
            line = {"color": CHANCE, "dash": "dot"} if chance else {"color": ANOMALY}
            traces.append(
                {
                    "type": "scatter",
                    "x": typed(part[x]),
                    "y": typed(part[y]),
                    "mode": "lines",
                    "name": curve,
                    "line": line,
                    "showlegend": not chance or col == 1,
                    "xaxis": f"x{n}",
                    "yaxis": f"y{n}",
                }
            )
        domain = [0.0, 0.45] if col == 1 else [0.55, 1.0]  # plotly's make_subplots(1, 2)
        layout[f"xaxis{n}"] = axis(x, range=[0, 1], anchor=f"y{n}", domain=domain)
        layout[f"yaxis{n}"] = axis(y, range=[0, 1.02], anchor=f"x{n}", domain=[0.0, 1.0])
    titles = [
        {"text": text, "x": x, "y": 1.0, "xref": "paper", "yref": "paper", "showarrow": False}
        | {"xanchor": "center", "yanchor": "bottom", "font": {"size": 16}}
        for text, x in (("ROC", 0.225), ("Precision-recall", 0.775))
    ]
    legend = LEGEND | {"y": -0.3, "yanchor": "top", "x": 0.5, "xanchor": "center"}  # below
    return figure(traces, "", annotations=titles, legend=legend, **layout)
