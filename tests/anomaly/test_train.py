"""Training the autoencoder: shared/anomaly/train.py."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from shared.anomaly.builtin import load_builtin
from shared.anomaly.scoring import flags, point_scores
from shared.anomaly.train import TrainSettings, train_autoencoder


@pytest.mark.slow
def test_planted_ecg_anomaly_is_flagged():
    data = load_builtin("ecg", stride=2)
    result = train_autoencoder(data, TrainSettings(epochs=10, batch_size=256))
    errors = result.model.score(data.test)
    flagged = flags(errors, result.model.config.threshold)
    points = point_scores(errors, len(data.series), data.window, data.stride)
    labels = data.point_labels
    # every labelled anomalous segment has flagged points, and flags are likelier inside them
    starts = np.flatnonzero(np.diff(np.r_[0, labels]) == 1)
    for start in starts:
        assert (points[start : start + 100] > result.model.config.threshold).any()
    assert flagged[data.test_labels == 1].mean() > flagged[data.test_labels == 0].mean()


def test_a_result_counts_its_weights_and_the_errors_its_rules_keep():
    data = load_builtin("breast_cancer")  # labelled: a validation split, so both error arrays
    result = train_autoencoder(data, TrainSettings(epochs=1))
    weights = sum(p.numel() * p.element_size() for p in result.model.state_dict().values())
    assert result.val_errors is not None
    assert result.nbytes() == weights + result.train_errors.nbytes + result.val_errors.nbytes
    unlabelled = dataclasses.replace(result, val_errors=None)
    assert unlabelled.nbytes() == weights + result.train_errors.nbytes
