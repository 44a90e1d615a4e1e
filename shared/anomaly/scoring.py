"""From reconstruction errors to decisions: threshold rules and metrics, anomaly = positive.

Four rules, each from a well-known source, turn the errors of the training data (and, for
best-F1, a labelled validation split) into one threshold. A sample whose error is *above* the
threshold is flagged as an anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from shared.errors import UserInputError


@dataclass(frozen=True)
class ThresholdRule:
    """One way to turn errors into a threshold, as the app and the CLI name it."""

    key: str
    label: str  # shown in the app and the model card
    param_name: str | None  # what its parameter means; None when it takes none
    default: float  # the parameter's default (0 when it takes none)


RULES = {
    rule.key: rule
    for rule in (
        ThresholdRule(
            "mean_std", "mean + k·std of training errors (TensorFlow tutorial)", "k", 1.0
        ),
        ThresholdRule("max", "maximum training error (Keras example)", None, 0.0),
        ThresholdRule(
            "percentile", "contamination rate (PyOD)", "expected share of anomalies", 0.05
        ),
        ThresholdRule("best_f1", "best F1 on the labelled validation split", None, 0.0),
    )
}


def rule_named(key: str) -> ThresholdRule:
    if key not in RULES:
        raise UserInputError(f"Unknown threshold rule {key!r}; choose one of {list(RULES)}.")
    return RULES[key]


def threshold(
    rule: str,
    train_errors: np.ndarray,
    param: float | None = None,
    val_errors: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
) -> float:
    """The threshold that `rule` picks; `param` defaults to the rule's own default."""
    param = rule_named(rule).default if param is None else float(param)
    errors = np.asarray(train_errors, dtype=np.float64)
    if rule == "mean_std":
        # TF tutorial: normal training errors are roughly bell-shaped, so mean + 1 std
        # leaves about one normal sample in six above the line
        return float(errors.mean() + param * errors.std())
    if rule == "max":
        # Keras example: nothing seen in training counts as anomalous
        return float(errors.max())
    if rule == "percentile":
        # PyOD: with contamination c, the top c of the training scores lie above the threshold
        if not 0 < param < 0.5:
            raise UserInputError(f"The contamination rate must be between 0 and 0.5 (got {param}).")
        return float(np.quantile(errors, 1 - param))
    if val_errors is None or val_labels is None or len(np.unique(val_labels)) < 2:
        raise UserInputError(
            "The best-F1 rule needs a labelled validation split with both normal samples and "
            "anomalies; this data has none. Pick another threshold rule."
        )
    # scan every candidate threshold, highest error first: flagging the top i errors gives
    # tp[i] true positives of i flags (numpy here: sklearn's curve costs 2 ms of checks)
    order = np.argsort(-np.asarray(val_errors, dtype=np.float64), kind="stable")
    ranked, hits = np.asarray(val_errors, dtype=np.float64)[order], np.asarray(val_labels)[order]
    tp = np.cumsum(hits > 0)
    ends = np.r_[np.flatnonzero(np.diff(ranked) != 0), len(ranked) - 1]  # ties flag together
    precision, recall = tp[ends] / (ends + 1), tp[ends] / tp[-1]
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    cut = ranked[ends[int(np.argmax(f1))]]
    # flag where error >= cut; we flag where error > threshold, so step just below the cut
    return float(np.nextafter(cut, -np.inf))


def flags(errors: np.ndarray, threshold_value: float) -> np.ndarray:
    return (np.asarray(errors) > threshold_value).astype(np.int64)


def decisions(errors: np.ndarray, labels: np.ndarray, threshold_value: float) -> dict:
    """The threshold's confusion matrix, precision, recall and F1 (0 where undefined), counted
    directly: scikit-learn's checks made its four functions 20 ms per threshold, and the app
    asks this of every threshold rule for every answer."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = flags(errors, threshold_value)
    tp = int(((predicted == 1) & (labels == 1)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    tn = len(labels) - tp - fp - fn
    return {
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,  # scikit-learn's f1_score, as counts
        "accuracy": float((predicted == labels).mean()),
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
    }


def metrics(errors: np.ndarray, labels: np.ndarray, threshold_value: float) -> dict:
    """ROC-AUC, PR-AUC and the threshold's precision, recall, F1 and confusion matrix."""
    labels = np.asarray(labels, dtype=np.int64)
    both = len(np.unique(labels)) == 2
    return {
        "roc_auc": float(roc_auc_score(labels, errors)) if both else float("nan"),
        "pr_auc": float(average_precision_score(labels, errors)) if both else float("nan"),
        **decisions(errors, labels, threshold_value),
        "threshold": float(threshold_value),
        "n": int(len(labels)),
        "anomalies": int(labels.sum()),
    }


def point_scores(window_errors: np.ndarray, n_points: int, window: int, stride: int) -> np.ndarray:
    """Each point's score: the largest error of the windows that cover it (0 if none does)."""
    scores = np.zeros(n_points, dtype=np.float64)
    for i, err in enumerate(np.asarray(window_errors)):
        start = i * stride
        segment = scores[start : start + window]
        np.maximum(segment, err, out=segment)
    return scores
