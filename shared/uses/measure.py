"""The numbers of `metrics.json`: each use on the held-out digits, beside its baseline.

Every function is deterministic for a given bundle and split (fixed seeds for noise, label
draws and prior samples), so the same folder always gives the same numbers, and a test can
recompute every one of them from a saved artifact.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import median_filter
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from shared.uses.data import SIDE, Digits
from shared.uses.models import AutoencoderUses
from shared.uses.train import add_noise, threads

NEIGHBOURS = 5  # the 5-NN accuracy on 2-D codes
NOISE_LEVELS = (0.1, 0.2, 0.3, 0.5)  # noise std on [0, 1] pixels; the target is at 0.3
MEDIAN_SIZE = 3  # the classic baseline: a 3x3 median filter
CODE_BYTES = 4  # a code is float32: 4 bytes per number
LABELS_PER_CLASS = (5, 10, 50)
LABEL_DRAWS = 5  # few-label accuracies are means over this many random draws of the labels
PRIOR_SAMPLES = 500  # generated digits judged by a classifier of real ones ...
RECOGNISED_PROB = 0.8  # ... counted when it gives one class at least this probability
ELBO_SAMPLES = 10  # samples of z per held-out digit in the ELBO estimate
SEED = 0  # the noise, label draws and prior samples of every measurement


@torch.inference_mode()
def codes(net, x: np.ndarray) -> np.ndarray:
    return net.encode(torch.tensor(x)).numpy()


@torch.inference_mode()
def reconstruct(net, x: np.ndarray) -> np.ndarray:
    return net(torch.tensor(x)).numpy()


def pca(digits: Digits, k: int) -> PCA:
    """PCA fitted on the training digits: the baseline every code is compared with."""
    return PCA(k, svd_solver="full").fit(digits.train_x)


def knn_accuracy(train: np.ndarray, train_y, test: np.ndarray, test_y) -> float:
    knn = KNeighborsClassifier(NEIGHBOURS).fit(train, train_y)
    return float(knn.score(test, test_y))


def reduction(model: AutoencoderUses, digits: Digits) -> dict[str, float]:
    """5-NN accuracy of held-out digits from their 2-D autoencoder code and from 2 PCs."""
    net, p = model.compressor(2), pca(digits, 2)
    return {
        "autoencoder_knn": knn_accuracy(
            codes(net, digits.train_x), digits.train_y, codes(net, digits.test_x), digits.test_y
        ),
        "pca_knn": knn_accuracy(
            p.transform(digits.train_x), digits.train_y, p.transform(digits.test_x), digits.test_y
        ),
    }


def psnr(estimate: np.ndarray, clean: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB for pixels in [0, 1]: 10 log10(1 / MSE)."""
    mse = float(np.mean((np.asarray(estimate, np.float64) - clean) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def median_3x3(x: np.ndarray) -> np.ndarray:
    """Each digit (a row of 64 pixels, or an 8x8 image) through a 3x3 median filter."""
    images = np.asarray(x).reshape(-1, SIDE, SIDE)
    filtered = median_filter(images, size=(1, MEDIAN_SIZE, MEDIAN_SIZE), mode="nearest")
    return filtered.reshape(np.shape(x))


def noisy(x: np.ndarray, std: float, seed: int = SEED) -> np.ndarray:
    generator = torch.Generator().manual_seed(seed)
    return add_noise(torch.tensor(x), std, generator).numpy()


def denoising(model: AutoencoderUses, digits: Digits) -> list[dict[str, float]]:
    """PSNR of the held-out digits at each noise level: noisy, median-filtered, denoised."""
    rows = []
    for std in NOISE_LEVELS:
        seen = noisy(digits.test_x, std)
        rows.append(
            {
                "noise_std": std,
                "noisy_psnr": psnr(seen, digits.test_x),
                "median_psnr": psnr(median_3x3(seen), digits.test_x),
                "autoencoder_psnr": psnr(reconstruct(model.denoiser, seen), digits.test_x),
            }
        )
    return rows


def compression(model: AutoencoderUses, digits: Digits) -> list[dict[str, float]]:
    """Held-out reconstruction MSE at each code size, autoencoder against PCA's as many PCs."""
    rows = []
    for k in model.config.code_sizes:
        p = pca(digits, k)
        back = p.inverse_transform(p.transform(digits.test_x))
        rows.append(
            {
                "code_size": k,
                "bytes": k * CODE_BYTES,
                "autoencoder_mse": mse(reconstruct(model.compressor(k), digits.test_x), digits),
                "pca_mse": mse(back, digits),
            }
        )
    return rows


def mse(estimate: np.ndarray, digits: Digits) -> float:
    return float(np.mean((np.asarray(estimate, np.float64) - digits.test_x) ** 2))


def few_labels(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `per_class` random training digits of each class."""
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    )


def features(model: AutoencoderUses, digits: Digits) -> list[dict[str, float]]:
    """Held-out accuracy of logistic regression fitted on a few labelled digits per class.

    Three representations of the same digits: the autoencoder's code, as many PCs and the raw
    pixels. The code and the PCs are learnt from every training digit without labels, as an
    autoencoder would be in practice; each representation is standardised on them too.
    """
    k = model.config.feature_code
    net, p = model.compressor(k), pca(digits, k)
    views = {
        "code": (codes(net, digits.train_x), codes(net, digits.test_x)),
        "pca": (p.transform(digits.train_x), p.transform(digits.test_x)),
        "pixel": (digits.train_x, digits.test_x),
    }
    for name, (train, test) in views.items():
        scaler = StandardScaler().fit(train)
        views[name] = (scaler.transform(train), scaler.transform(test))
    rng = np.random.default_rng(SEED)
    rows = []
    for n in LABELS_PER_CLASS:
        draws = [few_labels(digits.train_y, n, rng) for _ in range(LABEL_DRAWS)]
        row: dict[str, float] = {"labels_per_class": n}
        for name, (train, test) in views.items():
            scores = [
                LogisticRegression(max_iter=2000)
                .fit(train[idx], digits.train_y[idx])
                .score(test, digits.test_y)
                for idx in draws
            ]
            row[f"{name}_accuracy"] = float(np.mean(scores))
        rows.append(row)
    return rows


def recogniser(digits: Digits) -> LogisticRegression:
    """A classifier of real digits (training split, raw pixels): the judge of generated ones."""
    return LogisticRegression(max_iter=2000).fit(digits.train_x, digits.train_y)


def recognised(judge: LogisticRegression, images: np.ndarray) -> np.ndarray:
    """Which images the judge reads as one digit with probability >= RECOGNISED_PROB."""
    rows = np.asarray(images).reshape(len(images), -1)
    return judge.predict_proba(rows).max(1) >= RECOGNISED_PROB


@torch.inference_mode()
def prior_samples(model: AutoencoderUses, n: int, seed: int = SEED) -> np.ndarray:
    """`n` new digits: z from the VAE's standard normal prior, decoded to mean images."""
    z = torch.randn(n, model.vae.latent, generator=torch.Generator().manual_seed(seed))
    return model.vae.decode(z).numpy()


@torch.inference_mode()
def elbo(model: AutoencoderUses, x: np.ndarray, seed: int = SEED) -> float:
    """Mean held-out ELBO in nats per digit, over ELBO_SAMPLES draws of z per digit."""
    generator = torch.Generator().manual_seed(seed)
    batch = torch.tensor(x)
    return float(
        torch.stack([model.vae.elbo(batch, generator) for _ in range(ELBO_SAMPLES)]).mean()
    )


def generation(model: AutoencoderUses, digits: Digits) -> dict[str, float]:
    samples = prior_samples(model, PRIOR_SAMPLES)
    return {
        "elbo": elbo(model, digits.test_x),
        "recognised_fraction": float(recognised(recogniser(digits), samples).mean()),
    }


def measure(model: AutoencoderUses, digits: Digits) -> dict:
    """Every number of metrics.json, under the issue's keys."""
    with threads(model.config.threads):
        return {
            "reduction": reduction(model, digits),
            "denoising": denoising(model, digits),
            "compression": compression(model, digits),
            "features": features(model, digits),
            "generation": generation(model, digits),
        }
