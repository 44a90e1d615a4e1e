"""The autoencoder, its config, and the one way to save and load it.

Two variants share one config. `dense` is the TensorFlow "Intro to Autoencoders" network
(140 -> 32 -> 16 -> 8 and back on ECG5000) with its widths scaled to the input. `conv` is the
Keras time-series example's Conv1D network, with a dense bottleneck so the latent size means the
same thing in both. The config also holds everything that turns *raw* input into a score and a
decision (scaler statistics, window settings, loss, threshold rule and value), so a folder loaded
from disk or the Hub scores raw rows exactly like the model that was trained.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from huggingface_hub import PyTorchModelHubMixin
from safetensors import SafetensorError
from torch import nn

from shared.anomaly.scoring import RULES
from shared.errors import UserInputError
from shared.hub import ModelSourceError, load_json, resolve_source

WEIGHTS = "model.safetensors"  # PyTorchModelHubMixin's file name; never a pickle
VARIANTS = ("dense", "conv")
SCORE_CELLS = 2**21  # numbers in one layer's activations for a scoring batch (8 MB of float32)
# What a model trained in the app may be. Weights: 20 MB is a dense autoencoder of ~3,100 inputs
# (the ECG model is 0.08 MB); training it holds ~5x that (gradients, Adam's two moments, the best
# weights so far). The latent width also sizes every scoring batch's activations: a latent of
# 20,000 on ECG weighed 3.7 MB but took +1 GB while training, so it has a cap of its own.
MAX_MODEL_MB, MAX_LATENT = 20, 1024
LOSSES = ("mae", "mse")
CONV_CHANNELS = (
    16,
    32,
)  # the Keras example's 32 -> 16 filters, widening instead into the bottleneck
CONV_KERNEL = 7  # the Keras example's kernel size


def tutorial_widths(n_features: int) -> tuple[list[int], int]:
    """The tutorial's 140 -> 32 -> 16 -> 8 shape scaled to `n_features` (at least 4 wide)."""
    hidden = [max(8, round(n_features * 32 / 140)), max(4, round(n_features * 16 / 140))]
    return hidden, max(2, round(n_features * 8 / 140))


@dataclass
class AutoencoderConfig:
    n_features: int  # columns of a table, or the window length of a series
    variant: str = "dense"  # "dense" (tutorial) or "conv" (Keras Conv1D, series windows)
    hidden: list[int] = field(default_factory=list)  # encoder widths; [] = tutorial_widths()
    latent: int = 0  # bottleneck size; 0 = tutorial_widths()
    loss: str = "mae"  # the TF tutorial trains and scores with mean absolute error
    # how raw input becomes model input
    kind: str = "table"  # "table" or "series"
    columns: list[str] = field(default_factory=list)
    window: int = 0  # series: window length and stride in points
    stride: int = 1
    mean: list[float] = field(default_factory=list)  # z-score statistics of the training data:
    std: list[float] = field(default_factory=list)  # one per column, or one for a whole series
    # how a score becomes a decision
    threshold_rule: str = "mean_std"
    threshold_param: float = 1.0
    threshold: float = 0.0  # set after training from the rule above
    # share of the samples the rule was set on (validation for best-F1, else training) that lie
    # above the threshold: how many flags to expect on data like them
    expected_flag_rate: float = 0.0
    rule_thresholds: dict[str, float] = field(default_factory=dict)  # every rule's threshold
    dataset: str = ""

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        unknown = {self.threshold_rule, *self.rule_thresholds} - set(RULES)
        if unknown:
            raise ValueError(f"threshold rules must be among {list(RULES)}, got {sorted(unknown)}")
        default_hidden, default_latent = tutorial_widths(self.n_features)
        self.hidden = list(self.hidden) or default_hidden
        self.latent = self.latent or default_latent


class Autoencoder(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="pytorch",
    tags=["anomaly-detection", "autoencoder"],
    repo_url="https://github.com/dl-labs-demo/dl-labs",
):
    """Reconstructs its input through a narrow latent layer; bad reconstructions are anomalies."""

    def __init__(self, config: AutoencoderConfig):
        super().__init__()
        self.config = config
        if config.variant == "dense":
            self.encoder, self.decoder = _dense(config.n_features, config.hidden, config.latent)
        else:
            self.encoder, self.decoder = _conv(config.n_features, config.latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.variant == "conv":
            out = self.decoder(self.encoder(x.unsqueeze(1))).squeeze(1)
            return out[:, : x.shape[1]]  # transposed convolutions may overshoot by a point or two
        return self.decoder(self.encoder(x))

    def errors(self, x: torch.Tensor) -> torch.Tensor:
        """Per-sample reconstruction error of already-scaled input, in the training loss."""
        return reconstruction_errors(self(x), x, self.config.loss)

    def scale(self, raw: np.ndarray) -> torch.Tensor:
        raw = np.asarray(raw, dtype=np.float32)
        if raw.ndim != 2 or raw.shape[1] != self.config.n_features:
            raise ModelShapeError(self.config, raw.shape)
        mean = np.asarray(self.config.mean, dtype=np.float32)
        std = np.asarray(self.config.std, dtype=np.float32)
        return torch.from_numpy((raw - mean) / std)

    @torch.inference_mode()
    def score(self, raw: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Reconstruction errors of raw (unscaled) samples, shape (n,), scaled a batch at a time.

        Wide models score fewer rows at a time, so that no layer's activations for one batch
        pass SCORE_CELLS numbers: at 3,165 inputs, 8,192-row batches peaked at +450 MB.
        """
        self.eval()
        batch_size = max(1, min(batch_size, SCORE_CELLS // self.widest()))
        starts = range(0, max(len(raw), 1), batch_size)  # once even if empty: checks the shape
        return torch.cat([self.errors(self.scale(raw[i : i + batch_size])) for i in starts]).numpy()

    def widest(self) -> int:
        """The most numbers one sample's activations take in any layer."""
        c = self.config
        if c.variant == "conv":
            return max(c.latent, CONV_CHANNELS[0] * math.ceil(c.n_features / 2))
        return max(c.n_features, *c.hidden, c.latent)

    @torch.inference_mode()
    def reconstruct(self, raw: np.ndarray) -> np.ndarray:
        """Raw samples back through the autoencoder, in raw units."""
        self.eval()
        out = self(self.scale(raw)).numpy()
        return out * np.asarray(self.config.std) + np.asarray(self.config.mean)

    def save(self, folder: Path) -> None:
        self.save_pretrained(folder, config=asdict(self.config))

    def describe(self) -> str:
        c = self.config
        source = (
            f"windows of {c.window} points" if c.kind == "series" else f"{c.n_features} columns"
        )
        return (
            f"{c.variant} autoencoder on {c.dataset or 'data'} ({source}), latent size {c.latent}"
        )


def largest_window(max_mb: float = MAX_MODEL_MB, variant: str = "dense") -> int:
    """The most inputs (a series window, a table's columns) whose model weighs <= max_mb."""
    lo, hi = 2, 100_000
    while lo < hi:
        mid = (lo + hi + 1) // 2
        fits = weight_bytes(AutoencoderConfig(mid, variant=variant)) <= max_mb * 2**20
        lo, hi = (mid, hi) if fits else (lo, mid - 1)
    return lo


def weight_bytes(config: AutoencoderConfig) -> int:
    """What an autoencoder of `config`'s shape weighs in float32, found without allocating it."""
    with torch.device("meta"):  # shapes only: a 1 GB model costs nothing to measure
        model = Autoencoder(config)
    return sum(p.numel() for p in model.parameters()) * 4


def check_size(n_features: int, variant: str, latent: int, max_mb: float = MAX_MODEL_MB) -> None:
    """Refuse, before training, a model heavier than `max_mb` (what the app lets a visitor make)."""
    size = weight_bytes(AutoencoderConfig(n_features, variant=variant, latent=latent)) / 2**20
    if size > max_mb:
        raise UserInputError(
            f"A {variant} autoencoder of {n_features:,} inputs would weigh {size:,.1f} MB; a "
            f"model trained here may weigh {max_mb} MB. Use a shorter window, fewer "
            "columns or a smaller latent size (or train it with `python -m training.anomaly`)."
        )


def reconstruction_errors(out: torch.Tensor, x: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean absolute (MAE) or squared (MSE) error per sample: the loss and the anomaly score."""
    diff = out - x
    return (diff.abs() if loss == "mae" else diff.square()).mean(dim=1)


class ModelShapeError(UserInputError):
    """Data whose shape does not fit the model, said in the data's own terms."""

    def __init__(self, config: AutoencoderConfig, shape: tuple[int, ...]):
        got = shape[1] if len(shape) == 2 else shape
        what = f"windows of {config.window} points" if config.kind == "series" else "columns"
        super().__init__(
            f"The model expects {config.n_features} {what} "
            f"(trained on {config.dataset or 'other data'}); "
            f"this data has {got}. Train a model on it in the Train tab."
        )


def _dense(n: int, hidden: list[int], latent: int) -> tuple[nn.Module, nn.Module]:
    widths = [n, *hidden, latent]
    encoder, decoder = [], []
    for a, b in zip(widths, widths[1:], strict=False):
        encoder += [nn.Linear(a, b), nn.ReLU()]
    for a, b in zip(widths[::-1], widths[::-1][1:], strict=False):
        decoder += [nn.Linear(a, b), nn.ReLU()]
    # the bottleneck stays linear in the encoder's output; the decoder's last layer is linear
    # because z-scored inputs are unbounded (the tutorial min-max scales and uses a sigmoid)
    return nn.Sequential(*encoder[:-1]), nn.Sequential(*decoder[:-1])


def _conv(window: int, latent: int) -> tuple[nn.Module, nn.Module]:
    c1, c2 = CONV_CHANNELS
    pad = CONV_KERNEL // 2
    length = math.ceil(math.ceil(window / 2) / 2)  # two stride-2 convolutions
    encoder = nn.Sequential(
        nn.Conv1d(1, c1, CONV_KERNEL, stride=2, padding=pad),
        nn.ReLU(),
        nn.Conv1d(c1, c2, CONV_KERNEL, stride=2, padding=pad),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(c2 * length, latent),
    )
    decoder = nn.Sequential(
        nn.Linear(latent, c2 * length),
        nn.ReLU(),
        nn.Unflatten(1, (c2, length)),
        nn.ConvTranspose1d(c2, c1, CONV_KERNEL, stride=2, padding=pad, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose1d(c1, 1, CONV_KERNEL, stride=2, padding=pad, output_padding=1),
    )
    return encoder, decoder


def load_autoencoder(source: str | Path) -> Autoencoder:
    """Load a folder or Hub repo id strictly: every weight must be present and match."""
    folder = resolve_source(source, required=("config.json", WEIGHTS))
    try:
        config = AutoencoderConfig(**load_json(folder / "config.json"))
    except (TypeError, ValueError) as err:
        raise ModelSourceError(
            f"{folder / 'config.json'} is not an autoencoder config: {err}"
        ) from None
    try:
        return Autoencoder.from_pretrained(folder, config=config, strict=True)
    except SafetensorError as err:
        raise ModelSourceError(
            f"{folder / WEIGHTS} is not a valid safetensors file ({err})."
        ) from None
    except RuntimeError as err:  # missing, unexpected or misshapen weights
        first = str(err).splitlines()[0]
        raise ModelSourceError(
            f"The weights in {folder} do not fit its config.json: {first}"
        ) from None
