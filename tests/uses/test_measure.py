"""Every number of metrics.json, recomputed from the saved folder by a second way, matches.

The second way shares no code with shared/uses/measure.py where it can: numpy's SVD for PCA
(its signs may differ, distances and reconstructions do not), a median filter written out,
PSNR and the ELBO from their formulas.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from shared.uses import measure
from shared.uses.data import load_split
from shared.uses.models import load_uses
from tests.uses.test_train import tiny_folder


@pytest.fixture(scope="module")
def saved():
    folder = tiny_folder()
    return load_uses(folder), json.loads((folder / "metrics.json").read_text()), load_split(0)


def svd_pca(train: np.ndarray, k: int):
    mean = train.mean(axis=0)
    components = np.linalg.svd(train - mean, full_matrices=False)[2][:k]
    return lambda x: (x - mean) @ components.T, lambda z: z @ components + mean


def test_the_same_folder_gives_the_same_metrics_exactly(saved):
    model, metrics, digits = saved
    assert measure.measure(model, digits) == metrics


def test_reduction(saved):
    model, metrics, d = saved
    with torch.inference_mode():
        train, test = (
            model.compressor(2).encoder(torch.tensor(x)).numpy() for x in (d.train_x, d.test_x)
        )
    knn = KNeighborsClassifier(5).fit(train, d.train_y)
    assert metrics["reduction"]["autoencoder_knn"] == pytest.approx(knn.score(test, d.test_y))
    project, _ = svd_pca(d.train_x, 2)
    pca_knn = KNeighborsClassifier(5).fit(project(d.train_x), d.train_y)
    assert metrics["reduction"]["pca_knn"] == pytest.approx(
        pca_knn.score(project(d.test_x), d.test_y)
    )
    assert metrics["reduction"]["pca_knn"] == pytest.approx(0.606, abs=0.01)  # the probe


def median_written_out(images: np.ndarray) -> np.ndarray:
    padded = np.pad(images.reshape(-1, 8, 8), ((0, 0), (1, 1), (1, 1)), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    return np.median(windows, axis=(3, 4)).reshape(images.shape)


def test_denoising(saved):
    model, metrics, d = saved
    assert [r["noise_std"] for r in metrics["denoising"]] == [0.1, 0.2, 0.3, 0.5]
    for row in metrics["denoising"]:
        generator = torch.Generator().manual_seed(0)
        noisy = (
            torch.tensor(d.test_x)
            + row["noise_std"] * torch.randn(d.test_x.shape, generator=generator)
        ).clamp(0, 1)
        with torch.inference_mode():
            denoised = model.denoiser(noisy).numpy()
        noisy = noisy.numpy()
        for key, estimate in (
            ("noisy_psnr", noisy),
            ("median_psnr", median_written_out(noisy)),
            ("autoencoder_psnr", denoised),
        ):
            mse = np.mean((estimate.astype(np.float64) - d.test_x) ** 2)
            assert row[key] == pytest.approx(-10 * np.log10(mse)), key
    # model-free baselines, so a tiny run pins them: the 12.9 and 12.0 dB at std 0.3
    at_3 = metrics["denoising"][2]
    assert at_3["noisy_psnr"] == pytest.approx(12.9, abs=0.1)
    assert at_3["median_psnr"] == pytest.approx(12.0, abs=0.1)


def test_compression(saved):
    model, metrics, d = saved
    assert [r["code_size"] for r in metrics["compression"]] == model.config.code_sizes
    for row in metrics["compression"]:
        k = row["code_size"]
        assert row["bytes"] == 4 * k
        with torch.inference_mode():
            back = model.compressor(k)(torch.tensor(d.test_x)).numpy()
        assert row["autoencoder_mse"] == pytest.approx(np.mean((back - d.test_x) ** 2), rel=1e-5)
        project, restore = svd_pca(d.train_x.astype(np.float64), k)
        pca_back = restore(project(d.test_x))
        assert row["pca_mse"] == pytest.approx(np.mean((pca_back - d.test_x) ** 2), rel=1e-5)


def test_features(saved):
    _, metrics, d = saved
    rows = metrics["features"]
    assert [r["labels_per_class"] for r in rows] == [5, 10, 50]
    for row in rows:
        assert set(row) == {"labels_per_class", "code_accuracy", "pca_accuracy", "pixel_accuracy"}
        assert all(0.1 < row[k] <= 1 for k in row if k.endswith("accuracy"))
    # pixels need no model: more labels must help, and 50 per class reads most digits
    pixels = [r["pixel_accuracy"] for r in rows]
    assert pixels == sorted(pixels) and pixels[-1] > 0.9


def test_generation(saved):
    model, metrics, d = saved
    generator = torch.Generator().manual_seed(0)
    x = torch.tensor(d.test_x)
    bounds = []
    with torch.inference_mode():
        for _ in range(10):
            mean, log_var = model.vae.encoder(x).chunk(2, dim=1)
            z = mean + torch.randn(mean.shape, generator=generator) * torch.exp(0.5 * log_var)
            p = torch.sigmoid(model.vae.decoder(z)).clamp(1e-7, 1 - 1e-7)
            log_likelihood = (x * p.log() + (1 - x) * (1 - p).log()).sum(1)
            kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
            bounds.append(log_likelihood - kl)
        z = torch.randn(500, model.vae.latent, generator=torch.Generator().manual_seed(0))
        samples = torch.sigmoid(model.vae.decoder(z)).numpy()
    assert metrics["generation"]["elbo"] == pytest.approx(
        torch.stack(bounds).mean().item(), rel=1e-4
    )
    judge = LogisticRegression(max_iter=2000).fit(d.train_x, d.train_y)
    share = np.mean(judge.predict_proba(samples).max(1) >= 0.8)
    assert metrics["generation"]["recognised_fraction"] == pytest.approx(share)


def test_psnr_and_the_median_filter_on_planted_cases():
    clean = np.zeros((2, 64))
    assert measure.psnr(clean + 0.1, clean) == pytest.approx(20.0)
    assert measure.psnr(clean, clean) == float("inf")
    speck = np.zeros((1, 64))
    speck[0, 27] = 1  # one hot pixel: a median of its 3x3 neighbourhood removes it
    assert not measure.median_3x3(speck).any()
    bar = np.zeros((8, 8))
    bar[:, 2:5] = 1  # a bar 3 wide survives it
    assert np.array_equal(measure.median_3x3(bar), bar)
