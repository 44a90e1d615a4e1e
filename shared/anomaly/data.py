"""What every anomaly task is made of: samples, labels, sliding windows and labelled splits.

Every dataset becomes an `AnomalyData`: raw (unscaled) samples to learn from, samples to score,
and labels where they exist, with 1 meaning *anomaly* throughout. Series are cut into sliding
windows here, and `window_labels` / `scoring.point_scores` map between points and windows.
Built-in datasets live in `builtin.py`, files people upload in `upload.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shared.errors import UserInputError

# ten beats: the aeon ECG repeats every 20 points (autocorrelation peak); measured with the dense
# model, 200-point windows reached test ROC-AUC 0.62 where 40-point windows reached 0.53
ECG_WINDOW = 200
TEST_FRACTION, VAL_FRACTION = 0.3, 0.2  # labelled tables: held-out test, labelled validation


@dataclass
class AnomalyData:
    """One task: what the autoencoder learns from, what it is judged on, and how rows look."""

    name: str
    kind: str  # "table" (one sample per row) or "series" (windows of one column)
    train: np.ndarray  # (n, d) samples to learn from: normal ones only when labels exist
    test: np.ndarray  # (m, d) samples to score
    test_labels: np.ndarray | None = None  # (m,) 1 = anomaly, or None for unlabelled data
    val: np.ndarray | None = None  # labelled validation split, for the best-F1 threshold
    val_labels: np.ndarray | None = None
    columns: list[str] = field(default_factory=list)  # feature names (tables)
    window: int = 0  # series only: window length and stride, in points
    stride: int = 1
    series: np.ndarray | None = None  # series only: the raw test series and its point labels
    point_labels: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return self.test.shape[1]


def windows(series: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Cut a 1-D series into (n_windows, window) sliding windows, `stride` points apart.

    A read-only view of the series, not a copy: a 200,000-point upload cut into 200-point windows
    would take 160 MB as a copy, held by the session for the sample viewer.
    """
    series = np.asarray(series, dtype=np.float32)
    if window < 2:
        raise UserInputError(f"The window must be at least 2 points long (got {window}).")
    if stride < 1:
        raise UserInputError(f"The stride must be at least 1 point (got {stride}).")
    if window > len(series):
        raise UserInputError(
            f"The window ({window} points) is longer than the series ({len(series)} points)."
        )
    return np.lib.stride_tricks.sliding_window_view(series, window)[::stride]


def window_labels(point_labels: np.ndarray, window: int, stride: int) -> np.ndarray:
    """A window is anomalous when any of its points is."""
    marks = windows(np.asarray(point_labels, dtype=np.float32), window, stride)
    return (marks.max(axis=1) > 0).astype(np.int64)


def split_labelled(
    x: np.ndarray, y: np.ndarray, seed: int = 0, semi_supervised: bool = True
) -> dict[str, np.ndarray]:
    """Stratified test and validation splits; the rest trains (normal rows only if semi)."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for cls in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == cls))
        n_test, n_val = round(TEST_FRACTION * len(idx)), round(VAL_FRACTION * len(idx))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test : n_test + n_val])
        if cls == 0 or not semi_supervised:
            parts["train"].append(idx[n_test + n_val :])
    out = {}
    for name, chunks in parts.items():
        idx = np.sort(np.concatenate(chunks))
        out[name], out[f"{name}_labels"] = x[idx], y[idx].astype(np.int64)
    del out["train_labels"]  # the autoencoder learns without them
    return out


def series_task(
    name: str,
    train: np.ndarray,
    test: np.ndarray,
    test_points: np.ndarray | None,
    window: int,
    stride: int = 1,
    val: np.ndarray | None = None,
    val_points: np.ndarray | None = None,
) -> AnomalyData:
    """Window a training series and a (labelled) test series into one task."""
    return AnomalyData(
        name=name,
        kind="series",
        train=windows(train, window, stride),
        test=windows(test, window, stride),
        test_labels=None if test_points is None else window_labels(test_points, window, stride),
        val=None if val is None else windows(val, window, stride),
        val_labels=None if val_points is None else window_labels(val_points, window, stride),
        columns=[f"t{i}" for i in range(window)],
        window=window,
        stride=stride,
        series=np.asarray(test, dtype=np.float32),
        point_labels=None if test_points is None else np.asarray(test_points, dtype=np.int64),
    )
