"""Helpers every training job shares: seeding, the output folder, CLI flags and the torch loop.

The loop runs through Hugging Face Accelerate, so the same script trains on one CPU, on GPUs,
or over several processes with ``accelerate launch`` / ``torchrun``.
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import shlex
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator, PartialState
from tqdm.auto import tqdm

from shared.hub import artifacts_dir, push_folder

if "LOCAL_RANK" in os.environ and not torch.cuda.is_available():
    # under torchrun on CPU, Accelerate joins the gloo process group only when told to use the CPU
    os.environ.setdefault("ACCELERATE_USE_CPU", "true")

# A loss function takes (model, batch) and returns the mean loss over the batch, optionally
# with extra per-batch metrics (means over the batch, e.g. {"acc": 0.9}).
LossFn = Callable[[torch.nn.Module, Any], torch.Tensor | tuple[torch.Tensor, dict[str, float]]]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def add_common_args(parser: argparse.ArgumentParser, app: str) -> None:
    """The flags every training job takes, with the same names and defaults."""
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output folder (default: artifacts/{app})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a CPU run of a few seconds, for tests and CI"
    )
    parser.add_argument(
        "--push-to-hub",
        metavar="ORG/NAME",
        default=None,
        help="after saving, upload the output folder to this Hub model repo (default: off)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def output_dir(out: Path | None, app: str) -> Path:
    folder = Path(out) if out is not None else artifacts_dir() / app
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def training_command(module: str) -> str:
    """The command line that produced this run, for the model card."""
    return shlex.join(["python", "-m", module, *sys.argv[1:]])


def maybe_push(folder: Path, repo_id: str | None) -> None:
    if repo_id:
        url = push_folder(folder, repo_id)
        print(f"pushed {folder} to {url}")


@dataclass
class FitResult:
    model: torch.nn.Module  # unwrapped, with the best validation weights restored
    history: list[dict[str, float]] = field(default_factory=list)  # one row per epoch
    best_epoch: int = 0
    stop_reason: str = "finished"


def _call(loss_fn: LossFn, model: torch.nn.Module, batch: Any):
    out = loss_fn(model, batch)
    return out if isinstance(out, tuple) else (out, {})


def _batch_size(batch: Any) -> int:
    first = batch[0] if isinstance(batch, list | tuple) else batch
    return len(first)


def _evaluate(accelerator, model, loader, loss_fn) -> dict[str, float]:
    model.eval()
    sums: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for batch in loader:
            loss, extra = _call(loss_fn, model, batch)
            n = _batch_size(batch)
            for key, value in {"loss": loss.item(), **extra}.items():
                sums[key] = sums.get(key, torch.zeros((), device=accelerator.device)) + value * n
            sums["n"] = sums.get("n", torch.zeros((), device=accelerator.device)) + n
    # every process saw a shard: add them up so all processes take the same decisions
    totals = {k: accelerator.reduce(v, "sum").item() for k, v in sums.items()}
    n = max(totals.pop("n", 0.0), 1.0)
    return {k: v / n for k, v in totals.items()}


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train_loader: Iterable,
    loss_fn: LossFn,
    *,
    epochs: int,
    val_loader: Iterable | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    patience: int | None = None,
    max_seconds: float | None = None,
    train_mode: Callable[[torch.nn.Module], None] | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    desc: str = "train",
) -> FitResult:
    """Train for `epochs`, keeping the weights with the lowest validation loss.

    `scheduler` steps once per batch. `patience` stops after that many epochs without a better
    validation loss. `max_seconds` bounds wall time (the apps' cap); it is checked after every
    batch. `train_mode` puts the model into training mode (default ``model.train()``); transfer
    learning uses it to keep frozen BatchNorm layers in eval mode.
    """
    accelerator = Accelerator()
    model, optimizer, train_loader = accelerator.prepare(model, optimizer, train_loader)
    if val_loader is not None:
        val_loader = accelerator.prepare(val_loader)
    start = time.perf_counter()
    result = FitResult(model=model)
    best_loss, best_state, bad_epochs = float("inf"), None, 0
    bar = tqdm(
        range(1, epochs + 1), desc=desc, unit="epoch", disable=not accelerator.is_local_main_process
    )
    for epoch in bar:
        (train_mode or (lambda m: m.train()))(model)
        total, seen, extras = 0.0, 0, {}
        for batch in train_loader:
            loss, extra = _call(loss_fn, model, batch)
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            n = _batch_size(batch)
            total, seen = total + loss.item() * n, seen + n
            for key, value in extra.items():
                extras[key] = extras.get(key, 0.0) + value * n
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                result.stop_reason = f"time limit of {max_seconds:g} s"
                break
        row = {
            "epoch": epoch,
            "train_loss": total / max(seen, 1),
            "lr": optimizer.param_groups[0]["lr"],
        }
        row.update({f"train_{k}": v / max(seen, 1) for k, v in extras.items()})
        if val_loader is not None:
            row.update(
                {
                    f"val_{k}": v
                    for k, v in _evaluate(accelerator, model, val_loader, loss_fn).items()
                }
            )
        row["seconds"] = time.perf_counter() - start
        result.history.append(row)
        bar.set_postfix({k: f"{v:.4g}" for k, v in row.items() if k.endswith("loss")})
        if on_epoch is not None:
            on_epoch(row)
        # early stopping watches the validation loss, or the training loss without a val set
        watched = row.get("val_loss", row["train_loss"])
        if watched < best_loss:
            best_loss, bad_epochs, result.best_epoch = watched, 0, epoch
            best_state = copy.deepcopy(accelerator.unwrap_model(model).state_dict())
        else:
            bad_epochs += 1
        if result.stop_reason != "finished":
            break
        if patience is not None and bad_epochs >= patience:
            result.stop_reason = f"early stop: no better loss for {patience} epochs"
            break
    bar.close()
    # the last step's gradients would stay on the model for as long as it is kept: a session
    # detector then held 4.4 MB where its weights are 2.7 MB (and a store counts the weights)
    optimizer.zero_grad(set_to_none=True)
    result.model = accelerator.unwrap_model(model)
    if best_state is not None:
        result.model.load_state_dict(best_state)
    result.model.eval()
    return result


def is_main_process() -> bool:
    """True in the process that should save and push (always true outside torchrun)."""
    return PartialState().is_main_process
