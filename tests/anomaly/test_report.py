"""The Detect view is right, not only well-formed: one threshold decides every part of it.

At the slider's minimum, maximum and a point between, the flagged count, the table, the CSV,
the confusion matrix, the histogram's line and the series highlights must all agree. Metrics are
checked against scikit-learn and against hand-worked numbers where precision differs from
recall and fp from fn. The quick model must rank a planted anomaly first.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
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

from shared.anomaly import report
from shared.anomaly.builtin import load_builtin
from shared.anomaly.data import window_labels, windows
from shared.anomaly.model import Autoencoder, AutoencoderConfig, load_autoencoder
from shared.anomaly.plots import error_histogram, sample_lines
from shared.anomaly.report import (
    FLAGGED_SHOWN,
    SCORES_TTL,
    Scored,
    compare_rules,
    expectation,
    sample,
    score,
    scores_file,
    summarize,
    view,
)
from shared.anomaly.scoring import RULES, metrics, threshold
from shared.anomaly.train import TrainSettings, plan_budget, train_autoencoder
from shared.anomaly.upload import task_from_frame
from shared.errors import UserInputError

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

    from tests.training.test_anomaly import table_csv

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
    assert (tiny.batch_size, tiny.steps) == (25, s.min_steps)  # full batches, min_steps of them
    assert (small.batch_size, small.steps) == (32, max(s.min_steps, 10 * (300 // 32)))
    assert (large.batch_size, large.steps) == (256, 10 * (8_800 // 256))  # bigger batches
    assert plan_budget(2_000, s).steps == 10 * (2_000 // 64) > s.min_steps  # 10 passes
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


# --- the report's functions on hand-made scores: every number worked out here ------------------
def tiny_model(n_features: int = 2, **config) -> Autoencoder:
    """An untrained autoencoder: enough for the config the report reads and a real reconstruct."""
    torch.manual_seed(0)
    config = {"mean": [0.0] * n_features, "std": [1.0] * n_features} | config
    return Autoencoder(AutoencoderConfig(n_features=n_features, **config))


# a series of 7 points cut into 3 windows of 3, 2 points apart: [0..2], [2..4], [4..6]
SERIES = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=np.float32)
POINT_LABELS = np.array([0, 0, 0, 1, 0, 0, 0])
SERIES_ERRORS = np.array([0.2, 0.91234567, 0.5])


def series_scored() -> Scored:
    model = tiny_model(3, kind="series", window=3, stride=2)
    x = SERIES[[[0, 1, 2], [2, 3, 4], [4, 5, 6]]]
    return Scored("s.csv", x, SERIES_ERRORS, np.array([0, 1, 0]), model, SERIES, POINT_LABELS, 3, 2)


def test_the_view_of_a_series_at_a_threshold_equal_to_an_error(tmp_path):
    s = series_scored()
    v = view(s, 0.5, csv=tmp_path / "rows.csv")  # 0.5 is window 2's error: not above, not flagged
    assert (v.threshold, v.n_flagged, v.csv) == (0.5, 1, tmp_path / "rows.csv")
    assert v.count == "**1 of 3** samples flagged above 0.5"
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert list(rows.columns) == ["row", "first point", "error", "flagged", "label"]
    assert rows.to_dict("list") == {
        "row": [0, 1, 2], "first point": [0, 2, 4], "error": SERIES_ERRORS.tolist(),
        "flagged": [0, 1, 0], "label": [0, 1, 0],
    }  # fmt: skip
    assert v.flagged.to_dict("list") == {
        "row": [1], "first point": [2], "error": [0.91235], "flagged": [1], "label": [1]
    }  # fmt: skip
    assert v.metrics == metrics(SERIES_ERRORS, np.array([0, 1, 0]), 0.5)
    assert (v.metrics["tp"], v.metrics["fp"], v.metrics["fn"], v.metrics["tn"]) == (1, 0, 0, 2)
    assert v.report == (
        "Anomaly is the positive class. ROC-AUC **1.000**, PR-AUC **1.000**; at this threshold "
        "precision **1.000**, recall **1.000**, F1 **1.000**."
    )
    assert v.histogram.equals(error_histogram(SERIES_ERRORS, np.array([0, 1, 0])))
    # each point scores its worst covering window (0.2, 0.2, 0.91, 0.91, 0.91, 0.5, 0.5): only
    # points 2..4 lie above 0.5; the point labels are the series' own
    assert v.series.to_dict("list") == {
        "time step": list(range(7)), "value": SERIES.tolist(),
        "flagged": [False, False, True, True, True, False, False],
        "labelled": POINT_LABELS.tolist(),
    }  # fmt: skip


def test_the_view_without_labels_says_so_and_flags_worst_first(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "SCORES_DIR", tmp_path)
    errors = np.array([0.3, 0.7, 0.1, 0.9, 0.5])
    s = Scored("rows.csv", errors[:, None], errors, None, tiny_model(1))
    v = view(s, 0.4)
    assert v.csv.parent == tmp_path and v.csv.exists()  # a fresh file in the app's folder
    assert v.count == "**3 of 5** samples flagged above 0.4"
    assert v.report == "No labels: metrics need a label column." and v.metrics is None
    assert v.confusion.to_dict("list") == {
        "confusion matrix": ["needs a label column (1 = anomaly)"]
    }
    assert v.flagged.to_dict("list") == {
        "row": [3, 1, 4], "error": [0.9, 0.7, 0.5], "flagged": [1, 1, 1]
    }  # fmt: skip
    assert list(pd.read_csv(v.csv).columns) == ["row", "error", "flagged"]
    assert v.series is None
    assert v.histogram.equals(error_histogram(errors, None))


def test_the_flagged_table_shows_the_worst_rows_up_to_its_cap(tmp_path):
    errors = np.random.default_rng(5).permutation(np.arange(FLAGGED_SHOWN + 50) / 1000 + 1)
    s = Scored("many", errors[:, None], errors, None, tiny_model(1))
    v = view(s, 0.5, csv=tmp_path / "rows.csv")
    assert v.n_flagged == FLAGGED_SHOWN + 50 and len(v.flagged) == FLAGGED_SHOWN == 200
    assert v.flagged["row"].tolist() == np.argsort(-errors)[:FLAGGED_SHOWN].tolist()
    assert len(pd.read_csv(tmp_path / "rows.csv")) == FLAGGED_SHOWN + 50  # the CSV has them all


def test_old_score_files_are_pruned_and_fresh_names_are_unique(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "SCORES_DIR", tmp_path)
    now = time.time()
    ages = {"scores-old.csv": SCORES_TTL + 5, "scores-new.csv": SCORES_TTL - 5, "other.csv": 10**6}
    for name, age in ages.items():
        (tmp_path / name).write_text("row\n")
        os.utime(tmp_path / name, (now - age, now - age))
    first, second = scores_file(), scores_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv", "scores-new.csv"]
    for path in (first, second):
        assert path.parent == tmp_path and re.fullmatch(r"scores-[0-9a-f]{12}\.csv", path.name)
        assert not path.exists()
    assert first != second


def test_pruning_survives_another_worker_deleting_the_same_old_file(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "SCORES_DIR", tmp_path)
    old = tmp_path / "scores-old.csv"
    old.write_text("row\n")
    os.utime(old, (time.time() - 2 * SCORES_TTL,) * 2)
    unlink = Path.unlink

    def raced(path: Path, missing_ok: bool = False) -> None:
        unlink(path)  # the other worker gets there first
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", raced)
    assert scores_file().parent == tmp_path and not old.exists()


RULE_THRESHOLDS = {"mean_std": 0.45, "max": 0.95, "percentile": 0.75, "best_f1": 0.55}
HAND_RULES = {  # HAND_ERRORS / HAND_LABELS above, flagged above each rule's threshold
    # 0.45: 0.9 0.8 0.7 0.6 -> tp 3, fp 1; precision 3/4, recall 3/5, F1 2/3
    "mean_std": {"flagged": 4, "precision": 0.75, "recall": 0.6, "f1": 0.667},
    "max": {"flagged": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0},
    # 0.75: 0.9 0.8 -> tp 2; precision 1, recall 2/5, F1 4/7
    "percentile": {"flagged": 2, "precision": 1.0, "recall": 0.4, "f1": 0.571},
    "best_f1": {"flagged": 4, "precision": 0.75, "recall": 0.6, "f1": 0.667},
}


@pytest.mark.parametrize("labelled", [True, False])
def test_compare_rules_applies_each_saved_threshold(labelled):
    model = tiny_model(1, threshold_rule="best_f1", rule_thresholds=RULE_THRESHOLDS)
    s = Scored("hand", HAND_ERRORS[:, None], HAND_ERRORS, HAND_LABELS if labelled else None, model)
    table, why = compare_rules(s)
    expected = [
        {"rule": RULES[key].label, "threshold": value}
        | ({k: v for k, v in HAND_RULES[key].items() if labelled or k == "flagged"})
        | {"in use": "yes" if key == "best_f1" else ""}
        for key, value in RULE_THRESHOLDS.items()
    ]
    assert table.to_dict("records") == expected
    assert list(table.columns) == list(expected[0])
    # the explanation, sentence by sentence (the joins between its source lines included)
    assert why.startswith("The TensorFlow tutorial's mean + 1 std assumes the training errors are")
    for phrase in (
        "are bell-shaped, so that about one normal sample in six lies above it. Reconstruction",
        "errors have a long right tail, and where anomalies are rare that line still cuts into the",
        "normal bulk: many false alarms. With labelled validation data, best F1 picks the line",
        "that separates the labelled anomalies from the normal samples best; without labels the",
        "tutorial's rule (or a contamination rate you know) is what there is.",
    ):
        assert phrase in why
    assert why.endswith("is what there is.")


def test_compare_rules_without_saved_thresholds_says_why():
    s = Scored("hand", HAND_ERRORS[:, None], HAND_ERRORS, HAND_LABELS, tiny_model(1))
    table, why = compare_rules(s)
    assert table.empty and why == "This model was saved without the other rules' thresholds."


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"threshold": 0.123456}, "Threshold 0.1235, chosen by '{label}'."),
        (
            {"threshold": 0.5, "expected_flag_rate": 0.25},
            "Threshold 0.5, chosen by '{label}'. It flagged 25.0% of the training samples, so "
            "expect about **3 of these 12** flagged if this data looks like those; more where "
            "it holds more anomalies.",
        ),
        (  # a model that flagged nothing where it was set still says what to expect
            {"threshold": 2.0, "rule_thresholds": {"mean_std": 2.0}},
            "Threshold 2, chosen by '{label}'. It flagged 0.0% of the training samples, so "
            "expect about **0 of these 12** flagged",
        ),
        (
            {"threshold": 0.5, "threshold_rule": "best_f1", "expected_flag_rate": 0.5},
            "It flagged 50.0% of the labelled validation samples, so expect about "
            "**6 of these 12**",
        ),
    ],
)
def test_expectation_scales_the_flag_rate_to_this_data(config, said):
    model = tiny_model(1, **config)
    s = Scored("hand", HAND_ERRORS[:, None], HAND_ERRORS, None, model)
    text = expectation(s)
    assert said.format(label=RULES[model.config.threshold_rule].label) in text
    assert text.startswith(f"Threshold {model.config.threshold:.4g}, chosen by")


def test_sample_sets_one_row_beside_its_reconstruction():
    model = tiny_model(3)
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    s = Scored("rows", x, model.score(x), None, model)
    for row in (0, 3, "2"):
        lines = sample(s, row)
        i = int(row)
        assert lines.equals(sample_lines(x[i], model.reconstruct(x[i : i + 1])[0]))
        np.testing.assert_allclose(lines[lines.columns[1]].iloc[:3], x[i])  # the input itself
    for row in (-1, 4):
        with pytest.raises(UserInputError, match=rf"^Row {row} does not exist; pick 0 to 3\.$"):
            sample(s, row)
    with pytest.raises(UserInputError, match=r"^Score some data first\.$"):
        sample(None, 0)


def test_summarize_lists_the_worst_flagged_rows_and_the_metrics():
    rng = np.random.default_rng(0)
    errors = np.round(rng.random(60), 1) + 0.0123456789  # many ties: their rows stay in order
    labels = (errors > 0.7).astype(int)
    labels[:3] = 1 - labels[:3]
    model = tiny_model(1, threshold=0.45, threshold_rule="percentile", dataset="hand")
    s = Scored("hand.csv", errors[:, None], errors, labels, model)
    answer = summarize(s)
    order = sorted(range(60), key=lambda i: (-errors[i], i))[:20]  # 20 by default
    assert answer["flagged_rows"] == [{"row": i, "error": round(errors[i], 6)} for i in order]
    assert answer["flagged_rows"][0]["error"] == 1.012346  # six decimals
    m = metrics(errors, labels, 0.45)
    keys = ("roc_auc", "pr_auc", "precision", "recall", "f1", "tp", "fp", "fn")
    assert answer == {
        "data": "hand.csv", "model": model.describe(), "samples": 60, "threshold": 0.45,
        "threshold_rule": RULES["percentile"].label, "flagged": int((errors > 0.45).sum()),
        "flagged_rows": answer["flagged_rows"],
        "metrics": {k: m[k] for k in keys},
    }  # fmt: skip
    # only flagged rows are listed, even among the worst few
    few = summarize(s, worst=1000)
    assert len(few["flagged_rows"]) == answer["flagged"] and "metrics" in few


def test_summarize_of_a_series_names_each_window_by_its_first_point():
    s = series_scored()
    s.model.config.threshold = 0.3
    answer = summarize(s)
    assert answer["flagged_rows"] == [
        {"row": 1, "error": 0.912346, "first point": 2},
        {"row": 2, "error": 0.5, "first point": 4},
    ]
    unlabelled = summarize(Scored("u", s.x, s.errors, None, s.model))
    assert "metrics" not in unlabelled and unlabelled["flagged"] == 2


# --- score: what gets scored, from an upload or a built-in --------------------------------------
def test_score_reads_an_uploaded_table_with_or_without_labels():
    model = tiny_model(2)
    frame = pd.DataFrame({"a": np.arange(25.0), "b": np.arange(25.0) ** 2, "y": [0] * 20 + [1] * 5})
    s = score(model, uploaded=("t.csv", frame), label_col="y")
    x = frame[["a", "b"]].to_numpy(np.float32)
    np.testing.assert_array_equal(s.x, x)
    np.testing.assert_array_equal(s.errors, model.score(x))
    assert s.labels.tolist() == frame["y"].tolist() and s.name == "t.csv" and s.model is model
    assert s.series is None and s.point_labels is None and (s.window, s.stride) == (0, 1)
    assert list(frame.columns) == ["a", "b", "y"]  # the caller's frame is left alone
    # without a label column, every numeric column is a feature: here the model wants two
    unlabelled = score(model, uploaded=("t.csv", frame.drop(columns="y")))
    assert unlabelled.labels is None and len(unlabelled.errors) == 25
    # a row with a missing value is refused unless dropping is asked for
    gap = frame.drop(columns="y").astype(float)
    gap.iloc[4, 0] = np.nan
    with pytest.raises(UserInputError, match="1 row"):
        score(model, uploaded=("t.csv", gap))
    dropped = score(model, uploaded=("t.csv", gap), drop_missing=True)
    np.testing.assert_array_equal(dropped.x, np.delete(x, 4, axis=0))


def test_score_windows_an_uploaded_series_like_the_model_was_trained():
    model = tiny_model(4, kind="series", window=4, stride=3)
    values = np.sin(np.arange(30) / 3)
    points = (np.arange(30) == 12).astype(int)
    s = score(model, uploaded=("s.csv", pd.DataFrame({"v": values, "y": points})), label_col="y")
    np.testing.assert_array_equal(s.x, windows(values, 4, 3))
    assert s.labels.tolist() == window_labels(points, 4, 3).tolist()
    assert s.labels.tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0]  # windows from 9 and 12 hold 12
    np.testing.assert_array_equal(s.series, values.astype(np.float32))
    assert s.point_labels.tolist() == points.tolist() and (s.window, s.stride) == (4, 3)
    np.testing.assert_array_equal(s.errors, model.score(windows(values, 4, 3)))
    unlabelled = score(model, uploaded=("s.csv", pd.DataFrame({"v": values})))
    assert unlabelled.labels is None and unlabelled.point_labels is None
    np.testing.assert_array_equal(unlabelled.x, s.x)
    with pytest.raises(
        UserInputError,
        match=r"^This model scores one series column \(windows of 4 points\); "
        r"the file has 2 numeric columns\.$",
    ):
        score(model, uploaded=("s.csv", pd.DataFrame({"v": values, "w": values})))


@pytest.mark.parametrize(
    ("dataset", "digit", "name"),
    [("breast_cancer", 0, "breast_cancer"), ("digits", 0, "digits (normal = 0)"),
     ("digits", "3", "digits (normal = 3)")],
)  # fmt: skip
def test_score_of_a_builtin_table_is_its_test_split(dataset, digit, name):
    data = load_builtin(dataset, int(digit))
    model = tiny_model(data.n_features)
    s = score(model, dataset, digit) if digit != 0 else score(model, dataset)
    assert s.name == name
    np.testing.assert_array_equal(s.x, data.test)
    np.testing.assert_array_equal(s.labels, data.test_labels)
    np.testing.assert_array_equal(s.errors, model.score(data.test))
    assert s.series is None


def test_score_of_a_builtin_series_uses_the_models_window_and_stride():
    model = tiny_model(40, kind="series", window=40, stride=25)
    s = score(model)  # ECG by default
    data = load_builtin("ecg", window=40, stride=25)
    assert s.name == "ecg" and s.x.shape[1] == 40 and (s.window, s.stride) == (40, 25)
    np.testing.assert_array_equal(s.x, data.test)
    np.testing.assert_array_equal(s.labels, data.test_labels)
    np.testing.assert_array_equal(s.series, data.series)
    np.testing.assert_array_equal(s.point_labels, data.point_labels)


def test_describe_model_lists_every_layer_and_states_the_threshold_and_metrics():
    model = load_autoencoder(quick_model("anomaly"))
    history = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.6}, {"epoch": 2, "train_loss": 0.4}]
    metrics = {"roc_auc": 0.91, "pr_auc": 0.5, "precision": 0.25, "recall": 0.75, "f1": 0.375}
    layers, curves, text, config = report.describe_model(model, history, metrics)
    assert layers["parameters"].sum() == sum(p.numel() for p in model.parameters())
    assert set(layers["part"]) == {"encoder", "decoder"}
    assert f"Threshold {model.config.threshold:.4g}" in text
    assert f"{sum(p.numel() for p in model.parameters()):,} parameters" in text
    assert "roc_auc 0.910, pr_auc 0.500, precision 0.250, recall 0.750, f1 0.375" in text
    assert list(curves["curve"]) == ["train loss", "train loss", "val loss"]
    assert config["n_features"] == model.config.n_features and "mean" not in config
    _, _, without, _ = report.describe_model(model, [], {})
    assert "Test metrics" not in without
