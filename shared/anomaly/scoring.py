"""From reconstruction errors to decisions: threshold rules and metrics, anomaly = positive.

Four rules, each from a well-known source, turn the errors of the training data (and, for
best-F1, a labelled validation split) into one threshold. A sample whose error is *above* the
threshold is flagged as an anomaly.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from shared.errors import UserInputError

# rule -> (label shown in the app, what its parameter means, the parameter's default)
THRESHOLD_RULES = {
    "mean_std": ("mean + k·std of training errors (TensorFlow tutorial)", "k", 1.0),
    "max": ("maximum training error (Keras example)", None, 0.0),
    "percentile": ("contamination rate (PyOD)", "expected share of anomalies", 0.05),
    "best_f1": ("best F1 on the labelled validation split", None, 0.0),
}


def threshold(
    rule: str,
    train_errors: np.ndarray,
    param: float | None = None,
    val_errors: np.ndarray | None = None,
    val_labels: np.ndarray | None = None,
) -> float:
    """The threshold that `rule` picks; `param` defaults to the rule's own default."""
    if rule not in THRESHOLD_RULES:
        raise UserInputError(
            f"Unknown threshold rule {rule!r}; choose one of {list(THRESHOLD_RULES)}."
        )
    param = THRESHOLD_RULES[rule][2] if param is None else float(param)
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
    # scan every candidate threshold: precision_recall_curve gives P and R at each error value
    precision, recall, cuts = precision_recall_curve(val_labels, val_errors)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1]))  # the last P/R pair has no threshold
    # flag where error >= cut; we flag where error > threshold, so step just below the cut
    return float(np.nextafter(cuts[best], -np.inf))


def flags(errors: np.ndarray, threshold_value: float) -> np.ndarray:
    return (np.asarray(errors) > threshold_value).astype(np.int64)


def metrics(errors: np.ndarray, labels: np.ndarray, threshold_value: float) -> dict:
    """ROC-AUC, PR-AUC and the threshold's precision, recall, F1 and confusion matrix."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = flags(errors, threshold_value)
    both = len(np.unique(labels)) == 2
    tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    return {
        "roc_auc": float(roc_auc_score(labels, errors)) if both else float("nan"),
        "pr_auc": float(average_precision_score(labels, errors)) if both else float("nan"),
        "precision": float(precision_score(labels, predicted, zero_division=0)),
        "recall": float(recall_score(labels, predicted, zero_division=0)),
        "f1": float(f1_score(labels, predicted, zero_division=0)),
        "accuracy": float((predicted == labels).mean()),
        "tn": int(tn),
        "fp": int(fp),
        "fn": int(fn),
        "tp": int(tp),
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
