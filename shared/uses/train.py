"""Train every network of an `AutoencoderUses` bundle on the training digits.

Each network sees the same shuffled batches of training digits and differs only in its loss:
- a compressor reconstructs its input (mean squared error);
- the denoiser reconstructs the *clean* digit from a noisy copy;
- the VAE maximises the evidence lower bound.
Nothing here sees a label: every use is learnt from the pixels alone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from threadpoolctl import threadpool_limits

from shared.anomaly.train import Batches
from shared.training import fit, seed_everything
from shared.uses.data import Digits
from shared.uses.models import AutoencoderUses, UsesConfig

ROUNDS = 10  # loss rows per network in the history (fit() reports once a round)


def add_noise(x: torch.Tensor, std: torch.Tensor | float, generator: torch.Generator):
    """Gaussian noise of `std` (per digit or one for all), clipped back into [0, 1] as a
    camera would clip it."""
    return (x + std * torch.randn(x.shape, generator=generator)).clamp(0, 1)


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run torch, BLAS and OpenMP on `n` threads inside the block.

    Measured on the shared 2-core machine at load 12: measuring a bundle took 31 s with the
    libraries' default 2 threads each and 1.4 s with one, as the threads of small matrices
    spin waiting for each other.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


@dataclass
class TrainedUses:
    model: AutoencoderUses
    history: dict[str, list[dict[str, float]]]  # per network, one row per round
    seconds: dict[str, float]  # per network, training wall time


def train_uses(digits: Digits, config: UsesConfig) -> TrainedUses:
    """Fit every network of a fresh bundle on `digits.train_x`."""
    seed_everything(config.seed)
    model = AutoencoderUses(config)
    x = torch.from_numpy(digits.train_x.copy())
    noise = torch.Generator().manual_seed(config.seed)

    def reconstruct(net, batch):
        return torch.nn.functional.mse_loss(net(batch), batch)

    def denoise(net, batch):
        # one noise level per digit, uniform up to max_noise: the model learns every level
        std = config.max_noise * torch.rand(len(batch), 1, generator=noise)
        return torch.nn.functional.mse_loss(net(add_noise(batch, std, noise)), batch)

    def negative_elbo(net, batch):
        return -net.elbo(batch, noise).mean()

    jobs: dict[str, tuple[torch.nn.Module, Callable]] = {
        **{f"autoencoder_{k}": (model.compressor(k), reconstruct) for k in config.code_sizes},
        "denoiser": (model.denoiser, denoise),
        "vae": (model.vae, negative_elbo),
    }
    history, seconds = {}, {}
    with threads(config.threads):
        for i, (name, (net, loss)) in enumerate(jobs.items()):
            start = time.perf_counter()
            batches = Batches(x, config.batch_size, config.steps // ROUNDS, config.seed + i)
            result = fit(
                net,
                torch.optim.Adam(net.parameters(), lr=config.lr),
                batches,
                loss,
                epochs=ROUNDS,
                desc=name,
            )
            history[name] = result.history
            seconds[name] = time.perf_counter() - start
    return TrainedUses(model.eval(), history, seconds)
