"""What the tab draws: maps whose points carry their true labels, a digit through noise and
back, VAE samples and paths, and the served anomaly model's bottleneck."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from shared.anomaly.builtin import load_builtin
from shared.anomaly.data import AnomalyData
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.errors import UserInputError
from shared.uses import explore
from shared.uses.data import ImageError, load_split, to_digit
from shared.uses.measure import psnr
from shared.uses.models import load_uses
from tests.uses.test_train import tiny_folder


@pytest.fixture(scope="module")
def model():
    return load_uses(tiny_folder())


def test_map_points_carry_their_true_labels(model):
    digits = load_split(0)
    ae, pca = explore.code_maps(model, digits)
    metrics = json.loads((tiny_folder() / "metrics.json").read_text())["reduction"]
    assert (ae.method, pca.method) == ("autoencoder", "PCA")
    assert ae.knn_accuracy == metrics["autoencoder_knn"] and pca.knn_accuracy == metrics["pca_knn"]
    for m in (ae, pca):
        assert m.points.shape == (540, 2)
        assert np.array_equal(m.labels, digits.test_y[m.rows])
    with torch.inference_mode():  # each point is its own digit's code, not another's
        codes = model.compressor(2).encode(torch.tensor(digits.test_x[ae.rows])).numpy()
    assert np.array_equal(ae.points, codes)
    # PCA's first axis is the direction of most variance of the digits: centred, wide
    assert abs(pca.points[:, 0].mean()) < 0.1 and pca.points[:, 0].std() > pca.points[:, 1].std()


def test_denoise_a_digit_and_say_the_psnr(model):
    digit = load_split(0).test_x[5].reshape(8, 8)
    out = explore.denoise(model, digit, 0.3, seed=2)
    assert np.array_equal(out.clean, to_digit(digit))
    for image in out[:4]:
        assert image.shape == (8, 8) and image.min() >= 0 and image.max() <= 1
    assert out.noisy_psnr == pytest.approx(psnr(out.noisy, out.clean))
    assert out.median_psnr == pytest.approx(psnr(out.median, out.clean))
    assert out.denoised_psnr == pytest.approx(psnr(out.denoised, out.clean))
    again, other = explore.denoise(model, digit, 0.3, seed=2), explore.denoise(model, digit, 0.3, 3)
    assert np.array_equal(again.noisy, out.noisy) and not np.array_equal(other.noisy, out.noisy)
    silent = explore.denoise(model, digit, 0, seed=2)
    assert np.array_equal(silent.noisy, silent.clean) and silent.noisy_psnr == float("inf")


@pytest.mark.parametrize("image", [None, np.zeros((8, 8)), np.ones((3, 3)), "a digit"])
def test_a_bad_image_gets_a_named_error(model, image):
    with pytest.raises(ImageError):
        explore.denoise(model, image, 0.3)


@pytest.mark.parametrize("noise", [-0.1, 1.5, float("nan"), "loud", None])
def test_a_bad_noise_level_is_refused(model, noise):
    with pytest.raises(UserInputError, match="noise std must be a number from 0 to 1"):
        explore.denoise(model, load_split(0).test_x[0].reshape(8, 8), noise)


def test_vae_samples_and_the_path_between_two_digits(model):
    samples = explore.vae_samples(model, 6, seed=4)
    assert samples.shape == (6, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    assert np.array_equal(samples, explore.vae_samples(model, 6, seed=4))
    assert not np.array_equal(samples, explore.vae_samples(model, 6, seed=5))
    digits = load_split(0).test_x
    a, b = digits[0].reshape(8, 8), digits[1].reshape(8, 8)
    path = explore.interpolate(model, a, b, 5)
    with torch.inference_mode():
        mean, _ = model.vae.posterior(
            torch.tensor(np.stack([to_digit(a), to_digit(b)]).reshape(2, 64))
        )
        ends = model.vae.decode(mean).numpy().reshape(2, 8, 8)
    assert path.shape == (5, 8, 8)
    assert np.allclose(path[0], ends[0], atol=1e-6) and np.allclose(path[-1], ends[1], atol=1e-6)
    for bad in (0, 65, 2.5, "many"):
        with pytest.raises(UserInputError, match="whole number from 1 to 64"):
            explore.vae_samples(model, bad)
    with pytest.raises(ImageError):
        explore.interpolate(model, a, None)


def test_grid_lays_digits_in_rows():
    images = np.arange(3 * 64, dtype=np.float32).reshape(3, 8, 8)
    picture = explore.grid(images, columns=2)
    assert picture.shape == (17, 17)
    assert np.array_equal(picture[9:17, 0:8], images[2]) and not picture[8].any()


def planted_task(n_features: int = 12) -> AnomalyData:
    """Rows on a 3-D plane, anomalies far off it."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, n_features))
    normal = rng.normal(size=(300, 3)) @ basis
    test = np.r_[rng.normal(size=(60, 3)) @ basis, rng.normal(scale=4, size=(20, n_features))]
    labels = np.r_[np.zeros(60), np.ones(20)].astype(np.int64)
    return AnomalyData("plane", "table", normal.astype(np.float32), test.astype(np.float32), labels)


@pytest.mark.parametrize("latent", [2, 5])
def test_the_bottleneck_of_an_anomaly_model(latent):
    data = planted_task()
    model = train_autoencoder(
        data, TrainSettings(latent=latent, min_steps=50), evaluate=False
    ).model
    b = explore.bottleneck_map(model, data, max_points=50, seed=0)
    assert b.points.shape == (50, 2) and b.shown == 50 and b.total == 80
    keep = np.sort(np.random.default_rng(0).choice(80, 50, replace=False))
    assert np.array_equal(b.anomalous, data.test_labels[keep] == 1)
    codes = model.encode(data.test[keep])
    assert codes.shape == (50, latent)
    if latent == 2:
        assert np.array_equal(b.points, codes) and b.axes == ("latent 1", "latent 2")
    else:
        assert b.axes[0] == "PC 1 of the codes" and "PCA of the 5-D codes" in b.title
        # a PCA keeps distances within the plane it spans: the spread is the codes' own
        assert b.points.var(axis=0).sum() <= codes.var(axis=0).sum() + 1e-5
        assert b.points[:, 0].var() >= b.points[:, 1].var()
    with pytest.raises(UserInputError, match="no test labels"):
        explore.bottleneck_map(model, dataclasses.replace(data, test_labels=None))


def test_the_served_model_finds_the_builtin_it_was_trained_on():
    digits = load_builtin("digits", normal_digit=3)
    model = train_autoencoder(
        digits, TrainSettings(min_steps=10, max_steps=10), evaluate=False
    ).model
    task = explore.served_task(model)
    assert task.name == digits.name and np.array_equal(task.test, digits.test)
    assert np.array_equal(task.test_labels, digits.test_labels)
    ecg = train_autoencoder(
        load_builtin("ecg", stride=50), TrainSettings(min_steps=10, max_steps=10), evaluate=False
    ).model
    assert explore.served_task(ecg).stride == 50 and explore.served_task(ecg).window == 200
    model.config.dataset = "my upload.csv"
    assert explore.served_task(model) is None


def compression_rows(pairs):
    return [
        {"code_size": k, "bytes": 4 * k, "autoencoder_mse": ae, "pca_mse": pca}
        for k, (ae, pca) in zip((2, 4, 8, 16), pairs, strict=True)
    ]


def test_the_compression_sentence_follows_the_numbers():
    text = explore.compression_summary(
        compression_rows([(0.03, 0.05), (0.02, 0.04), (0.01, 0.03), (0.012, 0.01)])
    )
    assert (
        "beats PCA at code sizes 2, 4 and 8 (" in text and "1.7x at 2, 2.0x at 4, 3.0x at 8" in text
    )
    assert "From 16 numbers (64 bytes) on it stops mattering" in text
    assert "as big as the raw digit" in text  # 16 float32 numbers are 64 bytes
    early = explore.compression_summary(
        compression_rows([(0.03, 0.05), (0.02, 0.022), (0.01, 0.03), (0.009, 0.01)])
    )
    assert "From 4 numbers (16 bytes) on it stops mattering" in early and "raw digit" not in early
    lost = explore.compression_summary(compression_rows([(0.06, 0.05)] * 4))
    assert lost.startswith("PCA reconstructs the digits as well as the autoencoder")


def feature_rows(*accuracies):
    return [
        {"labels_per_class": n, "code_accuracy": c, "pca_accuracy": p, "pixel_accuracy": x}
        for n, (c, p, x) in zip((5, 10, 50), accuracies, strict=True)
    ]


def test_the_features_sentence_says_whichever_way_it_came_out():
    pixels = explore.features_summary(
        feature_rows((0.8, 0.7, 0.84), (0.85, 0.8, 0.9), (0.88, 0.9, 0.96)), 8
    )
    assert "raw pixels at 5, 10 and 50 labels per class (0.84, 0.90, 0.96)" in pixels
    assert "not automatically the better feature" in pixels
    code = explore.features_summary(
        feature_rows((0.9, 0.7, 0.8), (0.92, 0.8, 0.9), (0.97, 0.9, 0.96)), 8
    )
    assert (
        "the autoencoder's code at 5, 10 and 50" in code and "better feature at every count" in code
    )
    mixed = explore.features_summary(
        feature_rows((0.9, 0.7, 0.8), (0.85, 0.8, 0.9), (0.88, 0.97, 0.96)), 8
    )
    assert "the autoencoder's code at 5 labels" in mixed and "PCA at 50" in mixed
    assert "depends on how many labels" in mixed
