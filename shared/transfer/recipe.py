"""One training stage, and staged unfreezing built from it, on top of the shared Accelerate loop.

A stage freezes the lowest stages of the backbone, builds AdamW groups with layer-wise learning
rates, follows the course's schedule and keeps the best validation weights (shared `fit`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, default_collate

from shared.training import LossFn, fit
from shared.transfer.augment import Jitter, affine
from shared.transfer.backbone import count_trainable, freeze, layerwise_groups, train_mode
from shared.transfer.schedule import CourseSchedule, RecordedSchedule

Split = tuple[torch.Tensor, torch.Tensor]  # images (N, 3, H, W) and labels (N,)
# A new head alone on a frozen backbone (a linear probe) learns at this many times the schedule's
# rate: fixed features need a far higher rate than fine-tuning. Measured on the glyph-pretrained
# test_resnet: 91.9% on all digits at the schedule's 2e-3, 96.9% at 10x (at 10 labels per class
# 85.3% and 90.2%). `training.transfer --probe-lr-scale` and the app's Fine-tune tab use it.
PROBE_LR_SCALE = 10.0


@dataclass
class StageConfig:
    epochs: int = 6
    batch_size: int = 32
    weight_decay: float = 0.05  # AdamW's usual strength for fine-tuning CNNs
    layer_decay: float = 0.75  # each stage further from the head learns at 3/4 the rate
    patience: int | None = None  # the budget comparison trains every run for all its epochs
    schedule: CourseSchedule = field(default_factory=CourseSchedule)
    augment: Jitter | None = None  # random affine jitter of each training batch (None: off)
    head_lr_scale: float = 1.0  # the head's rate against the schedule's (a new head: see CLI)


@dataclass
class StageResult:
    name: str
    n_frozen: int
    trainable: int  # parameters that this stage trained
    history: list[dict[str, float]]
    lr_trace: list[float]
    stop_reason: str


def loss_fn(model: nn.Module, batch) -> tuple[torch.Tensor, dict[str, float]]:
    images, labels = batch
    logits = model(images)
    accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    return F.cross_entropy(logits, labels), {"acc": accuracy}


def loader(
    split: Split,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    augment: Jitter | None = None,
) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    collate = None
    if augment is not None:
        jitter_rng = torch.Generator().manual_seed(seed + 1)

        def collate(rows):
            images, labels = default_collate(rows)
            return affine(images, augment, jitter_rng), labels

    return DataLoader(
        TensorDataset(*split), batch_size, shuffle=shuffle, generator=generator, collate_fn=collate
    )


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    model.eval()
    return torch.cat([model(chunk) for chunk in images.split(batch_size)])


def accuracy(model: nn.Module, split: Split) -> float:
    return (predict_logits(model, split[0]).argmax(dim=1) == split[1]).float().mean().item()


def train_stage(
    model: nn.Module,
    train: Split,
    val: Split | None,
    config: StageConfig,
    *,
    n_frozen: int,
    name: str = "stage",
    seed: int = 0,
    max_seconds: float | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    loss: LossFn = loss_fn,
    make_loader: Callable[..., DataLoader] = loader,
) -> StageResult:
    """Freeze the lowest `n_frozen` stages (-1: all) and train the rest with the course schedule.

    `loss` and `make_loader` default to classification; detection passes its own (same
    signatures as `loss_fn` and `loader`).
    """
    freeze(model, n_frozen)
    groups = layerwise_groups(
        model, config.schedule.peak, config.weight_decay, config.layer_decay, config.head_lr_scale
    )
    optimizer = torch.optim.AdamW(groups)
    # a loader maker without augmentation (detection's) need not know the keyword
    jitter = {"augment": config.augment} if config.augment is not None else {}
    train_loader = make_loader(train, config.batch_size, shuffle=True, seed=seed, **jitter)
    scheduler = RecordedSchedule(optimizer, config.schedule, config.epochs * len(train_loader))
    result = fit(
        model,
        optimizer,
        train_loader,
        loss,
        epochs=config.epochs,
        val_loader=make_loader(val, 256) if val is not None else None,
        scheduler=scheduler,
        patience=config.patience,
        max_seconds=max_seconds,
        train_mode=train_mode,  # frozen BatchNorm keeps its pretrained statistics
        on_epoch=on_epoch,
        desc=name,
    )
    return StageResult(
        name,
        n_frozen,
        count_trainable(model),
        result.history,
        scheduler.trace,
        result.stop_reason,
    )


def staged_finetune(
    model: nn.Module,
    train: Split,
    val: Split | None,
    config: StageConfig,
    plan: Sequence[int],
    *,
    unfreeze_lr_scale: float = 1.0,
    seed: int = 0,
    loss: LossFn = loss_fn,
    make_loader: Callable[..., DataLoader] = loader,
) -> list[StageResult]:
    """Train the head first, then unfreeze more stages: `plan` lists each stage's frozen count.

    The epoch budget is split over the stages, so staged fine-tuning costs the same epochs as
    training from scratch. Each stage runs the course schedule again (a fresh warm-up for the
    newly thawed layers), `unfreeze_lr_scale` times as high per stage; layer-wise decay already
    keeps the lower layers' rates small.
    """
    per_stage = [config.epochs // len(plan)] * len(plan)
    for i in range(config.epochs % len(plan)):
        per_stage[-1 - i] += 1
    results = []
    for i, (n_frozen, epochs) in enumerate(zip(plan, per_stage, strict=True)):
        stage_config = replace(
            config, epochs=max(epochs, 1), schedule=config.schedule.scaled(unfreeze_lr_scale**i)
        )
        results.append(
            train_stage(
                model,
                train,
                val,
                stage_config,
                n_frozen=n_frozen,
                name=f"stage {i + 1}",
                seed=seed,
                loss=loss,
                make_loader=make_loader,
            )
        )
    return results
