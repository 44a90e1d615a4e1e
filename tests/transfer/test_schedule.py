"""Learning-rate schedules: shared/transfer/schedule.py."""

from __future__ import annotations

import pytest
import torch

from shared.transfer import backbone
from shared.transfer.schedule import CourseSchedule, RecordedSchedule
from tests.transfer.test_backbone import tiny


def test_schedule_matches_the_course_at_its_boundaries():
    s, total = CourseSchedule(), 100
    warmup = 10
    assert s.lr_at(0, total) == pytest.approx(2e-5)
    assert s.lr_at(warmup, total) == pytest.approx(2e-3)
    assert s.lr_at(total - 1, total) == pytest.approx(2e-4)
    values = [s.lr_at(i, total) for i in range(total)]
    assert values[: warmup + 1] == sorted(values[: warmup + 1])  # warms up
    assert values[warmup:] == sorted(values[warmup:], reverse=True)  # then decays linearly
    assert max(values) == pytest.approx(2e-3)
    # the same shape, scaled to a shorter run
    assert CourseSchedule().lr_at(1, 10) == pytest.approx(2e-3)


def test_recorded_schedule_and_layerwise_rates():
    model = tiny()
    backbone.freeze(model, 0)
    groups = backbone.layerwise_groups(model, 2e-3, 0.05, 0.5)
    by_stage = {g["stage"]: g["lr"] for g in groups}
    names = ["head", *[name for name, _ in reversed(backbone.stages(model))]]
    assert [by_stage[n] for n in names] == pytest.approx([2e-3 * 0.5**d for d in range(len(names))])
    optimizer = torch.optim.SGD(groups)
    scheduler = RecordedSchedule(optimizer, CourseSchedule(), 20)
    for _ in range(20):
        optimizer.step()
        scheduler.step()
    assert scheduler.trace == pytest.approx([CourseSchedule().lr_at(i, 20) for i in range(20)])
    # every group follows the same shape at its own height
    assert optimizer.param_groups[-1]["lr"] / optimizer.param_groups[0]["lr"] == pytest.approx(
        groups[-1]["lr"] / groups[0]["lr"]
    )
