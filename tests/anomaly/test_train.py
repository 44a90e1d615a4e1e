"""Training the autoencoder: shared/anomaly/train.py."""

from __future__ import annotations

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
