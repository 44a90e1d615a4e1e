"""The networks of the six uses, their config, and the one way to save and load them.

One `AutoencoderUses` bundle holds them all, so one folder (one `model.safetensors`, one
`config.json`) serves the whole tab:
- a dense autoencoder per code size (`compressors`): the 2-unit one draws the map, the
  `feature_code` one feeds the few-label classifier, all of them make the compression curve;
- a denoising autoencoder, trained to map noisy digits back to clean ones;
- a small variational autoencoder (Kingma and Welling, 2014, "Auto-Encoding Variational Bayes"),
  whose decoder turns samples of its prior into new digits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from shared.hub import WEIGHTS, load_mixin
from shared.uses.data import PIXELS

REQUIRED = ("config.json", WEIGHTS)


@dataclass
class UsesConfig:
    """The networks and how they are trained. Measured on the 70/30 digits split, 2 cores."""

    # the curve; 2 draws the map. Held-out MSE of the default run: 0.034, 0.021,
    # 0.012, 0.010 against PCA's 0.053, 0.038, 0.024, 0.0115
    code_sizes: list[int] = field(default_factory=lambda: [2, 4, 8, 16])
    feature_code: int = 8  # the code the few-label classifier reads, as in the probe
    hidden: list[int] = field(default_factory=lambda: [128, 64])  # encoder widths, mirrored
    denoise_code: int = 16  # wide enough to keep a digit's strokes, too narrow for its noise
    # the denoiser trains on noise of a random std in [0, max_noise] per digit, so one model
    # serves the whole slider; at 0.5 it gave 17.0 dB at std 0.3 (noisy 12.9, median 12.0)
    max_noise: float = 0.5
    # VAE: 4 latents and two hidden layers. Share of 500 prior samples read as a digit with
    # p >= 0.8 (2,000 steps of 128): 0.57, against 0.45 with one hidden layer of 128 and 0.39
    # with 8 latents; real held-out digits: 0.83
    vae_latent: int = 4
    vae_hidden: list[int] = field(default_factory=lambda: [256, 128])
    # training, the same for every network. 1,000 steps of 256 (200 passes over the digits)
    # matched 2,000 of 128 (5-NN 0.826 vs 0.793, PSNR at std 0.3 17.0 vs 17.1 dB, recognised
    # 0.63 vs 0.60) in 73 s instead of 123 s at the same machine load
    steps: int = 1000
    batch_size: int = 256  # digits per step, a fresh shuffle of the 1,257 each pass
    lr: float = 5e-3  # 5x Adam's default: the budget is small
    # one Adam step of the dense autoencoder costs ~2 ms on one thread; two threads on a shared
    # 2-core machine only add contention for matrices this small (see train.threads)
    threads: int = 1
    seed: int = 0  # the split, the initial weights, the batches and the noise

    def __post_init__(self) -> None:
        self.code_sizes, self.hidden = list(self.code_sizes), list(self.hidden)
        self.vae_hidden = list(self.vae_hidden)
        if 2 not in self.code_sizes:
            raise ValueError(f"code_sizes must include 2 (the map), got {self.code_sizes}")
        if self.feature_code not in self.code_sizes:
            raise ValueError(f"feature_code {self.feature_code} is not in {self.code_sizes}")
        if not 0 < self.max_noise <= 1:
            raise ValueError(f"max_noise must be in (0, 1], got {self.max_noise}")


def dense(widths: list[int]) -> nn.Sequential:
    """Linear layers through `widths` with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for a, b in zip(widths, widths[1:], strict=False):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class DenseAutoencoder(nn.Module):
    """64 pixels -> hidden -> code -> hidden -> 64 pixels; a sigmoid keeps them in [0, 1]."""

    def __init__(self, code: int, hidden: list[int]):
        super().__init__()
        self.encoder = dense([PIXELS, *hidden, code])  # the code stays linear
        self.decoder = dense([code, *hidden[::-1], PIXELS])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(code))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module):
    """A Gaussian encoder q(z|x) and a Bernoulli decoder p(x|z) under a standard normal prior."""

    def __init__(self, latent: int, hidden: list[int]):
        super().__init__()
        self.latent = latent
        self.encoder = dense([PIXELS, *hidden, 2 * latent])  # mean and log-variance
        self.decoder = dense([latent, *hidden[::-1], PIXELS])  # pixel logits

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        return mean, log_var

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Each pixel's probability of ink: the mean image of p(x|z)."""
        return torch.sigmoid(self.decoder(z))

    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Per-digit evidence lower bound in nats, from one sample of z (the paper's eq. 10).

        Bernoulli log-likelihood of the pixels (grey levels as probabilities, as PyTorch's VAE
        example does) minus the KL divergence of q(z|x) from the prior, in closed form.
        """
        mean, log_var = self.posterior(x)
        noise = torch.randn(mean.shape, generator=generator)
        z = mean + noise * torch.exp(0.5 * log_var)  # the reparameterisation trick
        logits = self.decoder(z)
        log_likelihood = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum(1)
        return log_likelihood - kl


class AutoencoderUses(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="pytorch",
    tags=["autoencoder", "variational-autoencoder", "denoising", "digits"],
    repo_url="https://github.com/dl-labs-demo/dl-labs",
):
    """Every network of the six uses, saved and loaded as one."""

    def __init__(self, config: UsesConfig):
        super().__init__()
        self.config = config
        self.compressors = nn.ModuleDict(
            {str(k): DenseAutoencoder(k, config.hidden) for k in config.code_sizes}
        )
        self.denoiser = DenseAutoencoder(config.denoise_code, config.hidden)
        self.vae = VAE(config.vae_latent, config.vae_hidden)

    def compressor(self, code: int) -> DenseAutoencoder:
        return self.compressors[str(code)]

    def save(self, folder: Path) -> None:
        self.save_pretrained(folder, config=asdict(self.config))

    def nbytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.parameters())

    def describe(self) -> str:
        c = self.config
        return (
            f"dense autoencoders with codes of {', '.join(map(str, c.code_sizes))}, a denoising "
            f"autoencoder (code {c.denoise_code}) and a VAE ({c.vae_latent} latents), "
            f"{math.ceil(self.nbytes() / 1024)} KB of weights"
        )


def load_uses(source: str | Path) -> AutoencoderUses:
    """Load a folder or Hub repo id strictly: every weight must be present and match."""
    return load_mixin(AutoencoderUses, UsesConfig, source, "an autoencoder-uses").eval()
