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


def test_the_worker_that_loses_the_race_to_create_the_tables_opens_the_study(monkeypatch, tmp_path):
    import optuna
    from sqlalchemy.exc import OperationalError

    from shared.transfer import tune

    real, calls = optuna.storages.RDBStorage, []

    def racing(url):  # the first open meets the other worker's tables mid-creation
        calls.append(url)
        if len(calls) == 1:
            raise OperationalError(
                "CREATE TABLE studies", {}, Exception("table studies already exists")
            )
        return real(url)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    monkeypatch.setattr(tune.time, "sleep", lambda s: None)
    url = f"sqlite:///{tmp_path}/study.db"
    assert isinstance(tune.open_storage(url), real) and len(calls) == 2


def test_an_error_that_is_not_the_race_is_not_retried(monkeypatch, tmp_path):
    import optuna
    import pytest
    from sqlalchemy.exc import OperationalError

    from shared.transfer import tune
    from shared.transfer.data import TransferInputError

    calls = []

    def broken(url):
        calls.append(url)
        raise OperationalError("connect", {}, Exception("unable to open database file"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", broken)
    with pytest.raises(TransferInputError, match="could not be opened"):
        tune.open_storage(f"sqlite:///{tmp_path}/study.db")
    assert len(calls) == 1
    # the race itself gives up after RDB_TRIES, with the same readable message
    calls.clear()
    monkeypatch.setattr(tune.time, "sleep", lambda s: None)

    def locked(url):
        calls.append(url)
        raise OperationalError("x", {}, Exception("database is locked"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", locked)
    with pytest.raises(TransferInputError, match="database is locked"):
        tune.open_storage(f"sqlite:///{tmp_path}/study.db")
    assert len(calls) == tune.RDB_TRIES
