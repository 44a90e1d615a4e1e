"""The anomaly app's plot data (shared/anomaly/plots.py) and the figures drawn from it.

The downsampler must keep what a person looks for: every spike (the min and max of each
bucket) and every flagged point, and nothing made up.
"""

from __future__ import annotations

import base64
import json
import sys

import numpy as np
import plotly.graph_objects as go
import pytest
from conftest import REPO
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from shared.anomaly.plots import (
    downsample,
    error_histogram,
    loss_curves,
    roc_pr,
    sample_lines,
    series_points,
)

sys.path.insert(0, str(REPO / "spaces" / "anomaly"))
import charts  # noqa: E402 - the app's own module, beside its app.py


def decoded(value: dict) -> np.ndarray:
    """A typed array (charts.typed) back to its numbers, in its shape."""
    a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return a.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else a


def drawn(fig: dict) -> go.Figure:
    """A figure the app sends, read back through plotly's own checks: a property plotly.js
    does not know, or a value of the wrong kind, is refused here."""
    sent = json.loads(charts.page_data(fig).plot)
    for trace in sent["data"]:  # typed arrays (base64 bytes) back to numbers
        for key, value in trace.items():
            if isinstance(value, dict) and "bdata" in value:
                trace[key] = decoded(value)
    return go.Figure(sent)


def test_a_short_series_is_kept_whole():
    values = np.arange(50.0)
    np.testing.assert_array_equal(downsample(values, max_points=50), np.arange(50))


def test_each_bucket_keeps_its_min_and_max_by_hand():
    # 12 points, 3 buckets of 4: [3 1 4 1] [5 9 2 6] [5 3 5 8]
    values = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=float)
    # bucket 1: min 1 at 1 (first of the two), max 4 at 2; bucket 2: min 2 at 6, max 9 at 5;
    # bucket 3: min 3 at 9, max 8 at 11
    assert downsample(values, max_points=6).tolist() == [1, 2, 5, 6, 9, 11]


def test_flagged_points_are_always_kept_and_spikes_survive():
    rng = np.random.default_rng(0)
    values = rng.normal(size=10_000)
    values[7_321] = 40.0  # one spike
    values[1_234] = -40.0
    keep = np.zeros(10_000, dtype=bool)
    keep[[5, 500, 5_000, 9_999]] = True  # ordinary values, flagged
    idx = downsample(values, keep, max_points=2_000)
    assert len(idx) <= 2_000 + 4 and np.all(np.diff(idx) > 0)  # sorted, unique, in budget
    assert {5, 500, 5_000, 9_999, 7_321, 1_234} <= set(idx.tolist())
    # every bucket's extremes are there: the drawn envelope equals the true one per bucket
    edges = np.linspace(0, 10_000, 1_001).astype(int)
    kept = set(idx.tolist())
    for start, end in zip(edges[:-1], edges[1:], strict=True):
        part = values[start:end]
        assert start + int(np.argmin(part)) in kept and start + int(np.argmax(part)) in kept


def test_series_points_carry_flags_and_labels_of_the_kept_points():
    values = np.sin(np.arange(5_000) / 7)
    flagged = np.zeros(5_000, dtype=bool)
    flagged[3_000:3_050] = True
    labels = np.zeros(5_000, dtype=int)
    labels[2_990:3_040] = 1
    frame = series_points(values, flagged, labels, max_points=500)
    assert len(frame) < 700  # 500 extremes + at most 50 flagged
    assert frame["flagged"].sum() == 50  # all of them, none invented
    idx = frame["time step"].to_numpy()
    np.testing.assert_array_equal(frame["value"], values[idx])
    np.testing.assert_array_equal(frame["labelled"], labels[idx])
    np.testing.assert_array_equal(frame["flagged"], flagged[idx])


def test_histogram_counts_by_hand_and_per_label():
    errors = np.array([0.0, 0.1, 0.1, 0.9, 1.0])
    labels = np.array([0, 0, 0, 1, 1])
    frame = error_histogram(errors, labels, bins=2)  # bins [0, 0.5) and [0.5, 1.0]
    assert frame[["group", "samples"]].values.tolist() == [
        ["normal", 3], ["normal", 0], ["anomaly", 0], ["anomaly", 2],
    ]  # fmt: skip
    assert frame["left"].tolist() == [0.0, 0.5, 0.0, 0.5]
    unlabelled = error_histogram(errors, None, bins=2)
    assert unlabelled["samples"].tolist() == [3, 2] and set(unlabelled["group"]) == {"all samples"}


def test_roc_and_pr_are_scikit_learns_and_named_by_their_areas():
    rng = np.random.default_rng(3)
    labels = (rng.random(400) < 0.2).astype(int)
    errors = rng.gamma(2.0, 1.0, 400) + labels
    roc, pr = roc_pr(errors, labels)
    auc, ap = roc_auc_score(labels, errors), average_precision_score(labels, errors)
    model_roc = roc[roc["curve"] == f"AUC {auc:.3f}"]
    fpr, tpr, _ = roc_curve(labels, errors)
    np.testing.assert_allclose(model_roc["false positive rate"], fpr)
    np.testing.assert_allclose(model_roc["true positive rate"], tpr)
    assert (pr["curve"] == f"AP {ap:.3f}").sum() > 2
    chance = pr[pr["curve"] == "chance"]["precision"]
    assert chance.tolist() == pytest.approx([labels.mean()] * 2)


def test_long_curves_are_thinned_with_both_ends_kept():
    rng = np.random.default_rng(4)
    labels = (rng.random(20_000) < 0.3).astype(int)
    errors = rng.normal(size=20_000) + labels
    roc, pr = roc_pr(errors, labels, max_points=300)
    for frame, x in ((roc, "false positive rate"), (pr, "recall")):
        line = frame[frame["curve"] != "chance"]
        assert len(line) <= 301 and {line[x].min(), line[x].max()} == {0.0, 1.0}


def test_sample_lines_and_loss_curves_are_long_form():
    frame = sample_lines(np.array([1.0, 2.0]), np.array([1.5, 1.0]))
    assert frame.values.tolist() == [
        [0, 1.0, "input"], [1, 2.0, "input"], [0, 1.5, "reconstruction"],
        [1, 1.0, "reconstruction"],
    ]  # fmt: skip
    history = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.7}, {"epoch": 2, "train_loss": 0.3}]
    curves = loss_curves(history)
    assert curves.values.tolist() == [[1, 0.5, "train loss"], [2, 0.3, "train loss"],
                                      [1, 0.7, "val loss"]]  # fmt: skip
    assert list(loss_curves([]).columns) == ["epoch", "loss", "curve"]


def test_the_histogram_draws_its_threshold_and_goes_log_only_for_a_long_tail():
    rng = np.random.default_rng(0)
    errors = np.r_[rng.normal(0.1, 0.01, 5000), rng.uniform(0.3, 0.8, 50)]
    labels = np.r_[np.zeros(5000, dtype=int), np.ones(50, dtype=int)]
    fig = drawn(charts.histogram(error_histogram(errors, labels), 0.2))
    assert fig.layout.yaxis.type == "log"
    (line,) = fig.layout.shapes
    assert (line.x0, line.x1) == (0.2, 0.2)
    assert "threshold 0.2" in fig.layout.annotations[0].text
    assert [bar.name for bar in fig.data] == ["normal", "anomaly"]
    assert sum(sum(bar.y) for bar in fig.data) == 5050
    flat = drawn(charts.histogram(error_histogram(rng.normal(size=200), None), 0.5))
    assert flat.layout.yaxis.type != "log"


def test_the_series_draws_exactly_the_flagged_points():
    values = np.arange(10.0)
    flagged = np.array([0, 0, 1, 1, 0, 0, 0, 0, 0, 1], dtype=bool)
    fig = drawn(charts.series(series_points(values, flagged)))
    line, hits = fig.data  # no labelled trace without labels
    assert list(line.x) == list(range(10)) and list(hits.x) == [2, 3, 9]
    assert list(hits.y) == [2.0, 3.0, 9.0] and fig.layout.title.text == "Series: 3 points flagged"


def test_the_roc_and_pr_figure_has_each_curve_on_its_own_axes():
    rng = np.random.default_rng(2)
    labels = np.r_[np.zeros(300, dtype=int), np.ones(30, dtype=int)]
    errors = np.r_[rng.normal(0, 1, 300), rng.normal(2, 1, 30)]
    fig = drawn(charts.roc_pr(*roc_pr(errors, labels)))
    auc = roc_auc_score(labels, errors)
    names = [(t.name, t.xaxis, t.showlegend) for t in fig.data]
    assert names[0] == (f"AUC {auc:.3f}", "x", True) and names[1] == ("chance", "x", True)
    assert names[2][1] == "x2" and names[3] == ("chance", "x2", False)  # one chance legend
    assert fig.layout.xaxis.domain == (0.0, 0.45) and fig.layout.xaxis2.domain == (0.55, 1.0)
    assert fig.layout.yaxis2.title.text == "precision"
    assert [a.text for a in fig.layout.annotations] == ["ROC", "Precision-recall"]


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([0, 5, -128, 127], "i1"),
        ([0, 128], "i2"),  # one past int8
        ([-32_769, 3], "i4"),  # one past int16
        ([0.5, -1e-9, 3.25], "f8"),
    ],
)
def test_typed_arrays_read_back_exactly_in_the_fewest_bytes(values, dtype):
    sent = charts.typed(np.array(values))
    assert sent["dtype"] == dtype and "shape" not in sent
    np.testing.assert_array_equal(decoded(sent), values)


def test_a_typed_block_keeps_its_shape():
    block = np.array([[0.0, 0.1], [0.1, 0.25], [0.25, 0.5]])
    sent = charts.typed(block)
    assert sent["shape"] == "3,2"
    np.testing.assert_array_equal(decoded(sent), block)


def test_the_histogram_hover_holds_each_bins_edges():
    errors = np.linspace(0.0, 1.0, 101)
    frame = error_histogram(errors, None)
    (bar,) = drawn(charts.histogram(frame, 0.5)).data
    np.testing.assert_array_equal(bar.customdata, frame[["left", "right"]].to_numpy())
    np.testing.assert_array_equal(bar.width, (frame["right"] - frame["left"]).to_numpy())
