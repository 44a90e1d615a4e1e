"""Hyperparameter search, the course's five steps: model, search space, method, CV, score.

1. the model is fixed by the caller (a timm backbone and its pretrained weights);
2. the search space is `suggest` below;
3. the method is Optuna's TPE sampler, seeded;
4. each trial is scored by stratified k-fold cross-validation on the training data;
5. the score is the mean validation accuracy over the folds.

With a storage URL, the study lives in a database or a journal file instead of this process's
memory, so several processes (or machines sharing the file or database) search one study
together: each runs its own trials, Optuna's sampler sees everyone's, and each reports the whole
study so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import optuna
from sklearn.model_selection import StratifiedKFold
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from shared.transfer.data import TransferInputError

# (params, train indices, validation indices) -> validation accuracy of that fold
FoldFn = Callable[[dict, np.ndarray, np.ndarray], float]
STUDY_NAME = "transfer-tune"  # one study per storage: workers given the same URL join it
JOURNAL = "journal:"  # a URL of this scheme names a journal file, every other one an RDB URL
RDB_TRIES = 5  # workers that start together on a new database race to create its tables
RACES = ("already exists", "database is locked")  # what the slower one sees: transient


def open_storage(url: str | None) -> optuna.storages.BaseStorage | None:
    """Optuna storage for `url`: None keeps the study in memory (one process).

    ``journal:PATH`` is Optuna's journal file: no database server, and any number of processes
    on one file system (each write takes a lock file beside it). Anything else
    is an RDB URL for SQLAlchemy: ``sqlite:///study.db`` on one machine, or
    ``postgresql://user@host/db`` and ``mysql://...`` for machines sharing a server.
    """
    if url is None:
        return None
    try:
        if url.startswith(JOURNAL):
            backend = optuna.storages.journal.JournalFileBackend(url.removeprefix(JOURNAL))
            return optuna.storages.JournalStorage(backend)
        return open_rdb(url)
    except (OSError, SQLAlchemyError) as err:
        raise TransferInputError(
            f"--storage {url!r} could not be opened ({err.__class__.__name__}: {err}). Give "
            "journal:PATH for a journal file, or a database URL such as sqlite:///study.db."
        ) from None


def open_rdb(url: str) -> optuna.storages.RDBStorage:
    """Optuna's RDBStorage for `url`, tolerating the other workers that create it at the same time.

    Two workers that start at once on an empty database both create its tables. The slower one
    fails with "table ... already exists" (OperationalError) or on the version row's insert
    (IntegrityError); both were seen in the two-worker test. A moment later the tables exist, so
    it opens again. Any other error, or the same one `RDB_TRIES` times, goes up to the caller.
    """
    for attempt in range(1, RDB_TRIES + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except (IntegrityError, OperationalError) as err:
            racing = isinstance(err, IntegrityError) or any(m in str(err) for m in RACES)
            if not racing or attempt == RDB_TRIES:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def suggest(trial: optuna.Trial, n_stages: int) -> dict:
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),  # the peak of the course schedule
        "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64]),
        "weight_decay": trial.suggest_float("weight_decay", 1e-4, 1e-1, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "unfrozen_stages": trial.suggest_int("unfrozen_stages", 0, n_stages),  # 0: head only
    }


def tune(
    run_fold: FoldFn,
    labels: np.ndarray,
    n_stages: int,
    trials: int,
    folds: int,
    seed: int = 0,
    storage: str | None = None,
) -> dict:
    """Run `trials` trials; return the study's best trial and one table row per trial.

    With `storage` (see `open_storage`) the study is shared: this process adds its `trials` to
    those other processes run on the same storage, and the table holds all that have finished.
    """
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(labels, labels))

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, n_stages)
        scores = [run_fold(params, train, val) for train, val in splits]
        trial.set_user_attr("fold_scores", scores)
        return float(np.mean(scores))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Workers sharing a study with one seed would each draw the same first trials; a shared
    # study's order depends on the workers' timing anyway, so its sampler draws a fresh seed.
    sampler = optuna.samplers.TPESampler(seed=seed if storage is None else None)
    study = optuna.create_study(
        storage=open_storage(storage),
        study_name=STUDY_NAME if storage else None,
        load_if_exists=True,
        direction="maximize",
        sampler=sampler,
    )
    study.optimize(objective, n_trials=trials)
    finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    table = [
        {
            "trial": t.number,
            **t.params,
            "cv_accuracy": t.value,
            "fold_accuracies": t.user_attrs["fold_scores"],
        }
        for t in finished
    ]
    best = study.best_trial
    return {"folds": folds, "best": {**best.params, "cv_accuracy": best.value}, "trials": table}
