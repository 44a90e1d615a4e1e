"""Train an autoencoder on an `AnomalyData` task, pick its threshold and evaluate it.

Both the CLI (training/anomaly.py) and the app's Train tab call `train_autoencoder`, so a model
trained in the browser is the same kind of object as one loaded from the Hub.

The training budget follows the data: `plan_budget` picks the batch size and the number of
optimizer steps from the number of training samples, so a table of 30 rows and a series of
10,000 windows both get enough steps to learn without wasting any.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from accelerate import PartialState

from shared.anomaly.data import AnomalyData
from shared.anomaly.model import Autoencoder, AutoencoderConfig, reconstruction_errors
from shared.anomaly.scoring import RULES, metrics, rule_named, threshold
from shared.errors import UserInputError
from shared.training import fit, seed_everything


@dataclass
class TrainSettings:
    """How to train. The budget follows the data; benchmarks/anomaly.py checks the defaults."""

    variant: str = "dense"  # "dense" (TF tutorial) or "conv" (Keras Conv1D, series only)
    hidden: list[int] = field(default_factory=list)  # [] = the tutorial's widths, scaled
    latent: int = 0  # 0 = the tutorial's 8/140 of the input, scaled
    # Budget and optimizer measured on 16 one-class tasks (wine, iris, GunPoint, ArrowHead,
    # ItalyPowerDemand, breast cancer, digits, KDD-135; 25 to 1,000 training rows) and ECG
    # (8,800 windows), against PyOD's AutoEncoder in the same runs (2 cores, /tmp sweeps):
    loss: str = "mse"  # kdd135 0.962 vs 0.722 with MAE (lr 1e-2); ECG 0.993 vs 0.936 (lr 3e-3)
    lr: float = 1e-2  # 10x Adam's default, for small budgets: kdd135 0.962 vs 0.838 at 3e-3
    # --- the budget: 0 = chosen from the number of training samples by plan_budget() ---
    batch_size: int = 0  # 0 = n/32 as a power of two, from 32 to 256 (ECG: 256)
    epochs: int = 0  # passes over the data; 0 = the step budget below
    # small data: full-batch steps, at least this many, and the early stopping below ends them
    # once the training loss stops improving. Measured on the 14 small tasks of
    # benchmarks/anomaly.py (10 to 500 training rows, ECG and KDD-135 left out: their budgets
    # are over 300 steps anyway), mean ROC-AUC over the choices of the normal class, 2 cores:
    # 10 steps 0.787, 100 0.821, 200 0.825, 300 0.826 (GunPoint 0.49 -> 0.78; on its UCR split
    # 0.62 -> 0.84; wine and iris lose 0.01). PyOD's whole fit there takes under 1 s; 300 steps
    # keep ours inside the 2 s the time rule allows for such fits (the benchmark checks it)
    min_steps: int = 300
    max_steps: int = 2000  # ECG's 8,800 windows take 340 steps of 256; a 200k-row upload 2000
    target_epochs: int = 10  # as PyOD; 15 at lr 5e-3: +0.004 mean ROC-AUC, up to 1.8x slower
    # early stopping checks the validation loss this many times over the budget (at most every
    # 10 steps: a check costs a validation pass and a copy of the weights)
    checks: int = 20
    patience: int = 5  # a quarter of the checks without a better loss stops the run
    val_fraction: float = 0.1  # of the training samples, held out for early stopping ...
    min_val: int = 32  # ... when that is at least this many; fewer would only add noise, so
    # small sets train on every sample and early stopping watches the training loss
    # None: best F1 on the labelled validation split where one exists (on the ECG model the
    # tutorial's mean + 1 std flagged 2,761 of 9,801 windows at precision 0.32), else mean_std
    threshold_rule: str | None = None
    threshold_param: float | None = None  # None = the rule's default (k = 1, contamination 5%)
    max_seconds: float | None = None  # the app's wall-time cap
    max_rows: int | None = None  # the app's cap on training samples (random subsample)
    # measured on the shared 2-core machine: one Adam step of the ECG model took 155 ms with
    # torch's default 2 threads and 13 ms with 1; a network this small gains nothing from more
    threads: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Budget:
    batch_size: int
    steps: int  # optimizer steps in all
    steps_per_check: int  # steps between two early-stopping checks (one "round")

    @property
    def rounds(self) -> int:
        return math.ceil(self.steps / self.steps_per_check)


def plan_budget(n: int, settings: TrainSettings) -> Budget:
    """Batch size and optimizer steps for `n` training samples."""
    batch = settings.batch_size or int(np.clip(2 ** round(math.log2(max(n, 1) / 32)), 32, 256))
    batch = min(batch, n)
    per_epoch = n // batch  # full batches, as PyOD's loader takes them (drop_last)
    if settings.epochs:
        steps = settings.epochs * per_epoch
        return Budget(batch, steps, per_epoch)  # the user counts in passes: check after each
    steps = int(np.clip(settings.target_epochs * per_epoch, settings.min_steps, settings.max_steps))
    return Budget(batch, steps, min(steps, max(10, math.ceil(steps / settings.checks))))


class Batches:
    """Shuffled mini-batches of a tensor, `steps` of them per pass of the loop (a round).

    Rows are drawn by index from one tensor, with no per-sample Dataset calls: on 30-row tables
    the DataLoader's per-epoch setup cost more than the steps. Under torchrun each process takes
    its own share of every batch, so the processes together take one optimizer step per batch.
    """

    def __init__(self, x: torch.Tensor, batch_size: int, steps: int, seed: int):
        self.x, self.batch_size, self.steps = x, batch_size, steps
        self.generator = torch.Generator().manual_seed(seed)
        self.order, self.at = torch.randperm(len(x), generator=self.generator), 0

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[torch.Tensor]:
        # asked here, inside fit(): its Accelerator sets up the processes (gloo on CPU) first
        state = PartialState()
        rank, world = state.process_index, state.num_processes
        for _ in range(self.steps):
            if self.at + self.batch_size > len(self.x):  # a fresh permutation each pass
                self.order, self.at = torch.randperm(len(self.x), generator=self.generator), 0
            idx = self.order[self.at : self.at + self.batch_size]
            self.at += self.batch_size
            yield self.x[idx[rank::world]]


@dataclass
class TrainResult:
    model: Autoencoder
    history: list[dict[str, float]]
    stop_reason: str
    metrics: dict  # on the test split; empty when the data has no labels
    train_errors: np.ndarray
    budget: Budget
    val_errors: np.ndarray | None = None  # the labelled validation split's, when it exists

    def nbytes(self) -> int:
        """What keeping this result holds: the weights and the errors the threshold rules use."""
        arrays = [self.train_errors, *([self.val_errors] if self.val_errors is not None else [])]
        weights = sum(t.numel() * t.element_size() for t in self.model.state_dict().values())
        return weights + sum(a.nbytes for a in arrays)


def resolve_rule(settings: TrainSettings, data: AnomalyData) -> tuple[str, float]:
    """The threshold rule and parameter to use: best-F1 needs labels, so it falls back."""
    rule = settings.threshold_rule
    if rule is None:
        labelled = data.val_labels is not None and len(np.unique(data.val_labels)) == 2
        rule = "best_f1" if labelled else "mean_std"
    record = rule_named(rule)
    param = record.default if settings.threshold_param is None else settings.threshold_param
    return rule, float(param)


def rule_thresholds(
    train_errors: np.ndarray, val_errors: np.ndarray | None, val_labels: np.ndarray | None
) -> dict[str, float]:
    """Every rule's threshold at its default, saved so the app can show what each would flag."""
    labelled = val_labels is not None and len(np.unique(val_labels)) == 2
    return {
        key: threshold(key, train_errors, None, val_errors, val_labels)
        for key in RULES
        if key != "best_f1" or labelled
    }


def train_autoencoder(
    data: AnomalyData,
    settings: TrainSettings,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    evaluate: bool = True,
) -> TrainResult:
    """Fit the scaler and the autoencoder on `data.train`, then threshold (and evaluate)."""
    seed_everything(settings.seed)
    rng = np.random.default_rng(settings.seed)
    train = data.train
    if settings.max_rows is not None and len(train) > settings.max_rows:
        train = train[np.sort(rng.choice(len(train), settings.max_rows, replace=False))]
    if len(train) < 10:
        raise UserInputError(f"Only {len(train)} training samples; at least 10 are needed.")
    if settings.variant == "conv" and data.kind != "series":
        raise UserInputError("The Conv1D variant works on series windows; pick 'dense' for tables.")
    rule, param = resolve_rule(settings, data)
    # z-score with the training data's statistics: per column for tables, one pair for a series
    axis = None if data.kind == "series" else 0
    mean, std = train.mean(axis=axis), train.std(axis=axis)
    std = np.where(std > 1e-8, std, 1.0)  # constant columns (blank digit pixels) pass unscaled
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
        threshold_rule=rule,
        threshold_param=param,
        dataset=data.name,
    )
    model = Autoencoder(config)
    x = model.scale(train)
    n_val = int(settings.val_fraction * len(x))
    if n_val < settings.min_val:
        n_val = 0
    order = torch.from_numpy(rng.permutation(len(x)))
    val_x, fit_x = x[order[:n_val]], x[order[n_val:]]
    budget = plan_budget(len(fit_x), settings)
    threads = torch.get_num_threads()
    torch.set_num_threads(settings.threads)
    try:
        result = fit(
            model,
            torch.optim.Adam(model.parameters(), lr=settings.lr, fused=True),  # 30% faster steps
            Batches(fit_x, budget.batch_size, budget.steps_per_check, settings.seed),
            # call the model itself, not a method: under torchrun it is wrapped in DDP
            lambda m, batch: reconstruction_errors(m(batch), batch, settings.loss).mean(),
            epochs=budget.rounds,
            val_loader=[val_x] if n_val else None,
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
    config.threshold = threshold(rule, train_errors, param, val_errors, data.val_labels)
    config.rule_thresholds = rule_thresholds(train_errors, val_errors, data.val_labels)
    config.rule_thresholds[rule] = config.threshold  # with the parameter the user chose
    on = val_errors if rule == "best_f1" else train_errors
    config.expected_flag_rate = float(np.mean(on > config.threshold))
    scores = {}
    if evaluate and data.test_labels is not None:
        scores = metrics(model.score(data.test), data.test_labels, config.threshold)
    return TrainResult(
        model, result.history, result.stop_reason, scores, train_errors, budget, val_errors
    )
