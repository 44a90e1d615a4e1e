"""Train an autoencoder anomaly detector, pick its threshold, evaluate, save and push it.

    python -m training.anomaly --quick --out /tmp/anomaly            # a few seconds on CPU
    python -m training.anomaly                                       # ECG, into artifacts/anomaly
    python -m training.anomaly --dataset kdd135 --variant conv --out /tmp/kdd
    python -m training.anomaly --dataset digits --normal-digit 3 --threshold-rule best_f1
    python -m training.anomaly --csv data.csv --label-col label --out /tmp/mine
    python -m training.anomaly --csv series.csv --layout series --window 100 --label-col is_anomaly
    # online only: the ECG5000 CSV of the TensorFlow tutorial (140 values, label 1 = normal)
    python -m training.anomaly --label-col 140 --normal-label 1 \
        --csv http://storage.googleapis.com/download.tensorflow.org/data/ecg.csv
    torchrun --standalone --nproc_per_node=2 -m training.anomaly --quick --out /tmp/ddp

Semi-supervised when labels exist (learn from normal samples only), unsupervised otherwise.
Metrics count *anomaly* as the positive class.
"""

from __future__ import annotations

import argparse
import tempfile
import urllib.request
from pathlib import Path

import pandas as pd
from huggingface_hub import EvalResult

from shared.anomaly.data import BUILTINS, load_builtin, read_csv, task_from_frame
from shared.anomaly.scoring import THRESHOLD_RULES
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.hub import save_json, write_model_card
from shared.training import (
    add_common_args,
    is_main_process,
    maybe_push,
    output_dir,
    training_command,
)

METRIC_NAMES = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, "anomaly")
    p.add_argument(
        "--dataset", choices=BUILTINS, default="ecg", help="built-in data (default: ecg)"
    )
    p.add_argument(
        "--normal-digit", type=int, default=0, help="digits: the normal class (default: 0)"
    )
    p.add_argument(
        "--csv", default=None, help="a CSV path or URL instead of --dataset (default: none)"
    )
    p.add_argument(
        "--layout",
        choices=("table", "series"),
        default="table",
        help="CSV: one sample per row, or one series column (default: table)",
    )
    p.add_argument(
        "--label-col", default=None, help="CSV: label column, 1 = anomaly (default: none)"
    )
    p.add_argument(
        "--normal-label",
        default=None,
        help="CSV: label value of normal rows, if not 0 (default: none)",
    )
    p.add_argument("--drop-missing", action="store_true", help="CSV: drop rows with NaN/inf")
    p.add_argument(
        "--window",
        type=int,
        default=None,
        help="series window (default: 200 for ecg, 128 for kdd135/CSVs)",
    )
    p.add_argument("--stride", type=int, default=1, help="series window stride (default: 1)")
    p.add_argument(
        "--unsupervised",
        action="store_true",
        help="learn from all samples (default: normal ones only)",
    )
    p.add_argument("--variant", choices=("dense", "conv"), default="dense", help="(default: dense)")
    p.add_argument(
        "--latent", type=int, default=0, help="latent size (default: 0 = tutorial, scaled)"
    )
    p.add_argument("--loss", choices=("mae", "mse"), default="mae", help="(default: mae)")
    p.add_argument("--epochs", type=int, default=60, help="(default: 60; --quick: 3)")
    p.add_argument("--batch-size", type=int, default=64, help="(default: 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    p.add_argument("--patience", type=int, default=8, help="early-stopping patience (default: 8)")
    p.add_argument(
        "--threshold-rule",
        choices=list(THRESHOLD_RULES),
        default="mean_std",
        help="(default: mean_std)",
    )
    p.add_argument(
        "--threshold-param",
        type=float,
        default=None,
        help="mean_std: k; percentile: contamination (default: 1 / 0.05)",
    )
    p.add_argument(
        "--max-seconds", type=float, default=90.0,
        help="training wall-time cap; keeps `make demo` near 2 minutes on 2 cores (default: 90)",
    )  # fmt: skip
    return p.parse_args(argv)


def load_data(args: argparse.Namespace):
    if args.csv is None:
        stride = args.stride * (4 if args.quick else 1)  # --quick: a quarter of the windows
        return load_builtin(args.dataset, args.normal_digit, args.window, stride, args.seed)
    path = args.csv
    if path.startswith(("http://", "https://")):  # online only
        path = tempfile.mkstemp(suffix=".csv")[1]
        urllib.request.urlretrieve(args.csv, path)  # noqa: S310 - the user's own URL
    frame = read_csv(path, max_bytes=2**31)  # the CLI trusts its user with big files
    if args.normal_label is not None and args.label_col:
        if args.label_col not in frame.columns and args.label_col.isdigit():
            frame.columns = [str(i) for i in range(frame.shape[1])]  # headerless, like ECG5000
        normal = frame[args.label_col].astype(str) == str(args.normal_label)
        frame[args.label_col] = (~normal).astype(int)
    return task_from_frame(
        frame,
        Path(args.csv).name,
        args.layout,
        args.label_col,
        args.window or 128,
        args.stride,
        args.drop_missing,
        not args.unsupervised,
        args.seed,
    )


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    data = load_data(args)
    settings = TrainSettings(
        variant=args.variant,
        latent=args.latent,
        loss=args.loss,
        epochs=3 if args.quick else args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        threshold_rule=args.threshold_rule,
        threshold_param=args.threshold_param,
        max_seconds=args.max_seconds,
        max_rows=500 if args.quick else None,
        seed=args.seed,
    )
    result = train_autoencoder(data, settings)
    folder = output_dir(args.out, "anomaly")
    if not is_main_process():  # under torchrun every process trained; one saves
        return folder
    result.model.save(folder)
    save_json(
        folder / "metrics.json",
        {"test": result.metrics, "history": result.history, "stop_reason": result.stop_reason},
    )
    write_card(folder, result, data.name)
    print(f"saved to {folder}: " + ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items()))
    maybe_push(folder, args.push_to_hub)
    return folder


def write_card(folder: Path, result, dataset: str) -> None:
    config = result.model.config
    evals = [
        EvalResult(
            task_type="anomaly-detection",
            task_name="Anomaly detection (anomaly = positive class)",
            dataset_type=dataset,
            dataset_name=dataset,
            metric_type=key,
            metric_name=name,
            metric_value=float(result.metrics[key]),
        )
        for key, name in METRIC_NAMES.items()
        if key in result.metrics and not pd.isna(result.metrics[key])
    ]
    rule = THRESHOLD_RULES[config.threshold_rule][0]
    write_model_card(
        folder,
        title=f"Autoencoder anomaly detector ({dataset})",
        summary=(
            f"A {result.model.describe()}. A sample is an anomaly when its reconstruction error "
            f"({config.loss.upper()}) exceeds {config.threshold:.4g}, chosen by the rule "
            f"'{rule}' (parameter {config.threshold_param:g}). Anomaly is the positive class."
        ),
        library_name="pytorch",
        tags=["anomaly-detection", "autoencoder", "pytorch_model_hub_mixin"],
        datasets=[dataset],
        eval_results=evals,
        command=training_command("training.anomaly"),
        usage=(
            "from shared.anomaly.model import load_autoencoder\n"
            "model = load_autoencoder('org/name')  # or a local folder\n"
            "errors = model.score(raw_rows)  # raw, unscaled rows or windows\n"
            "anomalous = errors > model.config.threshold"
        ),
    )


if __name__ == "__main__":
    main()
