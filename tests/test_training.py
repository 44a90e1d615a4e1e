"""The shared Accelerate loop: it learns, stops early, honours its time cap, keeps the best."""

from __future__ import annotations

import argparse

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from shared.training import add_common_args, fit, seed_everything


def regression_data(n: int = 256):
    seed_everything(0)
    x = torch.randn(n, 4)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.01 * torch.randn(n, 1)
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def test_fit_lowers_the_loss_and_logs_each_epoch():
    model = torch.nn.Linear(4, 1)
    seen = []
    result = fit(
        model,
        torch.optim.Adam(model.parameters(), lr=0.05),
        regression_data(),
        mse,
        epochs=20,
        val_loader=regression_data(64),
        on_epoch=seen.append,
    )
    losses = [row["train_loss"] for row in result.history]
    assert len(seen) == 20 == len(result.history)
    assert losses[-1] < 0.05 * losses[0]
    assert result.history[-1]["val_loss"] < 0.05
    assert result.stop_reason == "finished"


@pytest.mark.parametrize("val", [False, True])  # best weights restored, or the last ones
def test_the_trained_model_keeps_no_gradients(val):
    """A kept model (a session's, in an app's memory budget) must weigh only its weights."""
    model = torch.nn.Linear(4, 1)
    result = fit(model, torch.optim.SGD(model.parameters(), lr=0.01), regression_data(), mse,
                 epochs=2, val_loader=regression_data(64) if val else None)  # fmt: skip
    assert [p.grad for p in result.model.parameters()] == [None, None]


def test_extra_metrics_are_averaged():
    model = torch.nn.Linear(4, 1)

    def loss_and_metric(m, batch):
        return mse(m, batch), {"half": 0.5}

    result = fit(
        model,
        torch.optim.SGD(model.parameters(), lr=0.01),
        regression_data(),
        loss_and_metric,
        epochs=1,
        val_loader=regression_data(64),
    )
    assert result.history[0]["train_half"] == 0.5 == result.history[0]["val_half"]


def test_early_stopping_restores_the_best_weights():
    model = torch.nn.Linear(4, 1)
    # a learning rate this large diverges after the first epoch, so epoch 1 stays the best
    result = fit(
        model,
        torch.optim.SGD(model.parameters(), lr=3.0),
        regression_data(),
        mse,
        epochs=30,
        val_loader=regression_data(64),
        patience=2,
    )
    assert result.stop_reason.startswith("early stop")
    assert len(result.history) == result.best_epoch + 2
    best = result.history[result.best_epoch - 1]["val_loss"]
    with torch.no_grad():
        x, y = next(iter(DataLoader(regression_data(64).dataset, batch_size=64)))
        assert torch.nn.functional.mse_loss(result.model(x), y).item() == pytest.approx(
            best, rel=1e-5
        )


def test_time_cap_stops_training():
    model = torch.nn.Linear(4, 1)
    result = fit(
        model,
        torch.optim.SGD(model.parameters(), lr=0.01),
        regression_data(),
        mse,
        epochs=10_000,
        max_seconds=0.0,
    )
    assert len(result.history) == 1
    assert result.stop_reason == "time limit of 0 s"


def test_common_flags_have_documented_defaults():
    parser = argparse.ArgumentParser()
    add_common_args(parser, "cbow")
    args = parser.parse_args([])
    assert (args.out, args.quick, args.push_to_hub, args.seed) == (None, False, None, 0)
    text = parser.format_help()
    assert "artifacts/cbow" in text and "--push-to-hub" in text
