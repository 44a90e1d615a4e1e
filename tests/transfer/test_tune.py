"""Hyper-parameter tuning: shared/transfer/tune.py."""

from __future__ import annotations

import numpy as np


def test_tuning_reports_every_trial_and_the_best():
    from shared.transfer.tune import tune

    labels = np.arange(30) % 3
    seen = []

    def run_fold(params, train, val):
        assert not set(train) & set(val) and len(set(labels[val])) == 3  # stratified folds
        seen.append(params)
        return 1.0 - abs(np.log10(params["lr"]) + 3)  # best at lr = 1e-3

    result = tune(run_fold, labels, n_stages=5, trials=4, folds=3, seed=0)
    assert len(result["trials"]) == 4 and len(seen) == 12
    assert set(seen[0]) == {"lr", "batch_size", "weight_decay", "dropout", "unfrozen_stages"}
    best = max(result["trials"], key=lambda t: t["cv_accuracy"])
    assert result["best"]["lr"] == best["lr"] and len(best["fold_accuracies"]) == 3
