"""The anomaly lab: thresholds, metrics, validation, artifacts and the app over HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, client_for, load_app, quick_model
from gradio_client import handle_file
from huggingface_hub import ModelCard, constants
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from shared.anomaly.builtin import load_builtin
from shared.anomaly.data import window_labels, windows
from shared.anomaly.model import ModelShapeError, load_autoencoder
from shared.anomaly.scoring import flags, metrics, point_scores, threshold
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.anomaly.upload import MIN_ROWS, read_csv, table_from_frame, task_from_frame
from shared.hub import ModelSourceError, push_folder
from shared.ui import UserInputError

ERRORS = np.array([0.1, 0.2, 0.3, 0.4, 1.0])


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


def test_windows_and_point_mapping():
    series = np.arange(10, dtype=np.float32)
    cut = windows(series, 4, 3)
    assert cut.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert np.shares_memory(cut, series) and not cut.flags.writeable  # a view, never a copy
    points = np.zeros(10)
    points[5] = 1
    assert window_labels(points, 4, 3).tolist() == [0, 1, 0]
    assert point_scores(np.array([1.0, 5.0, 2.0]), 10, 4, 3).tolist() == [
        1, 1, 1, 5, 5, 5, 5, 2, 2, 2,
    ]  # fmt: skip


# --- validation: every bad input names its problem -------------------------------------------
def _csv(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


NUMBERS = "a,b,label\n" + "".join(f"{i},{i * 2},{int(i % 10 == 0)}\n" for i in range(40))


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        ("", {}, "empty"),
        ("name\n" + "x\n" * 30, {}, "no numeric columns"),
        ("a,b\n" + "1,2\n" * 20 + "x,3\n", {}, "mix numbers and text"),
        ("a,b\n" + "1,2\n" * 25 + "nan,3\ninf,4\n", {}, "2 row\\(s\\) hold NaN"),
        (NUMBERS, {"label_col": "target"}, "Label column 'target' not found; columns are: a, b"),
        ("a,y\n" + "".join(f"{i},{i % 5}\n" for i in range(30)), {"label_col": "y"}, "5 classes"),
        ("a,b\n" + "1,2\n" * 5, {}, f"at least {MIN_ROWS} needed"),
        (NUMBERS, {"layout": "series", "window": 10}, "exactly one numeric column"),
        ("v\n" + "1\n" * 30, {"layout": "series", "window": 100}, "longer than the series"),
    ],
)
def test_bad_csvs_get_named_errors(tmp_path, content, kwargs, message):
    with pytest.raises(UserInputError, match=message):
        task_from_frame(read_csv(_csv(tmp_path, content)).frame, **kwargs)


def test_missing_values_can_be_dropped_and_size_is_capped(tmp_path):
    frame = read_csv(_csv(tmp_path, "a,b\n" + "1,2\n" * 25 + "nan,3\n")).frame
    x, labels, columns = table_from_frame(frame, drop_missing=True)
    assert x.shape == (25, 2) and labels is None and columns == ["a", "b"]
    with pytest.raises(UserInputError, match="limit is"):
        read_csv(_csv(tmp_path, "a\n" + "1\n" * 100), max_bytes=50)


# --- the model: training, round trips, the planted anomaly ----------------------------------
@pytest.fixture(scope="module")
def quick():
    return quick_model("anomaly")


def test_quick_artifact_loads_and_its_card_carries_the_metrics(quick):
    assert {"config.json", "model.safetensors", "metrics.json", "README.md"} <= {
        p.name for p in quick.iterdir()
    }
    model = load_autoencoder(quick)
    card = ModelCard.load(quick / "README.md")
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    test = pd.read_json(quick / "metrics.json", typ="series")["test"]
    assert results["roc_auc"] == pytest.approx(test["roc_auc"])
    assert model.config.threshold == pytest.approx(test["threshold"])
    assert model.config.mean and model.config.window > 0  # raw input reproduces scores


def test_save_load_reproduces_scores_exactly(tmp_path):
    data = load_builtin("breast_cancer")
    result = train_autoencoder(data, TrainSettings(epochs=3))
    result.model.save(tmp_path / "m")
    loaded = load_autoencoder(tmp_path / "m")
    np.testing.assert_array_equal(loaded.score(data.test), result.model.score(data.test))
    assert loaded.config == result.model.config
    # scored (and scaled) a batch at a time: the same numbers, the same shape checks when empty
    np.testing.assert_allclose(
        loaded.score(data.test, batch_size=7), loaded.score(data.test), rtol=1e-5
    )
    assert loaded.score(data.test[:0]).shape == (0,)
    with pytest.raises(ModelShapeError, match="expects 30 columns"):
        loaded.score(data.test[:0, :3])


def test_strict_loading_refuses_missing_weights(tmp_path, quick):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "m"
    shutil.copytree(quick, folder)
    weights = load_file(folder / "model.safetensors")
    weights.pop(next(iter(weights)))
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelSourceError, match="do not fit its config.json"):
        load_autoencoder(folder)


def test_repo_id_loads_from_the_offline_cache(quick):
    sha = "a" * 40
    root = Path(constants.HF_HUB_CACHE) / "models--someorg--anomaly-test"
    shutil.copytree(quick, root / "snapshots" / sha)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(sha)
    model, local = load_autoencoder("someorg/anomaly-test"), load_autoencoder(quick)
    probe = np.random.default_rng(0).normal(size=(5, local.config.n_features))
    np.testing.assert_array_equal(model.score(probe), local.score(probe))


def test_push_uploads_the_artifact_folder_that_reloads(quick, monkeypatch, fake_hub):
    push_folder(quick, "someorg/anomaly-autoencoder")
    calls = fake_hub["upload"]
    uploaded = Path(calls["folder_path"])
    assert uploaded == quick and calls["repo_id"] == "someorg/anomaly-autoencoder"
    assert {"model.safetensors", "config.json", "metrics.json", "README.md"} <= {
        p.name for p in uploaded.iterdir()
    }
    app = _app_with_model(monkeypatch, uploaded)
    assert app.MODEL is not None and "Model loaded from" in app.model_info()


@pytest.mark.slow
def test_planted_ecg_anomaly_is_flagged():
    data = load_builtin("ecg", stride=2)
    result = train_autoencoder(data, TrainSettings(epochs=10, batch_size=256))
    errors = result.model.score(data.test)
    flagged = flags(errors, result.model.config.threshold)
    points = point_scores(errors, len(data.series), data.window, data.stride)
    labels = data.point_labels
    # every labelled anomalous segment has flagged points, and flags are likelier inside them
    starts = np.flatnonzero(np.diff(np.r_[0, labels]) == 1)
    for start in starts:
        assert (points[start : start + 100] > result.model.config.threshold).any()
    assert flagged[data.test_labels == 1].mean() > flagged[data.test_labels == 0].mean()


# --- the app over HTTP -------------------------------------------------------------------------
def _app_with_model(monkeypatch, folder: Path):
    monkeypatch.setenv("ANOMALY_MODEL", str(folder))
    return load_app("anomaly")


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


def test_app_scores_an_uploaded_csv_and_trains(tmp_path, monkeypatch):
    app = _app_with_model(monkeypatch, quick_model("anomaly"))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    x[:6] += 8  # six planted outliers
    frame = pd.DataFrame(x, columns=list("abcd")).assign(label=[1] * 6 + [0] * 114)
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    with client_for(app.demo) as client:
        # the default model reads ECG windows: a 4-column table gets a clear refusal
        with pytest.raises(Exception, match="scores one series column"):
            client.predict("ecg", 0, handle_file(path), "label", False, api_name="/detect")
        trained = client.predict(
            "ecg", 0, handle_file(path), "table", "label", 40, 1, False, "dense", 20, 0,
            "percentile", 0.05, api_name="/train",
        )  # fmt: skip
        assert "Trained a dense autoencoder on rows.csv" in trained[0]
        out = client.predict("ecg", 0, handle_file(path), "label", False, api_name="/detect")
        assert "Scored **rows.csv**" in out[0]
        scores = pd.read_csv(out[8])
        assert set(scores.columns) >= {"row", "error", "flagged", "label"}
    assert scores.sort_values("error").tail(6)["label"].sum() >= 5  # outliers score highest


@pytest.mark.slow
def test_cli_quick_run_writes_a_loadable_artifact(tmp_path):
    out = tmp_path / "m"
    subprocess.run(
        [sys.executable, "-m", "training.anomaly", "--quick", "--dataset", "digits",
         "--normal-digit", "3", "--threshold-rule", "best_f1", "--out", str(out)],
        check=True, cwd=REPO, capture_output=True, env={**os.environ},
    )  # fmt: skip
    model = load_autoencoder(out)
    assert model.config.threshold_rule == "best_f1" and model.config.n_features == 64
    assert "roc_auc" in pd.read_json(out / "metrics.json", typ="series")["test"]


def test_served_builtin_answer_is_made_once_and_equals_a_fresh_one(quick, monkeypatch):
    app = _app_with_model(monkeypatch, quick)
    roc_pr, drawn = app.roc_pr, []
    monkeypatch.setattr(app, "roc_pr", lambda *a: drawn.append(a) or roc_pr(*a))
    first = app.detect("ecg", 0, None, "", False, None, None)
    again = app.detect("ecg", 7, None, "", False, None, None)  # the digit means nothing for ECG
    assert len(drawn) == 1 and all(a is b for a, b in zip(again, first, strict=True))
    fresh = (None, *app.Answer.of(app.score(app.MODEL, "ecg")).outputs())
    for i in (2, 4, 5):  # summary, flagged count, metrics
        assert first[i] == fresh[i]
    assert first[8] == fresh[8] and first[8].type == "plotly"  # the histogram, as page data
    for i in (9, 11):  # series and ROC/PR: plotly figures in visible gr.Plot updates
        assert first[i].visible and first[i].value == fresh[i].value
    assert first[13].equals(fresh[13])  # the worst sample against its reconstruction
    assert first[6].equals(fresh[6]) and first[7].equals(fresh[7])  # confusion, flagged rows
    assert pd.read_csv(first[10]).equals(pd.read_csv(fresh[10]))
    threshold = app.MODEL.config.threshold
    assert app.rethreshold(threshold, first[1]) is app.served_answer("ecg", 0).view
    assert app.rethreshold(threshold * 2, first[1])[0] != first[4]


def test_a_config_with_an_unknown_rule_is_refused(tmp_path, quick):
    import json

    folder = tmp_path / "m"
    shutil.copytree(quick, folder)
    config = json.loads((folder / "config.json").read_text())
    config["rule_thresholds"]["median"] = 0.5
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelSourceError, match="threshold rules must be among"):
        load_autoencoder(folder)


def test_only_the_controls_that_apply_are_shown(quick, monkeypatch):
    app = _app_with_model(monkeypatch, quick)
    shown = lambda *args: [u["visible"] for u in app.controls(*args)]  # noqa: E731
    # digit, CSV layout, label column, drop missing, window, stride
    assert shown("ecg", None, "table") == [False, False, False, False, True, True]
    assert shown("kdd135", None, "table") == [False, False, False, False, True, True]
    assert shown("digits", None, "table") == [True, False, False, False, False, False]
    assert shown("breast_cancer", None, "series") == [False] * 6
    assert shown("digits", "/tmp/x.csv", "table") == [False, True, True, True, False, False]
    assert shown("ecg", "/tmp/x.csv", "series") == [False, True, True, True, True, True]
    # the rule's parameter, named after the rule, with its default; hidden where there is none
    k = app.rule_parameter("mean_std")
    assert k["visible"] and k["label"].endswith(": k") and k["value"] == 1.0
    rate = app.rule_parameter("percentile")
    assert rate["label"].endswith("expected share of anomalies") and rate["value"] == 0.05
    for rule in ("max", "best_f1", app.AUTO_RULE):
        assert app.rule_parameter(rule) == {"__type__": "update", "visible": False}


def test_the_first_view_is_the_served_ecg_answer(quick, monkeypatch):
    app = _app_with_model(monkeypatch, quick)
    first = app.first_view()
    (event,) = [fn for fn in app.demo.fns.values() if fn.name == "first_view"]
    assert len(first) == len(event.outputs)
    assert first[1:] == app.served_answer("ecg", 0).outputs()
    assert first[1].name == "ecg" and f"above {app.MODEL.config.threshold:.4g}" in first[4]


def test_without_a_model_the_first_view_says_how_to_get_one(tmp_path, monkeypatch):
    app = _app_with_model(monkeypatch, tmp_path / "missing")
    first = app.first_view()
    assert app.MODEL is None and first[2] == app.model_info() and "Train one" in first[2]
    (event,) = [fn for fn in app.demo.fns.values() if fn.name == "first_view"]
    assert len(first) == len(event.outputs)  # one value per Detect output, or Gradio refuses
