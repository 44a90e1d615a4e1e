"""Windows, window labels, labelled splits, series tasks and built-in datasets, checked by hand.

Every split is worked out by hand: 20 normal rows and 10 anomalies split 30% test and 20%
validation per class gives 6 + 3 test rows, 4 + 2 validation rows and 10 training rows (15 when
anomalies may train too). Rows carry their own index as their value, so where each row went is
visible. Built-in datasets are checked against the files and loaders of the packages that ship
them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shared.anomaly.builtin import load_builtin, one_class, one_class_files, ucr_classes, ucr_files
from shared.anomaly.data import (
    ECG_WINDOW,
    AnomalyData,
    series_task,
    split_labelled,
    window_labels,
    windows,
)
from shared.anomaly.scoring import point_scores
from shared.errors import UserInputError


# --- windows ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("length", "window", "stride", "firsts"),
    [
        (5, 2, 1, [0, 1, 2, 3]),  # the shortest window allowed
        (5, 5, 1, [0]),  # a window as long as the series: one window
        (7, 3, 2, [0, 2, 4]),
        (7, 3, 5, [0]),  # the next window would run past the end
        (8, 2, 3, [0, 3, 6]),
    ],
)
def test_windows_start_every_stride_points_and_stay_inside(length, window, stride, firsts):
    cut = windows(list(range(length)), window, stride)
    expected = [list(range(f, f + window)) for f in firsts]
    assert cut.tolist() == expected and cut.dtype == np.float32  # model input, even from ints


@pytest.mark.parametrize(
    ("window", "stride", "message"),
    [
        (1, 1, r"The window must be at least 2 points long \(got 1\)\."),
        (0, 1, r"at least 2 points long \(got 0\)"),
        (3, 0, r"The stride must be at least 1 point \(got 0\)\."),
        (3, -2, r"at least 1 point \(got -2\)"),
        (6, 1, r"The window \(6 points\) is longer than the series \(5 points\)\."),
    ],
)
def test_impossible_windows_are_refused_with_the_numbers(window, stride, message):
    with pytest.raises(UserInputError, match=message):
        windows(np.arange(5), window, stride)


@pytest.mark.parametrize(
    ("points", "window", "stride", "expected"),
    [
        ([0, 0, 0, 1, 0, 0, 0], 3, 2, [0, 1, 0]),  # windows [0..2], [2..4], [4..6]
        ([0, 0, 1, 0, 0, 0, 0], 3, 2, [1, 1, 0]),  # point 2 lies in two windows
        ([1, 0, 0, 0, 0, 0, 0], 3, 2, [1, 0, 0]),  # the first point marks only the first window
        ([0, 0, 0, 0, 0, 0, 1], 3, 2, [0, 0, 1]),  # the last point only the last
        ([0, 0, 0, 0, 0, 0, 0], 3, 2, [0, 0, 0]),
        ([True, False, False, False], 2, 1, [1, 0, 0]),  # booleans are labels too
    ],
)
def test_a_window_is_anomalous_when_any_of_its_points_is(points, window, stride, expected):
    out = window_labels(np.array(points), window, stride)
    assert out.tolist() == expected and out.dtype == np.int64


# --- labelled splits -------------------------------------------------------------------------
X = np.arange(30, dtype=np.float32)[:, None] * np.ones((1, 2), dtype=np.float32)
Y = np.array([0] * 20 + [1] * 10)  # rows 20..29 are the anomalies


def _rows(part: np.ndarray) -> list[int]:
    return [int(v) for v in part[:, 0]]


@pytest.mark.parametrize(
    ("semi", "train_normal", "train_anomalies"), [(True, 10, 0), (False, 10, 5)]
)
def test_labelled_split_sizes_per_class_are_the_fractions(semi, train_normal, train_anomalies):
    out = split_labelled(X, Y, seed=3, semi_supervised=semi)
    assert set(out) == {"train", "val", "val_labels", "test", "test_labels"}
    for part, normal, anomalies in (("test", 6, 3), ("val", 4, 2)):
        labels = out[f"{part}_labels"]
        assert (int((labels == 0).sum()), int((labels == 1).sum())) == (normal, anomalies), part
        assert labels.dtype == np.int64
        # each row keeps its own label, and rows come in their original order
        np.testing.assert_array_equal(labels, Y[_rows(out[part])])
        assert _rows(out[part]) == sorted(_rows(out[part]))
    train = _rows(out["train"])
    assert sum(r < 20 for r in train) == train_normal and sum(r >= 20 for r in train) == (
        train_anomalies
    )
    assert train == sorted(train)
    # the parts never share a row; with anomalies kept out of training, only they are missing
    parts = [set(_rows(out[p])) for p in ("train", "val", "test")]
    assert sum(map(len, parts)) == len(set().union(*parts)) == 30 - (5 - train_anomalies)
    np.testing.assert_array_equal(out["train"], X[train])  # whole rows, every column


def test_labelled_split_is_semi_supervised_and_seeded_by_default():
    default = split_labelled(X, Y)
    assert all(r < 20 for r in _rows(default["train"]))  # normal rows only
    same = split_labelled(X, Y, seed=0, semi_supervised=True)
    for key, value in default.items():
        np.testing.assert_array_equal(value, same[key])
    other = split_labelled(X, Y, seed=1)
    assert _rows(other["test"]) != _rows(default["test"])  # the seed picks the rows


def test_labelled_split_of_boolean_labels_gives_integer_labels():
    out = split_labelled(X, Y.astype(bool), seed=0)
    assert out["test_labels"].dtype == np.int64 and out["test_labels"].sum() == 3


# --- series tasks ----------------------------------------------------------------------------
def test_a_series_task_windows_each_part_and_keeps_the_raw_test_series():
    train, test = np.arange(10.0), np.arange(100.0, 109.0)
    points = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0])
    val, val_points = np.arange(50.0, 56.0), np.array([0, 0, 0, 0, 0, 1])
    task = series_task("s", train, test, points, 3, 2, val, val_points)
    assert isinstance(task, AnomalyData) and (task.name, task.kind) == ("s", "series")
    assert task.train.tolist() == [[0, 1, 2], [2, 3, 4], [4, 5, 6], [6, 7, 8]]
    assert task.test.tolist() == [
        [100, 101, 102],
        [102, 103, 104],
        [104, 105, 106],
        [106, 107, 108],
    ]
    assert task.test_labels.tolist() == [0, 1, 1, 0]  # point 4 lies in windows 1 and 2
    assert task.val.tolist() == [[50, 51, 52], [52, 53, 54]]
    assert task.val_labels.tolist() == [0, 0]  # point 5 is in no window at stride 2
    assert task.columns == ["t0", "t1", "t2"] and task.n_features == 3
    assert (task.window, task.stride) == (3, 2)
    assert task.series.tolist() == test.tolist() and task.series.dtype == np.float32
    assert task.point_labels.tolist() == points.tolist() and task.point_labels.dtype == np.int64


def test_boolean_point_labels_become_integer_labels():
    task = series_task("b", np.arange(6.0), np.arange(6.0), np.arange(6) == 4, 3, 3)
    assert task.point_labels.tolist() == [0, 0, 0, 0, 1, 0] and task.point_labels.dtype == np.int64
    assert task.test_labels.tolist() == [0, 1] and task.test_labels.dtype == np.int64


def test_an_unlabelled_series_task_has_no_labels_and_a_stride_of_one():
    task = series_task("u", np.arange(5.0), np.arange(4.0), None, 2)
    assert task.test_labels is None and task.point_labels is None
    assert task.val is None and task.val_labels is None
    assert task.stride == 1 and len(task.test) == 3 and len(task.train) == 4


# --- built-in datasets: read from the packages that ship them, checked against those files ----
def test_breast_cancer_makes_malignant_the_anomaly_and_trains_on_benign_rows_only():
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()  # 212 malignant (target 0), 357 benign
    data = load_builtin("breast_cancer")
    assert (data.name, data.kind, data.columns) == (
        "breast_cancer",
        "table",
        list(bunch.feature_names),
    )
    # 30% test and 20% validation of each class: round(0.3 * 357) = 107, round(0.2 * 357) = 71,
    # round(0.3 * 212) = 64, round(0.2 * 212) = 42; the other 179 benign rows train
    assert (len(data.test), int(data.test_labels.sum())) == (107 + 64, 64)
    assert (len(data.val), int(data.val_labels.sum())) == (71 + 42, 42)
    assert len(data.train) == 179
    benign = {tuple(row) for row in bunch.data[bunch.target == 1].astype(np.float32)}
    assert all(tuple(row) in benign for row in data.train)
    malignant = {tuple(row) for row in bunch.data[bunch.target == 0].astype(np.float32)}
    for rows, labels in ((data.test, data.test_labels), (data.val, data.val_labels)):
        assert [int(tuple(row) in malignant) for row in rows] == labels.tolist()


@pytest.mark.parametrize("digit", [0, 3, 9])
def test_digits_make_every_other_digit_the_anomaly(digit):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    n_normal = int((bunch.target == digit).sum())
    data = load_builtin("digits", digit)
    assert data.name == f"digits (normal = {digit})" and data.kind == "table"
    assert data.columns == [f"pixel_{i}" for i in range(64)] and data.n_features == 64
    normal = {tuple(row) for row in bunch.data[bunch.target == digit].astype(np.float32)}
    assert all(tuple(row) in normal for row in data.train)
    n_test_normal = round(0.3 * n_normal)
    assert int((data.test_labels == 0).sum()) == n_test_normal
    assert int(data.test_labels.sum()) == round(0.3 * (len(bunch.target) - n_normal))
    assert len(data.train) == n_normal - n_test_normal - round(0.2 * n_normal)


@pytest.mark.parametrize("digit", [-1, 10])
def test_a_digit_outside_0_to_9_is_refused(digit):
    with pytest.raises(
        UserInputError, match=rf"^The normal digit must be 0 to 9 \(got {digit}\)\.$"
    ):
        load_builtin("digits", digit)


def test_an_unknown_dataset_names_the_builtins():
    with pytest.raises(
        UserInputError,
        match=r"^Unknown dataset 'mnist'; choose one of: ecg, kdd135, breast_cancer, digits\.$",
    ):
        load_builtin("mnist")


def _ecg_file(part: str):
    import aeon

    path = Path(aeon.__file__).parent / "datasets/data/UnitTest" / f"ecg-diff-count-3_{part}.csv"
    frame = pd.read_csv(path)
    return frame["value-0"].to_numpy(np.float32), (frame["is_anomaly"].to_numpy() > 0)


@pytest.mark.parametrize(("window", "stride"), [(None, 1), (50, 7)])
def test_ecg_trains_on_the_clean_file_tunes_on_the_labelled_one_and_tests_on_the_third(
    window, stride
):
    data = load_builtin("ecg", window=window, stride=stride)
    (train, _), (val, val_points), (test, test_points) = map(
        _ecg_file, ("TRAIN_NA", "TRAIN_A", "TEST")
    )
    w = window or ECG_WINDOW  # 200 points by default
    assert (data.name, data.kind, data.window, data.stride) == ("ecg", "series", w, stride)
    np.testing.assert_array_equal(data.train, windows(train, w, stride))
    np.testing.assert_array_equal(data.val, windows(val, w, stride))
    np.testing.assert_array_equal(data.test, windows(test, w, stride))
    np.testing.assert_array_equal(data.series, test)
    assert data.point_labels.tolist() == test_points.astype(int).tolist()
    assert int(data.point_labels.sum()) == 300  # the file's labelled anomalous points
    assert data.test_labels.tolist() == window_labels(test_points, w, stride).tolist()
    assert data.val_labels.tolist() == window_labels(val_points, w, stride).tolist()
    assert 0 < data.test_labels.mean() < 1 and 0 < data.val_labels.mean() < 1


def test_kdd135_is_aeons_series_in_128_point_windows():
    from aeon.datasets import load_kdd_tsad_135

    train, _ = load_kdd_tsad_135("train")
    test, labels = load_kdd_tsad_135("test")
    data = load_builtin("kdd135")
    assert (data.name, data.window, data.stride) == ("kdd135", 128, 1)
    np.testing.assert_array_equal(data.train, windows(train, 128, 1))
    np.testing.assert_array_equal(data.test, windows(test, 128, 1))
    assert data.point_labels.tolist() == (labels > 0).astype(int).tolist()
    assert int(data.point_labels.sum()) == 12 and data.val is None
    assert data.test_labels.tolist() == window_labels(labels > 0, 128, 1).tolist()
    assert load_builtin("kdd135", window=64, stride=5).test.shape == (len(windows(test, 64, 5)), 64)


def test_the_seed_picks_a_builtins_split():
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    expected = split_labelled(bunch.data.astype(np.float32), (bunch.target == 0).astype(int), 1)
    seeded = load_builtin("breast_cancer", seed=1)
    np.testing.assert_array_equal(seeded.test, expected["test"])
    assert not np.array_equal(seeded.test, load_builtin("breast_cancer").test)


def test_builtins_are_read_once_and_shared_read_only():
    data = load_builtin("breast_cancer")
    assert load_builtin("breast_cancer") is data
    for name in ("train", "test", "test_labels", "val", "val_labels"):
        array = getattr(data, name)
        assert not array.flags.writeable, name
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_one_class_turns_a_classification_set_into_an_anomaly_task():
    x = np.arange(40).reshape(20, 2)  # row i holds 2i and 2i + 1
    classes = np.array(["a"] * 10 + ["b"] * 5 + ["c"] * 5)
    data = one_class("toy", x, classes, "a", seed=2)
    assert (data.name, data.kind, data.columns) == ("toy (normal = a)", "table", ["x0", "x1"])
    assert data.train.dtype == np.float32
    # 10 normal rows: 3 test, 2 validation, 5 train; 10 anomalies: 3 test, 2 validation
    assert all(classes[int(r) // 2] == "a" for r in data.train[:, 0]) and len(data.train) == 5
    for rows, labels in ((data.test, data.test_labels), (data.val, data.val_labels)):
        assert [int(classes[int(r) // 2] != "a") for r in rows[:, 0]] == labels.tolist()
    assert data.test_labels.tolist().count(1) == 3 and data.val_labels.tolist().count(1) == 2
    seeded = split_labelled(x.astype(np.float32), (classes != "a").astype(int), seed=2)
    np.testing.assert_array_equal(data.test, seeded["test"])
    default = one_class("toy", x, classes, "a")
    np.testing.assert_array_equal(default.test, one_class("toy", x, classes, "a", seed=0).test)


def test_ucr_classes_joins_the_train_and_test_files():
    from aeon.datasets import load_italy_power_demand

    x, y = ucr_classes("italy_power_demand")
    (x_train, y_train), (x_test, y_test) = (
        load_italy_power_demand(split=s) for s in ("train", "test")
    )
    np.testing.assert_array_equal(x, np.concatenate([x_train, x_test])[:, 0, :])
    np.testing.assert_array_equal(y, np.concatenate([y_train, y_test]))
    assert x.shape == (1096, 24)


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


def test_one_class_files_trains_on_the_train_files_normal_rows_and_tests_on_the_test_file():
    from aeon.datasets import load_arrow_head

    (x_train, y_train), (x_test, y_test) = (load_arrow_head(split=s) for s in ("train", "test"))
    data = one_class_files("arrow_head", "1")
    assert data.name == "arrow_head (normal = 1, UCR split)" and data.kind == "table"
    np.testing.assert_array_equal(data.train, x_train[y_train == "1", 0, :].astype(np.float32))
    np.testing.assert_array_equal(data.test, x_test[:, 0, :].astype(np.float32))
    assert data.test_labels.tolist() == (y_test != "1").astype(int).tolist()
    assert data.val is None and len(data.train) == 12 and len(data.test) == 175


def test_a_multichannel_set_is_flattened_channel_by_channel():
    (x_train, _), (x_test, _) = ucr_files("basic_motions")
    assert x_train.shape == (40, 600) and x_test.shape == (40, 600)
    from aeon.datasets import load_basic_motions

    raw, _ = load_basic_motions(split="train")
    np.testing.assert_array_equal(x_train[3, 100:200], raw[3, 1])  # the second channel
