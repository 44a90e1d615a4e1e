"""The offline datasets of the anomaly lab, and one-class tasks built from labelled data.

Everything here ships inside trusted packages (aeon, scikit-learn), so the app, the tests and
the benchmark run with no network. A labelled classification set becomes a one-class task the
way ADBench builds them: one class is normal, every other class is an anomaly, and the
autoencoder learns from normal rows only.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from shared.anomaly.data import ECG_WINDOW, AnomalyData, series_task, split_labelled
from shared.errors import UserInputError

BUILTINS = ("ecg", "kdd135", "breast_cancer", "digits")
KDD_WINDOW = (
    128  # under one period of InternalBleeding16 (about 183 points): 12 odd points stand out
)


def _aeon_ecg(part: str) -> pd.DataFrame:
    import aeon

    folder = Path(aeon.__file__).parent / "datasets" / "data" / "UnitTest"
    return pd.read_csv(folder / f"ecg-diff-count-3_{part}.csv")


@functools.lru_cache(maxsize=16)
def load_builtin(
    name: str, normal_digit: int = 0, window: int | None = None, stride: int = 1, seed: int = 0
) -> AnomalyData:
    """One of the offline datasets named in `BUILTINS`, read once and shared read-only.

    Every app session scores the same built-in arrays, so one copy serves them all (the load
    benchmark measured each session holding its own copy otherwise).
    """
    data = _read_builtin(name, normal_digit, window, stride, seed)
    for value in vars(data).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return data


def _read_builtin(
    name: str, normal_digit: int, window: int | None, stride: int, seed: int
) -> AnomalyData:
    if name == "ecg":
        # train on the anomaly-free file; the file with labelled anomalies tunes best-F1
        train, val, test = (_aeon_ecg(p) for p in ("TRAIN_NA", "TRAIN_A", "TEST"))
        return series_task(
            "ecg",
            train["value-0"].to_numpy(),
            test["value-0"].to_numpy(),
            test["is_anomaly"].to_numpy() > 0,
            window or ECG_WINDOW,
            stride,
            val["value-0"].to_numpy(),
            val["is_anomaly"].to_numpy() > 0,
        )
    if name == "kdd135":
        from aeon.datasets import load_kdd_tsad_135

        train, _ = load_kdd_tsad_135("train")
        test, labels = load_kdd_tsad_135("test")
        return series_task("kdd135", train, test, labels > 0, window or KDD_WINDOW, stride)
    if name in ("breast_cancer", "digits"):
        from sklearn.datasets import load_breast_cancer, load_digits

        if name == "breast_cancer":
            bunch = load_breast_cancer()
            y = (bunch.target == 0).astype(np.int64)  # sklearn: 0 = malignant, 1 = benign
            columns = list(bunch.feature_names)
        else:
            if not 0 <= normal_digit <= 9:
                raise UserInputError(f"The normal digit must be 0 to 9 (got {normal_digit}).")
            bunch = load_digits()
            y = (bunch.target != normal_digit).astype(np.int64)
            columns = [f"pixel_{i}" for i in range(bunch.data.shape[1])]
            name = f"digits (normal = {normal_digit})"
        parts = split_labelled(bunch.data.astype(np.float32), y, seed)
        return AnomalyData(name=name, kind="table", columns=columns, **parts)
    raise UserInputError(f"Unknown dataset {name!r}; choose one of: {', '.join(BUILTINS)}.")


def one_class(name: str, x: np.ndarray, classes: np.ndarray, normal, seed: int = 0) -> AnomalyData:
    """A classification set as an anomaly task: `normal` is normal, the other classes anomalies."""
    labels = (np.asarray(classes) != normal).astype(np.int64)
    parts = split_labelled(np.asarray(x, dtype=np.float32), labels, seed)
    columns = [f"x{i}" for i in range(x.shape[1])]
    return AnomalyData(name=f"{name} (normal = {normal})", kind="table", columns=columns, **parts)


def ucr_files(name: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A UCR/UEA classification set shipped with aeon, as its own train and test files.

    Each is (series as rows, class labels); a multivariate series is flattened channel by
    channel into one row.
    """
    import aeon.datasets

    loader = getattr(aeon.datasets, f"load_{name}")
    with warnings.catch_warnings():  # aeon 1.6 deprecates load_osuleaf; its data still ships
        warnings.simplefilter("ignore", FutureWarning)
        parts = [loader(split=split) for split in ("train", "test")]
    return tuple((x.reshape(len(x), -1), np.asarray(y)) for x, y in parts)  # type: ignore[return-value]


def ucr_classes(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A UCR set's train and test files joined: `one_class` makes its own splits."""
    (x_train, y_train), (x_test, y_test) = ucr_files(name)
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


def one_class_files(name: str, normal) -> AnomalyData:
    """A UCR set as an anomaly task on its original split: train on the train file's `normal`
    rows only, test on the whole test file (every other class an anomaly)."""
    (x_train, y_train), (x_test, y_test) = ucr_files(name)
    train = x_train[y_train == normal].astype(np.float32)
    return AnomalyData(
        name=f"{name} (normal = {normal}, UCR split)",
        kind="table",
        train=train,
        test=x_test.astype(np.float32),
        test_labels=(y_test != normal).astype(np.int64),
        columns=[f"x{i}" for i in range(x_train.shape[1])],
    )
