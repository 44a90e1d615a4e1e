"""The Detect tab (spaces/anomaly/score_tab.py): the slider's outputs agree with each other and
with scikit-learn, the served answers are made once, and the first view is the served ECG answer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import client_for
from gradio_client import Client
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from shared.anomaly.report import FLAGGED_SHOWN
from tests.anomaly.test_plots import decoded
from tests.spaces.anomaly.test_app import _app_with_model

WINDOW = 200  # the quick model's ECG window


def flagged_count(count: str) -> int:
    return int(re.match(r"\*\*([\d,]+) of", count).group(1).replace(",", ""))


def number(report: str, name: str) -> float:
    return float(re.search(rf"{name} \*\*([\d.]+)\*\*", report).group(1))


def plot(output) -> dict:
    """A gr.Plot output over HTTP: plotly's JSON, drawn by the browser (or an update holding it)."""
    if output.get("__type__") == "update":
        assert output["visible"]
        output = output["value"]
    assert output["type"] == "plotly"
    return json.loads(output["plot"])


def drawn_threshold(histogram) -> float:
    (line,) = plot(histogram)["layout"]["shapes"]
    assert line["x0"] == line["x1"]
    return line["x0"]


def array(x) -> np.ndarray:
    """A plotly JSON array: a list, or typed binary ({"dtype": ..., "bdata": base64})."""
    return decoded(x) if isinstance(x, dict) else np.asarray(x)


def flagged_points(series) -> np.ndarray:
    (trace,) = [t for t in plot(series)["data"] if t["name"] == "flagged"]
    return array(trace["x"])


def check_view(out, threshold: float | None = None) -> int:
    """The view's parts agree with each other and with scikit-learn; returns the flagged count."""
    count, report, confusion, flagged, histogram, series, csv = out
    n = flagged_count(count)
    rows = pd.read_csv(csv)
    if threshold is not None:
        assert f"above {threshold:.4g}" in count
        assert drawn_threshold(histogram) == pytest.approx(threshold)
        np.testing.assert_array_equal(rows["flagged"], (rows["error"] > threshold).astype(int))
    # ECG is a series: its plot marks exactly the points of flagged windows (the quick model's
    # windows are 200 points long), every one of them though the line itself is downsampled
    covered = np.zeros(rows["first point"].max() + WINDOW, dtype=bool)
    for first in rows.loc[rows["flagged"] == 1, "first point"]:
        covered[first : first + WINDOW] = True
    np.testing.assert_array_equal(flagged_points(series), np.flatnonzero(covered))
    assert plot(series)["layout"]["title"]["text"] == f"Series: {covered.sum():,} points flagged"
    assert rows["flagged"].sum() == n
    assert len(flagged["data"]) == min(n, FLAGGED_SHOWN)
    (tn, fp), (fn, tp) = (r[1:] for r in confusion["data"])
    assert tp + fp == n and tp + fn == rows["label"].sum() and tn + fp + fn + tp == len(rows)
    labels, predicted = rows["label"], rows["flagged"]
    assert (tp, fp) == (
        ((predicted == 1) & (labels == 1)).sum(),
        ((predicted == 1) & (labels == 0)).sum(),
    )
    for name, value in [
        ("ROC-AUC", roc_auc_score(labels, rows["error"])),
        ("precision", precision_score(labels, predicted, zero_division=0)),
        ("recall", recall_score(labels, predicted, zero_division=0)),
        ("F1", f1_score(labels, predicted, zero_division=0)),
    ]:
        assert number(report, name) == pytest.approx(value, abs=5e-4), name
    return n


def test_the_slider_drives_every_output(client):
    first = client.predict("ecg", 0, None, "", False, api_name="/detect")
    summary, slider = first[0], first[1]
    at_model = check_view(first[2:9], slider["value"])  # Score shows the model's threshold
    assert f"Threshold {slider['value']:.4g}, chosen by 'best F1" in summary
    # said before the slider moves: how many flags the model's own threshold should give
    assert "expect about" in summary and "best F1" in summary
    assert 0 < at_model < len(pd.read_csv(first[8]))
    rows = pd.read_csv(first[8])
    middle = float(rows["error"].quantile(0.5))
    counts = {}
    for where, t in (("min", slider["minimum"]), ("middle", middle), ("max", slider["maximum"])):
        counts[where] = check_view(client.predict(t, api_name="/threshold"), t)
    assert counts == {"min": len(rows), "middle": (rows["error"] > middle).sum(), "max": 0}


def test_every_visitor_gets_the_built_in_answer_whole(served_url):
    """The served ECG answer is made once and handed to each visitor: the second one's slider,
    series and curves still carry their values (Gradio takes them out of the dict it answers)."""
    first, second = (
        Client(served_url, verbose=False).predict("ecg", 0, None, "", False, api_name="/detect")
        for _ in range(2)
    )
    for out in (first, second):
        assert {"value", "maximum"} <= set(out[1]) and "value" in out[7] and "value" in out[9]
    assert second[1] == first[1] and plot(second[7]) == plot(first[7])
    assert plot(second[9]) == plot(first[9])  # ROC and PR


def test_threshold_rules_are_one_click_away(client):
    out = client.predict("ecg", 0, None, "", False, api_name="/detect")
    rules, why = out[12], out[13]
    table = pd.DataFrame(rules["data"], columns=rules["headers"])
    tutorial = table[table["rule"].str.contains("TensorFlow tutorial")].iloc[0]
    chosen = table[table["in use"] == "yes"].iloc[0]
    assert "best F1" in chosen["rule"]
    assert chosen["f1"] >= tutorial["f1"] and tutorial["flagged"] > chosen["flagged"]
    assert "bell-shaped" in why


def test_app_scores_a_builtin_and_the_slider_changes_the_outputs(quick, monkeypatch):
    app = _app_with_model(monkeypatch, quick)
    with client_for(app.demo) as client:
        first = client.predict("ecg", 0, None, "", False, api_name="/detect")
        summary, slider, count, report = first[:4]
        assert "Scored **ecg**" in summary and "flagged" in count and "ROC-AUC" in report
        low = client.predict(slider["minimum"], api_name="/threshold")
        high = client.predict(slider["maximum"], api_name="/threshold")
        assert low[0] != high[0] and low[1] != high[1]
        assert high[0].startswith("**0 of") and not low[0].startswith("**0 of")
        scores = pd.read_csv(high[6])
        assert len(scores) == int(count.split(" of ")[1].split("**")[0].replace(",", ""))


def test_served_builtin_answer_is_made_once_and_equals_a_fresh_one(quick, monkeypatch):
    app = _app_with_model(monkeypatch, quick)
    import score_tab

    from shared.anomaly.report import score

    roc_pr, drawn = score_tab.roc_pr, []
    monkeypatch.setattr(score_tab, "roc_pr", lambda *a: drawn.append(a) or roc_pr(*a))
    model = app.SESSIONS.served.model
    first = score_tab.detect(app.SESSIONS, app.SERVED, "ecg", 0, None, "", False, None)
    again = score_tab.detect(app.SESSIONS, app.SERVED, "ecg", 7, None, "", False, None)
    # the digit means nothing for ECG, and the first view made the ECG answer at import: the
    # same answer each time, each gr.update dict a copy of its own (shared/app/memo.py, handed)
    assert drawn == []
    for a, b, c in zip(again, first, app.FIRST, strict=True):
        assert (a == b == c and a is not b) if isinstance(a, dict) else (a is b is c)
    fresh = score_tab.answer(score(model, "ecg"))
    assert len(drawn) == 1
    for field in ("summary", "count", "report"):
        assert getattr(first, field) == getattr(fresh, field)
    assert first.histogram == fresh.histogram and first.histogram.type == "plotly"
    for field in ("series", "curves"):  # plotly figures in visible gr.Plot updates
        assert getattr(first, field)["visible"]
        assert getattr(first, field)["value"] == getattr(fresh, field)["value"]
    assert first.viewer.equals(fresh.viewer)  # the worst sample against its reconstruction
    assert first.confusion.equals(fresh.confusion) and first.flagged.equals(fresh.flagged)
    assert pd.read_csv(first.download).equals(pd.read_csv(fresh.download))
    threshold = model.config.threshold
    assert score_tab.rethreshold(threshold, first.scored).count == first.count
    assert score_tab.rethreshold(threshold * 2, first.scored).count != first.count
    # a temp cleaner took the served CSV: the answer is made again, with its file
    Path(first.download).unlink()
    remade = score_tab.detect(app.SESSIONS, app.SERVED, "ecg", 0, None, "", False, None)
    assert remade is not first and Path(remade.download).is_file() and len(drawn) == 2


def initial_values(app) -> list:
    """What the page shows before any event: the Score event's outputs' initial values."""
    (event,) = [fn for fn in app.demo.fns.values() if fn.api_name == "detect"]
    return [block.value for block in event.outputs]


def test_the_first_view_is_the_served_ecg_answer(quick, monkeypatch):
    app = _app_with_model(monkeypatch, quick)
    first = app.FIRST
    assert app.SERVED("ecg", 0).scored is first.scored  # made once, at import
    assert first.scored.name == "ecg"
    assert f"above {app.SESSIONS.served.model.config.threshold:.4g}" in first.count
    shown = initial_values(app)
    assert len(shown) == len(first)  # one component per field
    assert shown[2] == first.summary and shown[4] == first.count and shown[5] == first.report
    assert shown[3] == app.SESSIONS.served.model.config.threshold  # the slider
    assert shown[1] is first.scored  # the page state, shared and never copied
    assert not any(fn.api_name == "first_view" for fn in app.demo.fns.values())


def test_without_a_model_the_first_view_says_how_to_get_one(tmp_path, monkeypatch):
    app = _app_with_model(monkeypatch, tmp_path / "missing")
    first = app.FIRST
    assert app.SESSIONS.served.model is None
    assert first.summary == app.model_info() and "Train one" in first.summary
    shown = initial_values(app)
    assert len(shown) == len(first)  # one value per Detect output
    assert shown[2] == first.summary and first.scored is None
