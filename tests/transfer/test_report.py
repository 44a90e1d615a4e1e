"""Tables, curves and the lesson drawn from the metrics: shared/transfer/report.py."""

from __future__ import annotations

import pytest

from shared.transfer import report

METRICS = {
    "full": {
        "accuracy": {"scratch": 0.9, "head_only": 0.8, "fine_tuned": 0.95},
        "seeds": {"scratch": [0.9, 0.9], "head_only": [0.7, 0.9], "fine_tuned": [0.95, 0.95]},
        "train_per_class": 108,
    },
    "few_label": {
        "5": {
            "seeds": [
                {"scratch": 0.5, "head_only": 0.7, "fine_tuned": 0.8},
                {"scratch": 0.6, "head_only": 0.9, "fine_tuned": 0.9},
            ]
        }
    },
}


def test_label_curve_has_each_method_at_each_size_with_its_spread():
    curve = report.label_curve(METRICS).set_index(["labels_per_class", "method"])
    assert len(curve) == 6
    five = curve.loc[5]
    assert five.loc["from scratch", "accuracy"] == pytest.approx(0.55)
    assert five.loc["head only", "accuracy"] == pytest.approx(0.8)
    assert (five.loc["head only", "low"], five.loc["head only", "high"]) == (0.7, 0.9)
    assert curve.loc[(108, "head only"), "accuracy"] == pytest.approx(0.8)
    assert (curve["seeds"] == 2).all()


def test_comparison_table_and_lesson_read_the_same_numbers():
    table = report.comparison_table(METRICS)
    assert table["labels per class"].tolist() == ["5", "108 (full set)"]
    assert table.iloc[0]["fine-tuned"] == "85.0% (80.0% to 90.0%)"
    assert table.iloc[0]["from scratch"] == "55.0% (50.0% to 60.0%)"
    assert "85.0% against 55.0% from scratch: 30.0 points ahead" in report.lesson(METRICS)
    behind = {
        "few_label": {"5": {"seeds": [{"scratch": 0.9, "head_only": 0.5, "fine_tuned": 0.8}]}}
    }
    assert "10.0 points behind" in report.lesson(behind)
    assert report.comparison_table({}).empty and report.lesson({}) == ""
