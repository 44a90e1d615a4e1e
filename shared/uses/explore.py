"""What the tab "What else an autoencoder does" draws, as plain data: no Gradio here.

Maps of held-out digits in two dimensions, a digit through noise and back, new digits from the
VAE, and the served anomaly model's bottleneck. Each function takes the loaded models and
returns arrays and numbers, so a test checks them without a page.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np
import torch
from sklearn.decomposition import PCA

from shared.anomaly.builtin import BUILTINS, load_builtin
from shared.anomaly.data import AnomalyData
from shared.anomaly.model import Autoencoder
from shared.errors import UserInputError
from shared.uses.data import SIDE, Digits, to_digit
from shared.uses.measure import codes, knn_accuracy, median_3x3, noisy, pca, psnr, reconstruct
from shared.uses.models import AutoencoderUses

MAX_NOISE = 1.0  # the slider's end: beyond a std of 1 the digit is gone under the noise
MAX_SAMPLES, MAX_STEPS = 64, 32  # the most VAE samples and interpolation steps one call makes
MAP_POINTS = 2000  # the anomaly map's points at most: a browser scatter stays quick


class CodeMap(NamedTuple):
    """Held-out digits placed in two dimensions by one method."""

    method: str  # "autoencoder" or "PCA"
    points: np.ndarray  # (n, 2) float
    labels: np.ndarray  # (n,) each point's true class
    rows: np.ndarray  # (n,) each point's row in the held-out split
    knn_accuracy: float  # 5-NN accuracy of the held-out points from the training points


def code_maps(model: AutoencoderUses, digits: Digits) -> tuple[CodeMap, CodeMap]:
    """The 2-unit autoencoder's map of the held-out digits, and PCA's with two components."""
    net, p = model.compressor(2), pca(digits, 2)
    rows = np.arange(len(digits.test_y))
    maps = []
    for method, embed in (("autoencoder", lambda x: codes(net, x)), ("PCA", p.transform)):
        train, test = embed(digits.train_x), embed(digits.test_x)
        accuracy = knn_accuracy(train, digits.train_y, test, digits.test_y)
        maps.append(CodeMap(method, test, digits.test_y.copy(), rows, accuracy))
    return maps[0], maps[1]


class Denoised(NamedTuple):
    """One digit through noise, and back by a median filter and by the denoising autoencoder."""

    clean: np.ndarray  # (8, 8) in [0, 1]
    noisy: np.ndarray
    median: np.ndarray
    denoised: np.ndarray
    noisy_psnr: float  # dB against the clean digit
    median_psnr: float
    denoised_psnr: float


def number(value) -> float:
    """`value` as a float, NaN when it is not a number (NaN then fails every range check)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def check_noise(noise_std) -> float:
    value = number(noise_std)
    if not 0 <= value <= MAX_NOISE:
        raise UserInputError(f"The noise std must be a number from 0 to {MAX_NOISE:g}.")
    return value


def denoise(model: AutoencoderUses, image, noise_std: float, seed: int = 0) -> Denoised:
    """Add noise of `noise_std` to `image` (a digit, a drawing), then take it away two ways."""
    clean = to_digit(image).reshape(1, -1)
    seen = noisy(clean, check_noise(noise_std), seed)
    median, denoised = median_3x3(seen), reconstruct(model.denoiser, seen)
    return Denoised(
        *(x.reshape(SIDE, SIDE) for x in (clean, seen, median, denoised)),
        psnr(seen, clean),
        psnr(median, clean),
        psnr(denoised, clean),
    )


def check_count(n, most: int, what: str) -> int:
    value = number(n)
    if not (1 <= value <= most and value.is_integer()):
        raise UserInputError(f"The number of {what} must be a whole number from 1 to {most}.")
    return int(value)


@torch.inference_mode()
def vae_samples(model: AutoencoderUses, n: int = 16, seed: int = 0) -> np.ndarray:
    """`n` new digits (n, 8, 8): samples of the prior through the VAE's decoder."""
    n = check_count(n, MAX_SAMPLES, "samples")
    z = torch.randn(n, model.vae.latent, generator=torch.Generator().manual_seed(int(seed)))
    return model.vae.decode(z).numpy().reshape(n, SIDE, SIDE)


@torch.inference_mode()
def interpolate(model: AutoencoderUses, start, end, steps: int = 8) -> np.ndarray:
    """(steps, 8, 8) digits decoded along the straight line between two digits' latent means."""
    steps = check_count(steps, MAX_STEPS, "steps")
    ends = torch.from_numpy(np.stack([to_digit(start), to_digit(end)]).reshape(2, -1))
    mean, _ = model.vae.posterior(ends)
    t = torch.linspace(0, 1, steps).unsqueeze(1) if steps > 1 else torch.zeros(1, 1)
    path = (1 - t) * mean[0] + t * mean[1]
    return model.vae.decode(path).numpy().reshape(steps, SIDE, SIDE)


class Bottleneck(NamedTuple):
    """The served anomaly model's latent codes of test samples, in two dimensions."""

    points: np.ndarray  # (n, 2)
    anomalous: np.ndarray  # (n,) bool, the test labels
    axes: tuple[str, str]  # what each dimension is
    shown: int  # test samples drawn ...
    total: int  # ... of all of them
    title: str


def bottleneck_map(
    model: Autoencoder, data: AnomalyData, max_points: int = MAP_POINTS, seed: int = 0
) -> Bottleneck:
    """Latent codes of `data.test`, normal against anomalous; a PCA of them when wider than 2."""
    if data.test_labels is None:
        raise UserInputError(f"{data.name} has no test labels to tell anomalies by.")
    total = len(data.test)
    keep = np.arange(total)
    if total > max_points:  # a uniform subsample keeps the share of anomalies
        keep = np.sort(np.random.default_rng(seed).choice(total, max_points, replace=False))
    latent = model.encode(data.test[keep])
    width = latent.shape[1]
    if width > 2:
        share = PCA(2, svd_solver="full").fit(latent)
        points = share.transform(latent)
        kept = share.explained_variance_ratio_.sum()
        axes = ("PC 1 of the codes", "PC 2 of the codes")
        how = f"PCA of the {width}-D codes (keeps {kept:.0%} of their variance)"
    elif width == 2:
        points, axes, how = latent, ("latent 1", "latent 2"), "the 2-D codes"
    else:
        points = np.c_[latent, np.zeros(len(latent))]
        axes, how = ("latent 1", "(one latent unit)"), "the 1-D codes"
    title = f"Bottleneck of the {model.describe()}: {how} of {data.name} test samples"
    anomalous = data.test_labels[keep].astype(bool)
    return Bottleneck(points, anomalous, axes, len(keep), total, title)


def served_task(model: Autoencoder) -> AnomalyData | None:
    """The built-in dataset the served model was trained on, cut the same way; None otherwise."""
    c = model.config
    name, digit = c.dataset, 0
    if match := re.fullmatch(r"digits \(normal = (\d)\)", c.dataset):
        name, digit = "digits", int(match[1])
    if name not in BUILTINS:
        return None
    series = c.kind == "series"
    return load_builtin(name, digit, c.window if series else None, c.stride if series else 1)


def grid(images: np.ndarray, columns: int = 8, gap: int = 1) -> np.ndarray:
    """Several (n, 8, 8) digits as one image, in rows of `columns`, for one picture on a page."""
    n = len(images)
    rows = math.ceil(n / columns)
    cell = SIDE + gap
    out = np.zeros((rows * cell - gap, min(n, columns) * cell - gap), dtype=np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        out[r * cell : r * cell + SIDE, c * cell : c * cell + SIDE] = image
    return out


RAW_BYTES = 64  # an 8x8 digit stored plainly, one byte per pixel
CLOSE = 0.25  # an MSE within 25% of PCA's: a difference no one sees in an 8x8 digit


def compression_summary(rows: list[dict]) -> str:
    """Where the autoencoder's codes beat PCA's, and where the difference stops mattering.

    Read from metrics.json's `compression` rows, so the sentence follows the numbers: a code
    size is won when the autoencoder's MSE is lower, and stops mattering once it is within
    CLOSE of PCA's or once the code takes as many bytes as the raw digit.
    """
    won = [r for r in rows if r["autoencoder_mse"] < r["pca_mse"]]
    if not won:
        return "PCA reconstructs the digits as well as the autoencoder at every code size."
    lead = ", ".join(f"{r['pca_mse'] / r['autoencoder_mse']:.1f}x at {r['code_size']}" for r in won)
    sizes = ("code size " if len(won) == 1 else "code sizes ") + _join(
        [str(r["code_size"]) for r in won]
    )
    text = (
        f"The autoencoder beats PCA at {sizes} (its MSE is lower by {lead}): "
        "a curved map of the digits keeps more of them in the same few numbers."
    )
    faded = [
        r
        for r in rows
        if r["autoencoder_mse"] >= (1 - CLOSE) * r["pca_mse"] or r["bytes"] >= RAW_BYTES
    ]
    if faded:
        first = faded[0]
        text += (
            f" From {first['code_size']} numbers ({first['bytes']} bytes) on it stops mattering:"
            f" the two are within {CLOSE:.0%} of each other"
        )
        if first["bytes"] >= RAW_BYTES:
            text += f", and a float32 code is as big as the raw digit ({RAW_BYTES} bytes)"
        text += "."
    return text + (
        " And only this decoder, trained on these digits, can read its codes back: it is "
        "specific to its data, where a general codec such as PNG or JPEG is not."
    )


FEATURES = {"code": "the autoencoder's code", "pca": "PCA", "pixel": "raw pixels"}


def features_summary(rows: list[dict], code_size: int) -> str:
    """Which features a linear classifier reads best at each number of labels, as it came out."""
    best = {r["labels_per_class"]: max(FEATURES, key=lambda k: r[f"{k}_accuracy"]) for r in rows}
    said = []
    for name, label in FEATURES.items():
        counts = [str(n) for n, b in best.items() if b == name]
        if counts:
            scores = ", ".join(
                f"{r[f'{name}_accuracy']:.2f}" for r in rows if best[r["labels_per_class"]] == name
            )
            said.append(f"{label} at {_join(counts)} labels per class ({scores})")
    text = f"Best features: {'; '.join(said)}."
    code_wins = sum(b == "code" for b in best.values())
    if code_wins == len(best):
        return text + f" Here the {code_size}-D code is the better feature at every count."
    if code_wins == 0:
        return text + (
            f" The {code_size}-D code is not automatically the better feature: it is trained "
            "to redraw digits, not to tell them apart."
        )
    return text + f" Whether the {code_size}-D code helps depends on how many labels there are."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
