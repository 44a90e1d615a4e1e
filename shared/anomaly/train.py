"""Train an autoencoder on an `AnomalyData` task, pick its threshold and evaluate it.

Both the CLI (training/anomaly.py) and the app's Train tab call `train_autoencoder`, so a model
trained in the browser is the same kind of object as one loaded from the Hub.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from shared.anomaly.data import AnomalyData
from shared.anomaly.model import Autoencoder, AutoencoderConfig, reconstruction_errors
from shared.anomaly.scoring import THRESHOLD_RULES, metrics, threshold
from shared.errors import UserInputError
from shared.training import fit, seed_everything


@dataclass
class TrainSettings:
    variant: str = "dense"
    hidden: list[int] = field(default_factory=list)  # [] = the tutorial's widths, scaled
    latent: int = 0  # 0 = the tutorial's 8/140 of the input, scaled
    loss: str = "mae"
    epochs: int = 60
    batch_size: int = 64  # measured on kdd135 (1,073 windows): ROC-AUC 0.94 at 64, 0.73 at 128
    lr: float = 1e-3  # Adam's default, as in the TF tutorial
    val_fraction: float = 0.1  # of the training samples, held out for early stopping
    patience: int = 8  # epochs without a better validation loss before stopping
    threshold_rule: str = "mean_std"
    threshold_param: float | None = None  # None = the rule's default (k = 1, contamination 5%)
    max_seconds: float | None = None  # the app's wall-time cap
    max_rows: int | None = None  # the app's cap on training samples (random subsample)
    # measured on the shared 2-core machine: one Adam step of the ECG model took 155 ms with
    # torch's default 2 threads and 13 ms with 1; a network this small gains nothing from more
    threads: int = 1
    seed: int = 0


@dataclass
class TrainResult:
    model: Autoencoder
    history: list[dict[str, float]]
    stop_reason: str
    metrics: dict  # on the test split; empty when the data has no labels
    train_errors: np.ndarray


def train_autoencoder(
    data: AnomalyData,
    settings: TrainSettings,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Fit the scaler and the autoencoder on `data.train`, then threshold and evaluate."""
    seed_everything(settings.seed)
    rng = np.random.default_rng(settings.seed)
    train = data.train
    if settings.max_rows is not None and len(train) > settings.max_rows:
        train = train[np.sort(rng.choice(len(train), settings.max_rows, replace=False))]
    if len(train) < 10:
        raise UserInputError(f"Only {len(train)} training samples; at least 10 are needed.")
    if settings.variant == "conv" and data.kind != "series":
        raise UserInputError("The Conv1D variant works on series windows; pick 'dense' for tables.")
    # z-score with the training data's statistics: per column for tables, one pair for a series
    axis = None if data.kind == "series" else 0
    mean, std = train.mean(axis=axis), train.std(axis=axis)
    std = np.where(std > 1e-8, std, 1.0)  # constant columns (blank digit pixels) pass unscaled
    if settings.threshold_rule not in THRESHOLD_RULES:
        raise UserInputError(f"Unknown threshold rule {settings.threshold_rule!r}.")
    default = THRESHOLD_RULES[settings.threshold_rule][2]
    param = default if settings.threshold_param is None else float(settings.threshold_param)
    config = AutoencoderConfig(
        n_features=data.n_features,
        variant=settings.variant,
        hidden=list(settings.hidden),
        latent=settings.latent,
        loss=settings.loss,
        kind=data.kind,
        columns=list(data.columns),
        window=data.window,
        stride=data.stride,
        mean=np.atleast_1d(mean).astype(float).tolist(),
        std=np.atleast_1d(std).astype(float).tolist(),
        threshold_rule=settings.threshold_rule,
        threshold_param=param,
        dataset=data.name,
    )
    model = Autoencoder(config)
    x = model.scale(train)
    order = torch.from_numpy(rng.permutation(len(x)))
    n_val = max(1, int(settings.val_fraction * len(x)))
    val_x, fit_x = x[order[:n_val]], x[order[n_val:]]
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        result = fit(
            model,
            torch.optim.Adam(model.parameters(), lr=settings.lr),
            DataLoader(TensorDataset(fit_x), batch_size=settings.batch_size, shuffle=True),
            # call the model itself, not a method: under torchrun it is wrapped in DDP
            lambda m, batch: reconstruction_errors(m(batch[0]), batch[0], settings.loss).mean(),
            epochs=settings.epochs,
            val_loader=DataLoader(TensorDataset(val_x), batch_size=1024),
            patience=settings.patience,
            max_seconds=settings.max_seconds,
            on_epoch=on_epoch,
            desc=f"autoencoder on {data.name}",
        )
    finally:
        torch.set_num_threads(threads)
    model = result.model
    train_errors = model.score(train)
    val_errors = None if data.val is None else model.score(data.val)
    config.threshold = threshold(
        settings.threshold_rule, train_errors, param, val_errors, data.val_labels
    )
    scores = {}
    if data.test_labels is not None:
        scores = metrics(model.score(data.test), data.test_labels, config.threshold)
    return TrainResult(model, result.history, result.stop_reason, scores, train_errors)
