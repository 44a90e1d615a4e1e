"""The Detect view is right, not only well-formed: one threshold decides every part of it.

At the slider's minimum, maximum and a point between, the flagged count, the table, the CSV,
the confusion matrix, the histogram's line and the series highlights must all agree. Metrics are
checked against scikit-learn and against hand-worked numbers where precision differs from
recall and fp from fn. The quick model must rank a planted anomaly first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import quick_model
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from shared.anomaly.builtin import load_builtin
from shared.anomaly.model import load_autoencoder
from shared.anomaly.report import FLAGGED_SHOWN, Scored, compare_rules, expectation, score, view
from shared.anomaly.scoring import RULES, metrics, threshold
from shared.anomaly.train import TrainSettings, plan_budget, train_autoencoder
from shared.anomaly.upload import task_from_frame

WINDOW, STRIDE = 20, 3


def series_frame() -> pd.DataFrame:
    """A sine of 900 points with two labelled bumps."""
    points = np.sin(np.arange(900) / 5)
    labels = np.zeros(900, dtype=int)
    for start in (300, 700):
        points[start : start + 8] += 2.5
        labels[start : start + 8] = 1
    return pd.DataFrame({"v": points, "y": labels})


@pytest.fixture(scope="module")
def scored() -> Scored:
    frame = series_frame()
    task = task_from_frame(frame, "bumps.csv", "series", "y", WINDOW, STRIDE)
    model = train_autoencoder(task, TrainSettings()).model
    return score(model, uploaded=("bumps.csv", frame), label_col="y")


def slider_points(s: Scored) -> dict[str, float]:
    top = float(max(s.errors.max(), s.model.config.threshold) * 1.05)  # the app's slider max
    middle = float(np.quantile(s.errors, 0.9))  # not the model's own threshold
    assert middle != s.model.config.threshold
    return {"min": 0.0, "middle": middle, "max": top}


@pytest.mark.parametrize("where", ["min", "middle", "max"])
def test_every_part_of_the_view_follows_the_slider(scored, where):
    t = slider_points(scored)[where]
    v = view(scored, t)
    above = scored.errors > t
    n = int(above.sum())
    assert {"min": n == len(above), "max": n == 0, "middle": 0 < n < len(above)}[where]
    assert v.n_flagged == n and v.count.startswith(f"**{n:,} of {len(above):,}**")
    # the table: the n flagged rows, worst first, at most FLAGGED_SHOWN of them
    assert len(v.flagged) == min(n, FLAGGED_SHOWN)
    assert (v.flagged["flagged"] == 1).all() and (v.flagged["error"] > t - 1e-5).all()
    worst = np.sort(scored.errors[above])[::-1][: len(v.flagged)]
    np.testing.assert_allclose(v.flagged["error"], worst, atol=1e-5)  # shown to 5 decimals
    # the CSV: every row, flagged exactly where the error is above the threshold
    rows = pd.read_csv(v.csv)
    assert len(rows) == len(above) and rows["flagged"].sum() == n
    np.testing.assert_array_equal(rows["flagged"].to_numpy(), above.astype(int))
    # the confusion matrix and metrics
    assert v.metrics["tp"] + v.metrics["fp"] == n
    assert v.confusion["predicted anomaly"].sum() == n
    assert v.metrics["threshold"] == t
    # the histogram counts every error once, whatever the threshold
    assert v.histogram["samples"].sum() == len(scored.errors)
    # the series: the flagged points are exactly those inside a flagged window (900 points:
    # under the display budget, so every point is there)
    covered = np.zeros(len(scored.series), dtype=bool)
    for first in rows.loc[rows["flagged"] == 1, "first point"]:
        covered[first : first + WINDOW] = True
    np.testing.assert_array_equal(v.series["time step"], np.arange(len(scored.series)))
    np.testing.assert_array_equal(v.series["flagged"], covered)
    np.testing.assert_array_equal(v.series["value"], scored.series)
    np.testing.assert_array_equal(v.series["labelled"], scored.point_labels)


HAND_ERRORS = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.6, 0.45, 0.2, 0.1, 0.35, 0.25, 0.15])
HAND_LABELS = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
# at 0.5: anomalies 0.9, 0.8, 0.7 flagged (tp 3), 0.4, 0.3 missed (fn 2); normal 0.6 flagged
# (fp 1), six below (tn 6). Precision 3/4, recall 3/5, F1 2/3, accuracy 9/12. ROC-AUC: of the
# 35 (anomaly, normal) pairs, the anomaly scores higher in 7+7+7+5+4 = 30.
HAND = {
    "tp": 3, "fp": 1, "fn": 2, "tn": 6, "precision": 0.75, "recall": 0.6, "f1": 2 / 3,
    "accuracy": 0.75, "roc_auc": 30 / 35, "n": 12, "anomalies": 5, "threshold": 0.5,
}  # fmt: skip


def sklearn_metrics(errors, labels, t) -> dict:
    predicted = (errors > t).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": precision_score(labels, predicted), "recall": recall_score(labels, predicted),
        "f1": f1_score(labels, predicted), "accuracy": accuracy_score(labels, predicted),
        "roc_auc": roc_auc_score(labels, errors),
        "pr_auc": average_precision_score(labels, errors),
    }  # fmt: skip


def test_metrics_match_hand_worked_numbers_and_scikit_learn():
    m = metrics(HAND_ERRORS, HAND_LABELS, 0.5)
    for key, value in HAND.items():
        assert m[key] == pytest.approx(value), key
    for key, value in sklearn_metrics(HAND_ERRORS, HAND_LABELS, 0.5).items():
        assert m[key] == pytest.approx(value), key


def test_the_view_shows_those_numbers():
    s = Scored("hand", HAND_ERRORS[:, None], HAND_ERRORS, HAND_LABELS, model=None)
    v = view(s, 0.5)
    assert v.count.startswith("**4 of 12**")
    assert (
        "ROC-AUC **0.857**, PR-AUC **"
        f"{average_precision_score(HAND_LABELS, HAND_ERRORS):.3f}**; at this threshold "
        "precision **0.750**, recall **0.600**, F1 **0.667**."
    ) in v.report
    assert v.confusion.to_dict("list") == {
        "": ["actual normal", "actual anomaly"],
        "predicted normal": [6, 2],
        "predicted anomaly": [1, 3],
    }


def test_best_f1_threshold_is_the_best_on_the_validation_split():
    rng = np.random.default_rng(1)
    labels = (rng.random(300) < 0.15).astype(int)
    errors = rng.gamma(2.0, 1.0, 300) + 1.5 * labels
    t = threshold("best_f1", errors, val_errors=errors, val_labels=labels)
    best = max(f1_score(labels, errors >= cut) for cut in np.unique(errors))
    assert f1_score(labels, errors > t) == pytest.approx(best)


def test_metrics_json_agrees_with_scikit_learn(tmp_path):
    import json
    import subprocess
    import sys

    from conftest import REPO
    from test_anomaly_cli import table_csv

    path, out = table_csv(tmp_path), tmp_path / "m"
    subprocess.run(
        [sys.executable, "-m", "training.anomaly", "--quick", "--csv", str(path),
         "--label-col", "label", "--threshold-rule", "percentile", "--out", str(out)],
        check=True, cwd=REPO, capture_output=True,
    )  # fmt: skip
    saved = json.loads((out / "metrics.json").read_text())["test"]
    model = load_autoencoder(out)
    task = task_from_frame(pd.read_csv(path), "rows.csv", label_col="label")  # the same split
    errors = model.score(task.test)
    assert saved["threshold"] == model.config.threshold
    for key, value in sklearn_metrics(errors, task.test_labels, saved["threshold"]).items():
        assert saved[key] == pytest.approx(value, abs=1e-6), key


def test_the_quick_model_ranks_a_planted_anomaly_first():
    model = load_autoencoder(quick_model("anomaly"))
    data = load_builtin("ecg", window=model.config.window, stride=model.config.stride)
    normal = data.test[data.test_labels == 0][:400].copy()
    planted = normal[123].copy()
    planted[80:120] = planted.max()  # a 40-point plateau where a heartbeat should be
    rows = np.vstack([normal[:123], planted[None], normal[124:]])
    errors = model.score(rows)
    assert int(np.argmax(errors)) == 123
    assert errors[123] > 2 * np.sort(errors)[-2]  # not by a whisker


def test_the_budget_follows_the_number_of_samples():
    s = TrainSettings()
    tiny, small, large = plan_budget(25, s), plan_budget(300, s), plan_budget(8_800, s)
    assert (tiny.batch_size, tiny.steps) == (25, s.min_steps)  # full batches, at least 10 steps
    assert (small.batch_size, small.steps) == (32, 10 * (300 // 32))  # 10 passes
    assert (large.batch_size, large.steps) == (256, 10 * (8_800 // 256))  # bigger batches
    assert plan_budget(10**6, s).steps == s.max_steps
    assert plan_budget(300, TrainSettings(epochs=3)).steps == 3 * (300 // 32)
    for b in (tiny, small, large):
        assert b.steps_per_check >= min(10, b.steps) and b.rounds <= s.checks


def test_small_sets_keep_every_sample_and_large_ones_validate():
    small = train_autoencoder(load_builtin("breast_cancer"), TrainSettings())
    assert "val_loss" not in small.history[0]  # 17 held out would be noise: none are
    large = train_autoencoder(load_builtin("ecg", stride=4), TrainSettings())
    assert "val_loss" in large.history[0]


def test_rules_compared_and_flags_expected(scored):
    c = scored.model.config
    assert c.threshold_rule == "mean_std"  # an uploaded series has no validation split
    table, why = compare_rules(scored)
    assert list(table["rule"]) == [RULES[k].label for k in c.rule_thresholds]
    for key, row in zip(c.rule_thresholds, table.to_dict("records"), strict=True):
        assert row["flagged"] == int((scored.errors > c.rule_thresholds[key]).sum())
        assert row["in use"] == ("yes" if key == "mean_std" else "")
    assert "mean + 1 std" in why and "best F1" in why
    expected = round(c.expected_flag_rate * len(scored.errors))
    assert f"expect about **{expected:,} of these {len(scored.errors):,}**" in expectation(scored)


def test_batches_shuffle_every_row_once_a_pass():
    import torch

    from shared.anomaly.train import Batches

    x = torch.arange(10.0)[:, None]
    batches = list(Batches(x, batch_size=5, steps=6, seed=0))
    assert len(batches) == 6 and all(b.shape == (5, 1) for b in batches)
    passes = [torch.cat(batches[i : i + 2]).flatten().tolist() for i in (0, 2, 4)]
    assert all(sorted(p) == list(range(10)) for p in passes)  # each row once per pass
    assert len({tuple(p) for p in passes}) == 3  # a fresh order each pass


def test_saved_rule_thresholds_are_each_rule_on_the_training_errors():
    data = load_builtin("breast_cancer")
    result = train_autoencoder(data, TrainSettings())
    c, errors = result.model.config, result.train_errors.astype(np.float64)
    assert c.threshold_rule == "best_f1"  # breast cancer has a labelled validation split
    assert c.rule_thresholds["mean_std"] == pytest.approx(errors.mean() + errors.std())
    assert c.rule_thresholds["max"] == pytest.approx(errors.max())
    assert c.rule_thresholds["percentile"] == pytest.approx(np.quantile(errors, 0.95))
    val = result.model.score(data.val)
    assert c.rule_thresholds["best_f1"] == c.threshold
    assert c.threshold == threshold("best_f1", errors, val_errors=val, val_labels=data.val_labels)
    assert c.expected_flag_rate == pytest.approx(np.mean(val > c.threshold))
