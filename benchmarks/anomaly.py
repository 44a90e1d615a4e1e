"""Our autoencoder against PyOD's AutoEncoder, IForest and ECOD on the four built-in tasks.

    python benchmarks/anomaly.py            # writes benchmarks/results/anomaly.md (a few minutes)

Every method sees the same splits and the same scaling (z-scores from the training samples) and
learns from normal samples only. Digits averages over all ten choices of the normal digit.
Fit times come from one side-by-side run per task on this machine; scoring time is the median
of repeated runs.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")

import torch  # noqa: E402
from pyod.models.auto_encoder import AutoEncoder as PyodAutoEncoder  # noqa: E402
from pyod.models.ecod import ECOD  # noqa: E402
from pyod.models.iforest import IForest  # noqa: E402
from sklearn.metrics import average_precision_score, roc_auc_score  # noqa: E402

from shared.anomaly.data import load_builtin  # noqa: E402
from shared.anomaly.train import TrainSettings, train_autoencoder  # noqa: E402

# one torch thread for every method, as TrainSettings.threads does for ours: on this shared
# 2-core machine two threads made each step of a small network about ten times slower
torch.set_num_threads(1)

RESULTS = Path(__file__).parent / "results" / "anomaly.md"
METHODS = ("ours", "PyOD AutoEncoder", "IForest", "ECOD")
SCORE_ROWS, SCORE_REPEATS = 10_000, 21


def run_task(data) -> dict[str, tuple[float, float, float]]:
    """(ROC-AUC, PR-AUC, fit seconds) per method on one task."""
    axis = None if data.kind == "series" else 0
    mean, std = data.train.mean(axis=axis), data.train.std(axis=axis)
    std = np.where(std > 1e-8, std, 1.0)
    train, test = (data.train - mean) / std, (data.test - mean) / std
    out = {}
    start = time.perf_counter()
    ours = train_autoencoder(data, TrainSettings()).model
    out["ours"] = (time.perf_counter() - start, ours.score(data.test))
    baselines = {
        "PyOD AutoEncoder": PyodAutoEncoder(verbose=0, preprocessing=False, random_state=0),
        "IForest": IForest(random_state=0),
        "ECOD": ECOD(),
    }
    for name, detector in baselines.items():
        start = time.perf_counter()
        detector.fit(train)
        out[name] = (time.perf_counter() - start, detector.decision_function(test))
    labels = data.test_labels
    return {
        name: (roc_auc_score(labels, s), average_precision_score(labels, s), seconds)
        for name, (seconds, s) in out.items()
    }


def scoring_ms(model) -> float:
    rows = np.random.default_rng(0).normal(size=(SCORE_ROWS, model.config.n_features))
    model.score(rows)  # warm-up
    times = []
    for _ in range(SCORE_REPEATS):
        start = time.perf_counter()
        model.score(rows)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    table: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name in ("ecg", "kdd135", "breast_cancer"):
        table[name] = run_task(load_builtin(name))
        print(name, table[name], flush=True)
    digits = [run_task(load_builtin("digits", normal_digit=k)) for k in range(10)]
    table["digits (mean of 10)"] = {
        m: tuple(float(np.mean([d[m][i] for d in digits])) for i in range(3)) for m in METHODS
    }
    ecg_model = train_autoencoder(load_builtin("ecg"), TrainSettings(epochs=1)).model
    ms = scoring_ms(ecg_model)
    lines = [
        "# Anomaly detection benchmark",
        "",
        "Command: `python benchmarks/anomaly.py` (2-core CPU, shared with other jobs; one run;",
        "one torch thread for every method).",
        "Anomaly is the positive class. Fit time in seconds, same run, side by side.",
        "",
        "| task | " + " | ".join(f"{m} ROC-AUC | {m} PR-AUC | {m} fit s" for m in METHODS) + " |",
        "|---|" + "---|" * (3 * len(METHODS)),
    ]
    for task, row in table.items():
        cells = " | ".join(f"{row[m][0]:.3f} | {row[m][1]:.3f} | {row[m][2]:.2f}" for m in METHODS)
        lines.append(f"| {task} | {cells} |")
    means = {m: np.mean([row[m][0] for row in table.values()]) for m in METHODS}
    best = {t: max(METHODS[1:], key=lambda m, r=row: r[m][0]) for t, row in table.items()}
    wins = sum(row["ours"][0] >= row[best[t]][0] for t, row in table.items())
    lines += [
        "",
        "Mean ROC-AUC: " + ", ".join(f"{m} {v:.3f}" for m, v in means.items()),
        f"Tasks where ours >= the best baseline: {wins} of {len(table)}.",
        f"Scoring {SCORE_ROWS:,} ECG windows with our model: median {ms:.1f} ms "
        f"over {SCORE_REPEATS} runs.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
