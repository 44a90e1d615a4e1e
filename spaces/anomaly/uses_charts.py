"""The figures and pictures of the tab "What else an autoencoder does", from shared/uses data.

Plotly draws the maps and the curve in the browser, so a visitor can hover, zoom and hide a
class; digits become pictures a page can show (8x8 is too small to see, so each pixel is
enlarged as a block, never smoothed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from shared.uses.explore import Bottleneck, CodeMap

CLASS_COLORS = qualitative.Plotly  # ten colours, one per digit
NORMAL, ANOMALY, GREY = "#2563eb", "#dc2626", "#6b7280"  # as the Detect tab draws them
SHADES = " ░▒▓█"  # a digit in its hover label, one character per pixel
PIXEL = 14  # screen pixels per digit pixel: an 8x8 digit shown 112 px wide


def ascii_digit(pixels: np.ndarray) -> str:
    """An 8x8 digit as 8 lines of block characters, for a hover label."""
    levels = np.clip((np.asarray(pixels).reshape(8, 8) * (len(SHADES) - 1)).round(), 0, 4)
    return "<br>".join("".join(SHADES[int(v)] * 2 for v in row) for row in levels)


def code_maps(ae: CodeMap, pca: CodeMap, images: np.ndarray) -> go.Figure:
    """The two maps side by side, one colour per class; hovering shows the digit itself."""
    titles = [
        f"{m.method}: 2 numbers per digit, 5-NN accuracy {m.knn_accuracy:.3f}" for m in (ae, pca)
    ]
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08)
    for col, m in enumerate((ae, pca), start=1):
        for digit in range(10):
            keep = m.labels == digit
            rows = m.rows[keep]
            fig.add_scattergl(
                x=m.points[keep, 0],
                y=m.points[keep, 1],
                mode="markers",
                marker=dict(size=5, color=CLASS_COLORS[digit]),
                name=str(digit),
                legendgroup=str(digit),
                showlegend=col == 1,
                customdata=np.c_[rows, [ascii_digit(images[r]) for r in rows]],
                hovertemplate=(
                    f"digit {digit}, held-out #%{{customdata[0]}}<br>%{{customdata[1]}}"
                    "<extra></extra>"
                ),
                row=1,
                col=col,
            )
    fig.update_layout(
        height=460,
        margin=dict(l=40, r=20, t=60, b=40),
        legend=dict(title="digit"),
        hoverlabel=dict(font_family="monospace"),
        template="plotly_white",
    )
    return fig


def compression_curve(rows: list[dict]) -> go.Figure:
    """Held-out MSE against code size, autoencoder and PCA, with the bytes per digit."""
    sizes = [r["code_size"] for r in rows]
    ticks = [f"{r['code_size']}<br>({r['bytes']} bytes)" for r in rows]
    fig = go.Figure()
    for key, name, color in (("autoencoder_mse", "autoencoder", NORMAL), ("pca_mse", "PCA", GREY)):
        y = [r[key] for r in rows]
        fig.add_scatter(x=sizes, y=y, mode="lines+markers", name=name, line=dict(color=color))
    fig.update_layout(
        height=360,
        margin=dict(l=60, r=20, t=50, b=60),
        title="Reconstruction error of held-out digits against code size",
        xaxis=dict(type="log", tickvals=sizes, ticktext=ticks, title="code size (float32)"),
        yaxis=dict(title="MSE per pixel", rangemode="tozero"),
        template="plotly_white",
    )
    return fig


def bottleneck(b: Bottleneck) -> go.Figure:
    """The served model's codes of test samples, normal against anomalous."""
    whose, _, how = b.title.partition(": ")  # the model, then how its codes are drawn
    fig = go.Figure()
    for flag, name, color in ((False, "normal", NORMAL), (True, "anomaly", ANOMALY)):
        keep = b.anomalous == flag
        fig.add_scattergl(
            x=b.points[keep, 0],
            y=b.points[keep, 1],
            mode="markers",
            name=name,
            marker=dict(size=5, color=color, opacity=0.6),
        )
    fig.update_layout(
        height=420,
        margin=dict(l=50, r=20, t=70, b=50),
        title=dict(text=f"{whose}<br><sub>{how}: {b.shown:,} of {b.total:,} test samples</sub>"),
        xaxis_title=b.axes[0],
        yaxis_title=b.axes[1],
        template="plotly_white",
    )
    return fig


def picture(image: np.ndarray, pixel: int = PIXEL) -> np.ndarray:
    """A digit (or a grid of them) in [0, 1] as a grey uint8 picture, each pixel a block."""
    block = np.ones((pixel, pixel))
    return (np.kron(np.clip(image, 0, 1), block) * 255).round().astype(np.uint8)


TABLE = {  # metrics.json's columns in the tables' order: the name shown, decimals
    **{"noise_std": ("noise std", 2), "noisy_psnr": ("noisy dB", 1)},
    **{"median_psnr": ("median 3x3 dB", 1), "autoencoder_psnr": ("denoising AE dB", 1)},
    **{"code_size": ("code size", 0), "bytes": ("bytes per digit", 0)},
    **{"autoencoder_mse": ("autoencoder MSE", 4), "pca_mse": ("PCA MSE", 4)},
    **{"labels_per_class": ("labels per class", 0), "code_accuracy": ("AE code", 3)},
    **{"pca_accuracy": ("PCA", 3), "pixel_accuracy": ("pixels", 3)},
}


def table(rows: list[dict]) -> pd.DataFrame:
    """Rows of metrics.json (whose keys are saved sorted) as a table in the order above."""
    frame = pd.DataFrame(rows)
    keys = [k for k in TABLE if k in frame]
    frame = frame[keys].round({k: TABLE[k][1] for k in keys})
    return frame.rename(columns={k: TABLE[k][0] for k in keys})
