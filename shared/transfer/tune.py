"""Hyperparameter search, the course's five steps: model, search space, method, CV, score.

1. the model is fixed by the caller (a timm backbone and its pretrained weights);
2. the search space is `suggest` below;
3. the method is Optuna's TPE sampler, seeded;
4. each trial is scored by stratified k-fold cross-validation on the training data;
5. the score is the mean validation accuracy over the folds.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import optuna
from sklearn.model_selection import StratifiedKFold

# (params, train indices, validation indices) -> validation accuracy of that fold
FoldFn = Callable[[dict, np.ndarray, np.ndarray], float]


def suggest(trial: optuna.Trial, n_stages: int) -> dict:
    return {
        "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),  # the peak of the course schedule
        "batch_size": trial.suggest_categorical("batch_size", [16, 32, 64]),
        "weight_decay": trial.suggest_float("weight_decay", 1e-4, 1e-1, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "unfrozen_stages": trial.suggest_int("unfrozen_stages", 0, n_stages),  # 0: head only
    }


def tune(
    run_fold: FoldFn, labels: np.ndarray, n_stages: int, trials: int, folds: int, seed: int = 0
) -> dict:
    """Run the study; return the best trial and one table row per trial."""
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(labels, labels))

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial, n_stages)
        scores = [run_fold(params, train, val) for train, val in splits]
        trial.set_user_attr("fold_scores", scores)
        return float(np.mean(scores))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    table = [
        {
            "trial": t.number,
            **t.params,
            "cv_accuracy": t.value,
            "fold_accuracies": t.user_attrs["fold_scores"],
        }
        for t in study.trials
    ]
    best = study.best_trial
    return {"folds": folds, "best": {**best.params, "cv_accuracy": best.value}, "trials": table}
