"""The course's learning-rate schedule: warm up 2e-5 -> 2e-3, then decay linearly to 2e-4.

The course states it in absolute steps for MNIST; here it is scaled to the run's length, so a
three-epoch run and a thirty-epoch run have the same shape. Layer-wise decay multiplies each
optimizer group's peak, so every group follows the same shape at its own height.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class CourseSchedule:
    start: float = 2e-5  # the course's warm-up start
    peak: float = 2e-3  # reached at the end of warm-up
    end: float = 2e-4  # reached at the last step
    warmup_fraction: float = 0.1  # share of the run spent warming up

    def lr_at(self, step: int, total: int) -> float:
        """Learning rate at `step` (0-based) of a run of `total` optimizer steps."""
        warmup = max(1, round(self.warmup_fraction * total))
        if step < warmup:
            return self.start + (self.peak - self.start) * step / warmup
        decay_steps = max(1, total - 1 - warmup)
        return self.peak + (self.end - self.peak) * min(1.0, (step - warmup) / decay_steps)

    def scaled(self, factor: float) -> CourseSchedule:
        """The same shape at `factor` times the height (later fine-tuning stages)."""
        return CourseSchedule(
            self.start * factor, self.peak * factor, self.end * factor, self.warmup_fraction
        )


class RecordedSchedule(torch.optim.lr_scheduler.LambdaLR):
    """`CourseSchedule` as a per-batch scheduler that records the top group's lr at each step.

    Each group's lr is set to its peak (layer-wise decayed) before this is built.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: CourseSchedule, total: int):
        self.trace: list[float] | None = None  # the constructor's own first step is not a step
        super().__init__(optimizer, lambda step: schedule.lr_at(step, total) / schedule.peak)
        self.trace = []

    def step(self, epoch: int | None = None) -> None:
        if self.trace is not None:
            self.trace.append(self.optimizer.param_groups[0]["lr"])  # the lr this step used
        super().step(epoch)
