"""The tab "What else an autoencoder does": six uses of an autoencoder, each beside a baseline.

Five sections show the models `python -m training.anomaly_uses` trains on scikit-learn's digits,
found as every model is ($ANOMALY_USES_MODEL, the bundle's models.json, artifacts/anomaly_uses,
the Hub), with the numbers of their metrics.json. The sixth looks into the bottleneck of the
anomaly model this app serves. app.py loads the models (`load`) and the first view once, at
import; the handlers answer the sliders, the drawing and the buttons, given that `Uses` first.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import gradio as gr
import numpy as np
import uses_charts as charts

from shared.app.errors import readable
from shared.app.outputs import handler, plot_data
from shared.app.served import DefaultModel, load_default
from shared.uses import explore
from shared.uses.data import Digits, load_split
from shared.uses.models import REQUIRED, load_uses

NOISE = 0.3  # the slider's start: the measured level
SAMPLES, STEPS = 16, 10  # digits drawn from the VAE per click, steps of an interpolation
PATH_ENDS = (0, 1)  # the held-out rows the interpolation starts between
BRUSH = gr.Brush(colors=["#000000"], default_size=18, color_mode="fixed")  # as the Classify tab
SKETCH = dict(type="numpy", brush=BRUSH, canvas_size=(280, 280))
# shown, not edited; PNG keeps the blocks sharp and the grey levels exact (WebP blurs them)
PICTURE = dict(type="numpy", image_mode="L", format="png", interactive=False, buttons=[])
PICTURES = {"clean": "clean", "noisy": "noisy", "median": "median 3x3", "denoised": "denoised"}


class Uses(NamedTuple):
    """The digit models (or why there are none) and the held-out digits the tab shows."""

    found: DefaultModel
    digits: Digits
    last: int  # the pickers' range: rows of the held-out split


def load(app_dir: Path) -> Uses:
    """The digit models, found as every model is (`app_dir` may hold a bundle's models.json),
    and the held-out split of the seed they were trained with."""
    what = "The digit models"
    found = load_default("anomaly_uses", REQUIRED, load_uses, app_dir=app_dir, what=what)
    digits = load_split(found.model.config.seed if found.model else 0)
    return Uses(found, digits, len(digits.test_y) - 1)


class Denoised(NamedTuple):
    clean: np.ndarray  # pictures (uint8, each digit pixel a block)
    noisy: np.ndarray
    median: np.ndarray
    denoised: np.ndarray
    psnr: str  # Markdown: the three PSNRs


class Samples(NamedTuple):
    samples: np.ndarray  # a grid of new digits
    seed: int  # the next click's seed


class Interpolated(NamedTuple):
    path: np.ndarray  # a row of digits from one to the other


def _db(value: float) -> str:
    return "∞ dB (no noise)" if value == float("inf") else f"{value:.1f} dB"


def denoise(uses: Uses, image, noise: float, seed: int = 0) -> Denoised:
    """A digit (or drawing) with noise of std `noise`, a 3x3 median filter of it, and the
    denoising autoencoder's answer, each with its PSNR against the clean digit."""
    out = explore.denoise(uses.found.model, image, noise, int(seed))
    text = (
        f"PSNR against the clean digit: noisy **{_db(out.noisy_psnr)}**, median filter "
        f"**{_db(out.median_psnr)}**, denoising autoencoder **{_db(out.denoised_psnr)}**."
    )
    return Denoised(*(charts.picture(x) for x in out[:4]), text)


def denoise_digit(uses: Uses, row: float, noise: float) -> Denoised:
    """Denoise a held-out digit, picked by its row in the held-out split."""
    return denoise(uses, uses.digits.test_x[_row(uses, row)].reshape(8, 8), noise)


def denoise_drawing(uses: Uses, drawing: dict | None, noise: float) -> Denoised:
    """Denoise a drawing of a digit (the sketchpad's picture)."""
    return denoise(uses, (drawing or {}).get("composite"), noise)


def new_samples(uses: Uses, seed: float) -> Samples:
    """SAMPLES new digits from the VAE's prior, for `seed`."""
    images = explore.vae_samples(uses.found.model, SAMPLES, int(seed))
    return Samples(charts.picture(explore.grid(images), 6), int(seed) + 1)


def interpolate(uses: Uses, start: float, end: float) -> Interpolated:
    """STEPS digits on the line between two held-out digits' codes in the VAE."""
    a, b = (uses.digits.test_x[_row(uses, r)].reshape(8, 8) for r in (start, end))
    path = explore.interpolate(uses.found.model, a, b, STEPS)
    return Interpolated(charts.picture(explore.grid(path, STEPS), 6))


def _row(uses: Uses, row: float) -> int:
    return int(np.clip(round(float(row)), 0, uses.last))


def bottleneck(anomaly: DefaultModel) -> tuple[object | None, str]:
    """The served anomaly model's latent codes of its test data, or why there are none."""
    if anomaly.model is None:
        return None, anomaly.status
    task = explore.served_task(anomaly.model)
    if task is None or task.test_labels is None:
        return None, (
            f"The served model was trained on {anomaly.model.config.dataset}, not on a built-in "
            "dataset with test labels: there are no labelled test samples to project."
        )
    b = explore.bottleneck_map(anomaly.model, task)
    wide = anomaly.model.config.latent > 2
    text = (
        "Each point is one test sample's code: the numbers the encoder squeezes it into before "
        "the decoder rebuilds it. "
        + ("The latent is wider than 2, so the plot shows a PCA of the codes. " if wide else "")
        + "Where anomalies sit apart from normal samples, the bottleneck itself tells them "
        "apart; where they overlap, only the reconstruction error does."
    )
    return plot_data(charts.bottleneck(b)), text


class First(NamedTuple):
    """What the tab shows as it opens, made once at the app's import (None: no digit models)."""

    maps: object
    denoised: Denoised
    curve: object
    samples: Samples
    path: Interpolated


def first_view(uses: Uses) -> First | None:
    if uses.found.model is None:
        return None
    ae, pca = explore.code_maps(uses.found.model, uses.digits)
    return First(
        plot_data(charts.code_maps(ae, pca, uses.digits.test_x)),
        denoise_digit(uses, 0, NOISE),
        plot_data(charts.compression_curve(uses.found.metrics["compression"])),
        new_samples(uses, 0),
        interpolate(uses, *PATH_ENDS),
    )


def _picture(value: np.ndarray, label: str, elem_id: str) -> gr.Image:
    return gr.Image(value, label=label, elem_id=elem_id, **PICTURE)


def _on(triggers: list, fn, uses: Uses, inputs: list, outputs: list, name: str) -> None:
    """Wire `fn(uses, ...)` as a handler: an API endpoint for tests and clients, no MCP tool."""
    gr.on(
        triggers, handler(fn, uses), inputs, outputs, api_name=name, api_visibility="undocumented"
    )


def build(uses: Uses, first: First | None, anomaly: DefaultModel) -> None:
    """The six sections, opening on `first`; `anomaly` is the app's served anomaly model."""
    gr.Markdown(
        "An autoencoder squeezes its input through a narrow **bottleneck** and rebuilds it. "
        "The anomaly tabs use how badly it rebuilds. Here are five more uses, each beside a "
        "simple baseline, on scikit-learn's 8x8 digits (70% to train on, 30% held out)."
    )
    if first is None:
        gr.Markdown(uses.found.status)
    else:
        _digit_sections(uses, first)
    gr.Markdown("### 6. The bottleneck on the anomaly task")
    figure, text = bottleneck(anomaly)
    gr.Markdown(text)
    if figure is not None:
        gr.Plot(figure, label="Latent codes of test samples", elem_id="uses-bottleneck")


def _digit_sections(uses: Uses, first: First) -> None:
    metrics = uses.found.metrics
    gr.Markdown(
        "### 1. Dimensionality reduction\nEach held-out digit as 2 numbers: the code of a "
        "2-unit bottleneck beside PCA's first two components. Hover a point to see its digit; "
        "the 5-NN accuracy says how well the 2 numbers alone tell the classes apart."
    )
    gr.Plot(first.maps, label="Digits in 2 numbers", elem_id="uses-maps")

    gr.Markdown("### 2. Denoising\nPick a held-out digit or draw one, then add noise.")
    with gr.Row():
        with gr.Column(scale=1):
            row = gr.Slider(
                0, uses.last, value=0, step=1, label="Held-out digit #", elem_id="uses-row"
            )
            noise = gr.Slider(0, explore.MAX_NOISE, NOISE, step=0.05, label="Noise std")
            sketch = readable(
                gr.Sketchpad(label="Or draw a digit", elem_id="uses-sketch", **SKETCH)
            )
            draw = gr.Button("Denoise the drawing", elem_id="uses-draw")
        with gr.Column(scale=2):
            with gr.Row():
                pictures = [
                    _picture(getattr(first.denoised, key), label, f"uses-{key}")
                    for key, label in PICTURES.items()
                ]
            psnr = gr.Markdown(first.denoised.psnr, elem_id="uses-psnr")
    shown = Denoised(*pictures, psnr)
    _on([row.change, noise.change], denoise_digit, uses, [row, noise], list(shown), "uses_denoise")
    _on([draw.click], denoise_drawing, uses, [sketch, noise], list(shown), "uses_denoise_drawing")
    gr.Markdown("PSNR of all held-out digits at each noise level (from the model's metrics):")
    gr.Dataframe(charts.table(metrics["denoising"]), interactive=False, elem_id="uses-noise-table")

    gr.Markdown("### 3. Compression")
    gr.Plot(first.curve, label="Code size against error", elem_id="uses-curve")
    gr.Markdown(explore.compression_summary(metrics["compression"]), elem_id="uses-compression")
    gr.Dataframe(charts.table(metrics["compression"]), interactive=False)

    gr.Markdown(
        "### 4. Feature extraction\nA logistic regression trained on a few labelled digits "
        "per class, reading the autoencoder's code, PCA's components or the raw pixels "
        "(held-out accuracy, mean of 5 random draws of the labels):"
    )
    gr.Dataframe(charts.table(metrics["features"]), interactive=False, elem_id="uses-features")
    code = uses.found.model.config.feature_code
    gr.Markdown(explore.features_summary(metrics["features"], code))

    g = metrics["generation"]
    gr.Markdown(
        f"### 5. Generation\nA variational autoencoder learns a code whose every point decodes "
        f"to a digit, so numbers drawn at random make new ones. Held-out ELBO "
        f"**{g['elbo']:.1f} nats** per digit; a classifier of real digits reads "
        f"**{g['recognised_fraction']:.0%}** of 500 samples as one digit with probability >= 0.8."
    )
    seed = gr.State(first.samples.seed)
    samples = _picture(first.samples.samples, "New digits from the prior", "uses-samples")
    more = gr.Button("Draw new digits", elem_id="uses-more")
    _on([more.click], new_samples, uses, [seed], [samples, seed], "uses_samples")
    with gr.Row():
        start = gr.Slider(0, uses.last, PATH_ENDS[0], step=1, label="From held-out digit #")
        end = gr.Slider(0, uses.last, PATH_ENDS[1], step=1, label="To held-out digit #")
    path = _picture(first.path.path, "The way between them in the VAE's code", "uses-path")
    _on([start.change, end.change], interpolate, uses, [start, end], [path], "uses_path")
