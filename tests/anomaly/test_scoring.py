"""Threshold rules, flags, metrics and point scores give the right numbers, edges included.

Each rule is checked against a hand-worked answer or against numpy / scikit-learn computing the
same thing another way: best-F1 against a brute-force scan with exact fractions and against
scikit-learn's precision-recall curve, metrics against scikit-learn on degenerate label sets
(one class, no flags) where a wrong zero-division choice would show.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from shared.anomaly.scoring import RULES, flags, metrics, point_scores, rule_named, threshold
from shared.errors import UserInputError

ERRORS = np.array([0.1, 0.2, 0.3, 0.4, 1.0])


# --- the simple rules: defaults, parameters, precision ------------------------------------
def test_rules_are_looked_up_by_key_and_unknown_keys_are_named():
    assert rule_named("percentile") is RULES["percentile"]
    assert (
        [r.key for r in RULES.values()]
        == list(RULES)
        == ["mean_std", "max", "percentile", "best_f1"]
    )
    with pytest.raises(UserInputError, match=r"Unknown threshold rule 'median'; choose one of \["):
        rule_named("median")


def test_each_rule_uses_its_own_default_parameter():
    # k = 1: mean 0.4 + population std sqrt(0.1); contamination 5%: the 95th percentile,
    # linear between 0.4 (75%) and 1.0 (100%): 0.4 + 0.8 * 0.6 = 0.88
    assert threshold("mean_std", ERRORS) == pytest.approx(0.4 + np.sqrt(0.1), abs=1e-12)
    assert threshold("percentile", ERRORS) == pytest.approx(0.88, abs=1e-12)
    assert threshold("percentile", ERRORS) == threshold("percentile", ERRORS, 0.05)
    assert threshold("mean_std", ERRORS, 0) == pytest.approx(0.4)  # a given 0 is not "default"
    assert threshold("mean_std", ERRORS, -1) == pytest.approx(0.4 - np.sqrt(0.1))
    assert threshold("mean_std", [2.0, 4.0], 3) == pytest.approx(3 + 3 * 1)  # a list, an int k


@pytest.mark.parametrize(
    ("c", "expected"),
    [(0.01, 0.976), (0.25, 0.4), (0.4, 0.3 + 0.4 * 0.1), (0.49, 0.3 + 0.04 * 0.1)],
)  # 1 - c of the way through [0.1, 0.2, 0.3, 0.4, 1.0], a quarter per step
def test_percentile_is_the_top_c_of_the_training_errors(c, expected):
    t = threshold("percentile", ERRORS, c)
    assert t == pytest.approx(expected, abs=1e-12)
    assert t == pytest.approx(np.percentile(ERRORS, 100 * (1 - c)), abs=1e-12)


@pytest.mark.parametrize("c", [0, 0.5, 0.9, 1, -0.1])
def test_contamination_outside_the_open_interval_is_refused(c):
    with pytest.raises(UserInputError, match=r"contamination rate must be between 0 and 0.5 \(got"):
        threshold("percentile", ERRORS, c)


def test_thresholds_of_float32_errors_are_computed_in_float64():
    # the model scores in float32; the rules must not lose precision on top of that
    errors32 = np.random.default_rng(3).gamma(2.0, 0.01, 1001).astype(np.float32)
    as64 = errors32.astype(np.float64)
    assert threshold("mean_std", errors32) == as64.mean() + as64.std()
    assert threshold("percentile", errors32, 0.1) == np.quantile(as64, 0.9)
    assert threshold("max", errors32) == as64.max()
    labels = (errors32 > np.quantile(errors32, 0.8)).astype(int)
    t = threshold("best_f1", errors32, val_errors=errors32, val_labels=labels)
    cut = float(np.min(errors32[labels == 1]))
    assert t < cut and np.nextafter(t, np.inf) == cut  # the float64 just below the cut


# --- best F1 ----------------------------------------------------------------------------------
# Seven validation errors, four anomalies, a tie at 0.8. Flagging everything at or above a cut:
#   cut 0.9: 1 flag, 1 hit -> F1 = 2*1/(1+4) = 0.400    cut 0.5: 5 flags, 3 hits -> 6/9 = 0.667
#   cut 0.8: 3 flags, 2 hits -> 4/7 = 0.571 (tied)     cut 0.3: 6 flags, 3 hits -> 6/10 = 0.600
#   cut 0.6: 4 flags, 3 hits -> 6/8 = 0.750 (best)     cut 0.2: 7 flags, 4 hits -> 8/11 = 0.727
HAND_VAL = np.array([0.9, 0.8, 0.8, 0.6, 0.5, 0.3, 0.2])
HAND_VAL_LABELS = np.array([1, 0, 1, 1, 0, 0, 1])


@pytest.mark.parametrize(
    ("val_errors", "val_labels", "cut"),
    [
        (HAND_VAL, HAND_VAL_LABELS, 0.6),
        (HAND_VAL[::-1], HAND_VAL_LABELS[::-1], 0.6),  # the input's order does not matter
        # flagging everything is best: 1 flag 0 hits (F1 0), 2 flags 1 hit (0.5), 3/2 (0.8)
        ([0.9, 0.1, 0.2], [0, 1, 1], 0.1),
        # the best cut has precision + recall below 1: 1 hit in the top 3 of 20 with 3 anomalies
        # gives 2/6 = 0.333, above the top 15 (4/18) and all 20 (6/23 = 0.261)
        (np.arange(20, 0, -1) / 10, np.isin(np.arange(20), [2, 14, 19]).astype(int), 1.8),
        # a tie across the best line: 0.7 holds an anomaly and a normal sample, both flagged
        ([0.9, 0.7, 0.7, 0.1], [1, 1, 0, 0], 0.7),
        # labels given as booleans and as floats mean the same
        (HAND_VAL, HAND_VAL_LABELS.astype(bool), 0.6),
        (HAND_VAL, HAND_VAL_LABELS.astype(float), 0.6),
    ],
)
def test_best_f1_matches_hand_worked_cuts(val_errors, val_labels, cut):
    t = threshold("best_f1", ERRORS, val_errors=val_errors, val_labels=val_labels)
    assert t < cut and np.nextafter(t, np.inf) == cut  # just below: the cut itself is flagged
    best = max(f1_score(val_labels, np.asarray(val_errors) >= c) for c in np.unique(val_errors))
    assert f1_score(val_labels, flags(val_errors, t)) == pytest.approx(best)


def _exact_best_cut(errors: np.ndarray, labels: np.ndarray) -> tuple[float, Fraction, int]:
    """Brute force in exact arithmetic: F1 of flagging >= cut is 2 tp / (flags + positives)."""
    scores = {
        c: Fraction(
            2 * int(labels[errors >= c].sum()), int((errors >= c).sum()) + int(labels.sum())
        )
        for c in np.unique(errors)
    }
    best = max(scores.values())
    winners = [c for c, f in scores.items() if f == best]
    return max(winners), best, len(winners)


def test_best_f1_agrees_with_brute_force_and_scikit_learn_on_random_splits():
    rng = np.random.default_rng(7)
    checked = 0
    while checked < 60:
        n = int(rng.integers(4, 40))
        labels = (rng.random(n) < rng.uniform(0.1, 0.6)).astype(int)
        if labels.min() == labels.max():
            continue
        # one decimal place: many ties; anomalies score a little higher on average
        errors = np.round(rng.random(n) + labels * rng.uniform(0, 0.5), 1)
        cut, best, n_best = _exact_best_cut(errors, labels)
        t = threshold("best_f1", ERRORS, val_errors=errors, val_labels=labels)
        # ties in F1 are broken towards the highest cut (fewest flags); floats may reorder exact
        # ties, so compare the threshold only where one cut is best
        if n_best == 1:
            assert np.nextafter(t, np.inf) == cut and t < cut
        assert f1_score(labels, errors > t) == pytest.approx(float(best))
        # scikit-learn's curve: F1 at each distinct score, flagged at >= that score
        precision, recall, cuts = precision_recall_curve(labels, errors)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-300)
        assert f1[:-1].max() == pytest.approx(float(best))
        checked += 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"val_errors": HAND_VAL},
        {"val_labels": HAND_VAL_LABELS},
        {"val_errors": HAND_VAL, "val_labels": np.zeros(7, dtype=int)},  # no anomalies
        {"val_errors": HAND_VAL, "val_labels": np.ones(7, dtype=int)},  # no normal samples
    ],
)
def test_best_f1_without_both_classes_is_refused(kwargs):
    with pytest.raises(
        UserInputError,
        match="^The best-F1 rule needs a labelled validation split with both normal samples "
        "and anomalies; this data has none. Pick another threshold rule.$",
    ):
        threshold("best_f1", ERRORS, **kwargs)


# --- flags and metrics ---------------------------------------------------------------------
def test_an_error_equal_to_the_threshold_is_not_flagged():
    out = flags([0.5, np.nextafter(0.5, 1), 0.4, 0.5], 0.5)
    assert out.tolist() == [0, 1, 0, 0] and out.dtype == np.int64


@pytest.mark.parametrize(
    ("errors", "labels", "t", "expected"),
    [
        # no anomalies at all: one false alarm; precision, recall and F1 are 0 rather than
        # undefined, and the AUCs are undefined (NaN)
        ([0.1, 0.2, 0.9, 0.3], [0, 0, 0, 0], 0.5,
         {"tn": 3, "fp": 1, "fn": 0, "tp": 0, "precision": 0, "recall": 0, "f1": 0,
          "accuracy": 0.75, "n": 4, "anomalies": 0}),
        # only anomalies, none flagged: no flags means precision 0, not 1
        ([0.1, 0.2, 0.3], [1, 1, 1], 0.5,
         {"tn": 0, "fp": 0, "fn": 3, "tp": 0, "precision": 0, "recall": 0, "f1": 0,
          "accuracy": 0.0, "n": 3, "anomalies": 3}),
        # one class, one decision: all normal and unflagged, all anomalous and flagged
        ([0.1, 0.2, 0.3], [0, 0, 0], 0.5,
         {"tn": 3, "fp": 0, "fn": 0, "tp": 0, "precision": 0, "recall": 0, "f1": 0,
          "accuracy": 1.0, "n": 3, "anomalies": 0}),
        ([0.6, 0.7, 0.9], [1, 1, 1], 0.5,
         {"tn": 0, "fp": 0, "fn": 0, "tp": 3, "precision": 1, "recall": 1, "f1": 1,
          "accuracy": 1.0, "n": 3, "anomalies": 3}),
        # only anomalies, two of three flagged
        ([0.1, 0.7, 0.9], [1, 1, 1], 0.5,
         {"tn": 0, "fp": 0, "fn": 1, "tp": 2, "precision": 1, "recall": 2 / 3, "f1": 0.8,
          "accuracy": 2 / 3, "n": 3, "anomalies": 3}),
    ],
)  # fmt: skip
def test_metrics_on_one_class_have_no_auc_and_count_right(errors, labels, t, expected):
    with warnings.catch_warnings():  # undefined scores are decided here, not warned about in
        warnings.simplefilter("error")  # the app's log at every move of the slider
        m = metrics(np.array(errors), np.array(labels), t)
    assert np.isnan(m["roc_auc"]) and np.isnan(m["pr_auc"])
    assert m["threshold"] == t
    for key, value in expected.items():
        assert m[key] == pytest.approx(value), key


def test_metrics_with_nothing_flagged_give_zero_precision_and_full_aucs():
    errors, labels = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = metrics(errors, labels, 1.0)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (0, 0, 2, 2)
    assert (m["precision"], m["recall"], m["f1"], m["accuracy"]) == (0, 0, 0, 0.5)
    assert m["roc_auc"] == 1.0 and m["pr_auc"] == 1.0  # the ranking is perfect all the same
    assert set(m) == {
        "roc_auc", "pr_auc", "precision", "recall", "f1", "accuracy", "tn", "fp", "fn", "tp",
        "threshold", "n", "anomalies",
    }  # fmt: skip


def test_metrics_accept_boolean_labels():
    errors = np.array([0.9, 0.8, 0.3, 0.2, 0.6])
    as_bool, as_int = np.array([True, False, True, False, False]), np.array([1, 0, 1, 0, 0])
    m = metrics(errors, as_bool, 0.5)
    assert m == metrics(errors, as_int, 0.5)
    assert (m["tp"], m["fp"], m["fn"], m["tn"], m["anomalies"]) == (1, 2, 1, 1, 2)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(as_int, errors))


# --- point scores ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("window_errors", "n_points", "window", "stride", "expected"),
    [
        # windows [0..2] and [2..4]: point 2 takes the larger error; points 5, 6 are uncovered
        ([1.0, 3.0], 7, 3, 2, [1, 1, 3, 3, 3, 0, 0]),
        # a later, smaller error does not lower an earlier larger one
        ([5.0, 1.0, 2.0], 4, 2, 1, [5, 5, 2, 2]),
        # stride longer than the window: gaps between windows stay 0
        ([1.0, 2.0], 8, 2, 4, [1, 1, 0, 0, 2, 2, 0, 0]),
        ([], 3, 2, 1, [0, 0, 0]),
    ],
)
def test_point_scores_take_the_worst_window_covering_each_point(
    window_errors, n_points, window, stride, expected
):
    out = point_scores(np.array(window_errors), n_points, window, stride)
    assert out.tolist() == expected and out.dtype == np.float64


# --- thresholds and metrics, by hand ---------------------------------------------------------
def test_threshold_rules_match_hand_computation():
    # mean 0.4, population std sqrt(((.3)^2+(.2)^2+(.1)^2+0+(.6)^2)/5) = sqrt(0.1) = 0.3162
    assert threshold("mean_std", ERRORS) == pytest.approx(0.4 + 0.31623, abs=1e-5)
    assert threshold("mean_std", ERRORS, 2.0) == pytest.approx(0.4 + 2 * 0.31623, abs=1e-5)
    assert threshold("max", ERRORS) == 1.0
    # 80th percentile with linear interpolation: between 0.4 (75%) and 1.0 (100%)
    assert threshold("percentile", ERRORS, 0.2) == pytest.approx(0.52)
    val_errors, val_labels = np.array([0.1, 0.2, 0.35, 0.5, 0.6]), np.array([0, 0, 0, 1, 1])
    cut = threshold("best_f1", ERRORS, val_errors=val_errors, val_labels=val_labels)
    assert 0.35 <= cut < 0.5
    assert flags(val_errors, cut).tolist() == [0, 0, 0, 1, 1]


def test_best_f1_needs_labels_and_rules_are_named():
    with pytest.raises(UserInputError, match="labelled validation split"):
        threshold("best_f1", ERRORS)
    with pytest.raises(UserInputError, match="Unknown threshold rule"):
        threshold("median", ERRORS)
    with pytest.raises(UserInputError, match="contamination"):
        threshold("percentile", ERRORS, 0.9)


def test_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = (rng.random(200) < 0.2).astype(int)
    errors = rng.random(200) + labels * 0.5
    m = metrics(errors, labels, 0.9)
    predicted = (errors > 0.9).astype(int)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(labels, errors))
    assert m["pr_auc"] == pytest.approx(average_precision_score(labels, errors))
    assert m["f1"] == pytest.approx(f1_score(labels, predicted))
    assert m["tp"] == int(((predicted == 1) & (labels == 1)).sum())
    assert m["tp"] + m["fp"] + m["tn"] + m["fn"] == 200
