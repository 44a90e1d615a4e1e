"""The detector's metrics as a table: shared/detect/report.py."""

from __future__ import annotations

from shared.detect.report import comparison_table


def result(map_50: float, map_all: float) -> dict:
    return {"map_50": map_50, "map": map_all, "train_seconds": 12.345}


def test_every_method_of_every_setting_is_a_row_in_the_recipes_order():
    full = {"fine_tuned": result(0.9561, 0.61), "scratch": result(0.1, 0.02)}
    full["head_only"] = result(0.9642, 0.6)
    metrics = {
        "full": {"scenes": 1000, "epochs": 5, "results": full},
        "few": {"scenes": 50, "epochs": 30, "results": {"head_only": result(0.532, 0.3)}},
    }
    table = comparison_table(metrics)
    assert table[["training scenes", "method"]].values.tolist() == [
        [1000, "scratch"],
        [1000, "head only"],
        [1000, "fine tuned"],
        [50, "head only"],
    ]
    assert table["mAP@0.5"].tolist() == [0.1, 0.964, 0.956, 0.532]
    assert table["mAP@[.5:.95]"].tolist() == [0.02, 0.6, 0.61, 0.3]
    assert table["train s"].tolist() == [12.3] * 4 and table["epochs"].tolist() == [5, 5, 5, 30]


def test_no_metrics_no_rows():
    assert comparison_table({}).empty
