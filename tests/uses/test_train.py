"""Training the bundle: every network learns, in place, the same way twice; a denoiser denoises.

`tiny_folder()` is the tiny run the other tests of shared/uses read: the CLI once per session.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from shared.uses.data import Digits, load_split
from shared.uses.measure import psnr
from shared.uses.models import AutoencoderUses, UsesConfig
from shared.uses.train import add_noise, threads, train_uses
from training import anomaly_uses as cli

# small networks, few steps: every path runs in about a second of training
TINY = dict(code_sizes=[2, 4], feature_code=4, hidden=[32], denoise_code=8, vae_hidden=[32])
TINY_FLAGS = ["--quick", "--steps", "60", "--code-sizes", "2", "4", "--feature-code", "4"]
TINY_FLAGS += ["--hidden", "32", "--denoise-code", "8", "--vae-hidden", "32"]
_TINY: dict[str, Path] = {}


def tiny_folder() -> Path:
    """`python -m training.anomaly_uses` on TINY_FLAGS, once per test session."""
    if "folder" not in _TINY:
        out = Path(tempfile.mkdtemp(prefix="dl-labs-uses-")) / "model"
        _TINY["folder"] = cli.main([*TINY_FLAGS, "--out", str(out)])
    return _TINY["folder"]


def tiny_config(**changes) -> UsesConfig:
    return UsesConfig(**{**TINY, "steps": 60, **changes})


def outputs(model: AutoencoderUses, x: torch.Tensor) -> list[torch.Tensor]:
    with torch.inference_mode():
        return [
            model.compressor(2)(x),
            model.denoiser(x),
            model.vae.decode(model.vae.posterior(x)[0]),
        ]


def test_every_network_learns_in_place_and_the_run_repeats_bit_for_bit():
    digits = load_split(0)
    x = torch.tensor(digits.test_x)
    untrained = AutoencoderUses(tiny_config())
    first, again = train_uses(digits, tiny_config()), train_uses(digits, tiny_config())
    assert set(first.seconds) == {"autoencoder_2", "autoencoder_4", "denoiser", "vae"}
    assert all(len(rows) == 10 for rows in first.history.values())
    before = torch.nn.functional.mse_loss(untrained.compressor(4)(x), x).item()
    after = torch.nn.functional.mse_loss(first.model.compressor(4)(x), x).item()
    assert after < 0.8 * before  # the bundle's own network was trained, not a copy
    for name, history in first.history.items():
        assert history[-1]["train_loss"] < history[0]["train_loss"], name
    state, repeat = first.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(state[k], repeat[k]) for k in state)
    other = train_uses(digits, tiny_config(seed=1)).model.state_dict()
    assert not torch.equal(state["vae.decoder.0.weight"], other["vae.decoder.0.weight"])


def test_a_denoising_autoencoder_beats_the_noisy_input_on_a_planted_case():
    """Four planted strokes, seen again and again: the denoiser learns them, not the noise."""
    strokes = np.zeros((4, 8, 8), dtype=np.float32)
    strokes[0, :, 3], strokes[1, 4, :], strokes[2].flat[::9], strokes[3, 1:7, 1:7] = 1, 1, 1, 0.5
    x = np.repeat(strokes.reshape(4, 64), 50, axis=0)
    y = np.repeat(np.arange(4), 50)
    planted = Digits(x, y, x[::50], y[::50])
    model = train_uses(planted, tiny_config(steps=300, hidden=[64])).model
    clean = torch.tensor(planted.test_x)
    seen = add_noise(clean, 0.4, torch.Generator().manual_seed(1))
    with torch.inference_mode():
        out = model.denoiser(seen).numpy()
    assert psnr(out, planted.test_x) > psnr(seen.numpy(), planted.test_x) + 6


def test_noise_is_clipped_to_pixels_and_threads_are_given_back():
    x = torch.full((3, 64), 0.5)
    noisy = add_noise(x, torch.tensor([[0.0], [1.0], [3.0]]), torch.Generator().manual_seed(0))
    assert torch.equal(noisy[0], x[0]) and noisy.min() >= 0 and noisy.max() <= 1
    assert (noisy[2] == 0).any() and (noisy[2] == 1).any()  # a big std hits both ends
    before = torch.get_num_threads()
    with threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
