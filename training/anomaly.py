"""Train an autoencoder anomaly detector, pick its threshold, evaluate, save and push it.

    python -m training.anomaly --quick --out /tmp/anomaly            # a few seconds on CPU
    python -m training.anomaly                                       # ECG, into artifacts/anomaly
    python -m training.anomaly --dataset kdd135 --variant conv --out /tmp/kdd
    python -m training.anomaly --dataset digits --normal-digit 3 --threshold-rule mean_std
    python -m training.anomaly --csv data.csv --label-col label --out /tmp/mine
    python -m training.anomaly --csv series.csv --layout series --window 100 --label-col is_anomaly
    # online only: the ECG5000 CSV of the TensorFlow tutorial (140 values, label 1 = normal)
    python -m training.anomaly --label-col 140 --normal-label 1 \
        --csv http://storage.googleapis.com/download.tensorflow.org/data/ecg.csv
    torchrun --standalone --nproc_per_node=2 -m training.anomaly --quick --out /tmp/ddp
    python -m training.anomaly --push-to-hub you/anomaly-autoencoder

Semi-supervised when labels exist (learn from normal samples only), unsupervised otherwise.
Metrics count *anomaly* as the positive class. The training flags come from `TrainSettings`
(shared/anomaly/train.py), where each default and the measurement behind it is written once.
"""

from __future__ import annotations

import argparse
import tempfile
import urllib.request
from dataclasses import MISSING, fields
from pathlib import Path
from types import NoneType, UnionType
from typing import get_args, get_origin, get_type_hints

from shared.anomaly.artifact import save_model
from shared.anomaly.builtin import BUILTINS, KDD_WINDOW, load_builtin
from shared.anomaly.data import ECG_WINDOW
from shared.anomaly.model import LOSSES, VARIANTS
from shared.anomaly.scoring import RULES
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.anomaly.upload import read_csv, task_from_frame
from shared.training import (
    add_common_args,
    is_main_process,
    maybe_push,
    output_dir,
    training_command,
)

# what each TrainSettings field means on the command line; its default comes from the dataclass
SETTINGS_HELP = {
    "variant": "dense (TF tutorial) or conv (Keras Conv1D, series windows only)",
    "hidden": "encoder widths, e.g. --hidden 64 32 (none: the tutorial's, scaled to the input)",
    "latent": "bottleneck size (0: the tutorial's 8/140 of the input)",
    "loss": "reconstruction error to train with and score by",
    "lr": "Adam learning rate",
    "batch_size": "samples per step (0: chosen from the number of samples)",
    "epochs": "passes over the data (0: the step budget of the next three flags)",
    "min_steps": "fewest optimizer steps, for small data",
    "max_steps": "most optimizer steps, for large data",
    "target_epochs": "passes over the data between those two bounds",
    "checks": "early-stopping checks over the whole budget",
    "patience": "checks without a better loss before stopping",
    "val_fraction": "share of the training samples held out for early stopping",
    "min_val": "held-out samples needed to use them; fewer trains on all",
    "threshold_rule": "how errors become a threshold (none: best_f1 with labelled "
    "validation data, else mean_std)",
    "threshold_param": "mean_std: k; percentile: contamination (none: the rule's default)",
    "max_seconds": "training wall-time cap (none: no cap)",
    "max_rows": "train on a random subsample of at most this many samples (none: all)",
    "threads": "torch CPU threads while training",
}
CHOICES = {"variant": VARIANTS, "loss": LOSSES, "threshold_rule": tuple(RULES)}
QUICK_ROWS = 500  # --quick: a random 500 training samples (and a quarter of a series' windows)


def build_parser() -> argparse.ArgumentParser:
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
        help="CSV: label value of normal rows (default: none, labels are 1 = anomaly)",
    )
    p.add_argument("--drop-missing", action="store_true", help="CSV: drop rows with NaN/inf")
    p.add_argument(
        "--window",
        type=int,
        default=None,
        help=f"series window (default: {ECG_WINDOW}, or {KDD_WINDOW} for kdd135)",
    )
    p.add_argument("--stride", type=int, default=1, help="series window stride (default: 1)")
    p.add_argument(
        "--unsupervised", action="store_true", help="learn from all samples, not normal ones only"
    )
    hints = get_type_hints(TrainSettings)
    for f in fields(TrainSettings):
        if f.name not in SETTINGS_HELP:
            continue  # seed comes with the common flags
        kind = hints[f.name]
        if get_origin(kind) is UnionType:  # `float | None`: the flag takes a float
            kind = next(t for t in get_args(kind) if t is not NoneType)
        default = f.default_factory() if f.default is MISSING else f.default
        extra = {"nargs": "*", "type": int} if get_origin(kind) is list else {"type": kind}
        if f.name in CHOICES:
            extra["choices"] = CHOICES[f.name]
        p.add_argument(
            f"--{f.name.replace('_', '-')}",
            default=default,
            help=f"{SETTINGS_HELP[f.name]} (default: {'none' if default is None else default})",
            **extra,
        )
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def load_data(args: argparse.Namespace):
    if args.csv is None:
        stride = args.stride * (4 if args.quick else 1)  # --quick: a quarter of the windows
        return load_builtin(args.dataset, args.normal_digit, args.window, stride, args.seed)
    path = args.csv
    if path.startswith(("http://", "https://")):  # online only
        path = tempfile.mkstemp(suffix=".csv")[1]
        urllib.request.urlretrieve(args.csv, path)  # noqa: S310 - the user's own URL
    csv = read_csv(path, max_bytes=2**31)  # the CLI trusts its user with big files
    print(csv.description)
    frame = csv.frame
    if args.normal_label is not None and args.label_col:
        if args.label_col not in frame.columns:
            raise SystemExit(f"--label-col {args.label_col!r} is not a column of {args.csv}.")
        normal = frame[args.label_col].astype(str) == str(args.normal_label)
        frame[args.label_col] = (~normal).astype(int)
    return task_from_frame(
        frame,
        Path(args.csv).name,
        args.layout,
        args.label_col,
        args.window or ECG_WINDOW,
        args.stride,
        args.drop_missing,
        not args.unsupervised,
        args.seed,
    )


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    data = load_data(args)
    settings = TrainSettings(
        **{f.name: getattr(args, f.name) for f in fields(TrainSettings) if hasattr(args, f.name)}
    )
    if args.quick:
        settings.max_rows = min(settings.max_rows or QUICK_ROWS, QUICK_ROWS)
    result = train_autoencoder(data, settings)
    folder = output_dir(args.out, "anomaly")
    if not is_main_process():  # under torchrun every process trained; one saves
        return folder
    save_model(folder, result, settings, data.name, training_command("training.anomaly"))
    print(f"saved to {folder}: " + ", ".join(f"{k} {v:.4g}" for k, v in result.metrics.items()))
    maybe_push(folder, args.push_to_hub)
    return folder


if __name__ == "__main__":
    main()
