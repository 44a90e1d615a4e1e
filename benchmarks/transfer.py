"""Transfer learning benchmark: does the pretrained model help, and at what speed?

    python benchmarks/transfer.py          # ~10 min on 2 CPU cores -> results/transfer.md
    python benchmarks/transfer.py --seeds 1 --repeats 3 --out /tmp/t.md   # a quick look

Source: the printed-letters model (training/pretrain.py), generated and pretrained here, timed.
Accuracy: the offline experiment with the training defaults, through the same function that
training/transfer.py runs (`label_budget`, same seeds), so the app's Model tab shows these
numbers: from scratch / head only / staged fine-tuning at 5, 10 and 25 labels per class and the
full set (mean and spread over seeds), plus head-only variants (a hidden-layer head; the top
stage unfrozen), and the course's size x similarity chart (shared/transfer/quadrant.py) with as
many seeds, in the same pool of runs. Speed: training images/s with the backbone frozen against
full fine-tuning (same model, batch, steps), and latency of the app's classify function for
resnet18 at its native 224 px, with and without Grad-CAM. Timings alternate the compared
settings inside each repeat and report medians, because the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from timm.data import resolve_model_data_config

from benchmarks import report as report_file
from shared.transfer import backbone, data, hub_io, quadrant, recipe
from shared.transfer.cam import classify
from training import pretrain, transfer

RESULTS = Path(__file__).resolve().parent / "results" / "transfer.md"
METHODS = ("scratch", "head_only", "fine_tuned")


def accuracy_section(seeds: int) -> list[str]:
    args = transfer.parse_args(["--seeds", str(seeds), "--quadrant-seeds", str(seeds)])
    # the training jobs' thread count: the same arithmetic as `make demo`'s models, so the app's
    # Model tab and this table agree to the digit (and 1 thread is faster on 2 shared cores)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        config = pretrain.PretrainConfig(seed=args.seed)
        start = time.perf_counter()
        model, names, source_metrics = pretrain.pretrain(config)
        source_seconds = time.perf_counter() - start
        source = Path(tmp) / "source"
        pretrain.save(source, model, names, config, source_metrics)
        images, labels, names = data.digits(data.DIGITS)
        probe = transfer.new_model(args, len(names), str(source), args.seed)
        data_config = resolve_model_data_config(probe)
        x, y = data.encode(images, data_config), torch.as_tensor(labels)
        splits = data.split(labels, 0.2, 0.2, args.seed)
        printed = transfer.printed_target(args, len(labels), data_config)
        _, full, few_label, chart = transfer.label_budget(
            args, str(source), x, y, splits, len(names), printed
        )
        train, val, test = ((x[i], y[i]) for i in splits)
        variants = head_only_variants(args, str(source), train, val, test, len(names))
    torch.set_num_threads(threads)
    generate = source_metrics["seconds"]["generate"]
    lines = [
        f"Source: {config.images:,} printed letters ({len(names)} target classes later) "
        f"generated in {generate:.0f} s, `{config.backbone}` pretrained on them for "
        f"{config.epochs} epochs: held-out glyph accuracy {source_metrics['val_accuracy']:.2%}; "
        f"generation and pretraining together {source_seconds:.0f} s.",
        "",
        f"Target: scikit-learn's ten handwritten digits, test split of {len(splits[2])}. "
        f"Backbone `{args.backbone}` at {args.img_size} px, {args.epochs} epochs per run at the "
        f"full set (few-label runs: up to {args.few_epochs}, about {transfer.FEW_PASSES:,} images "
        "seen), the same light augmentation for every "
        f"method, {seeds} seed(s) per setting: mean (min, max).",
        "",
        "| labels per class | from scratch | head only | fine-tuned (staged) |",
        "|---|---|---|---|",
    ]
    rows = [(k, {m: [r[m] for r in v["seeds"]] for m in METHODS}) for k, v in few_label.items()]
    rows.append((f"{full['train_per_class']} (full set)", full["seeds"]))
    for setting, runs in rows:
        cells = [_mean_spread(runs[m]) for m in METHODS]
        lines.append(f"| {setting} | {' | '.join(cells)} |")
    lines += ["", "Gaps (points, mean over seeds):", ""]
    lines += ["| labels per class | fine-tuned - scratch | head only - scratch |", "|---|---|---|"]
    for setting, runs in rows:
        mean = {m: np.mean(runs[m]) for m in METHODS}
        lines.append(
            f"| {setting} | {100 * (mean['fine_tuned'] - mean['scratch']):+.1f} "
            f"| {100 * (mean['head_only'] - mean['scratch']):+.1f} |"
        )
    lines += ["", "Head-only variants (full set, same epochs, first seed):", ""]
    lines += ["| head-only variant | test accuracy |", "|---|---|"]
    lines += [f"| {name} | {acc:.2%} |" for name, acc in variants]
    return lines + ["", *quadrant_section(chart)]


def quadrant_section(runs: dict) -> list[str]:
    """The size x similarity chart: its cells, their sentences, and each size on its own."""
    lines = ["## Size x similarity: the course's chart, measured", ""]
    lines += [quadrant.settings_text(runs), ""]
    lines += quadrant.markdown(quadrant.means(runs["accuracy"]), runs)
    lines += ["", "Each size on its own (test accuracy, mean (min, max) over seeds):", ""]
    lines += ["| target | labels per class | " + " | ".join(quadrant.STRATEGIES.values()) + " |"]
    lines += ["|---|---|" + "---|" * len(quadrant.STRATEGIES)]
    for target, sizes in runs["accuracy"].items():
        for size, accuracy in sizes.items():
            cells = " | ".join(_mean_spread(accuracy[s]) for s in quadrant.STRATEGIES)
            lines.append(f"| {quadrant.TARGETS[target]} | {size} | {cells} |")
    return lines


def _mean_spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2%}"
    return f"{np.mean(values):.2%} (min {min(values):.2%}, max {max(values):.2%})"


def head_only_variants(args, source, train, val, test, k) -> list[tuple[str, float]]:
    out = []
    config = transfer.stage_config(args)
    config.head_lr_scale = args.probe_lr_scale  # as the head-only run of `compare`
    for name, hidden, n_frozen in (
        ("linear head, whole backbone frozen (default)", 0, -1),
        ("hidden layer of 128, whole backbone frozen", 128, -1),
        ("linear head, top stage unfrozen", 0, None),
    ):
        args.head_hidden = hidden
        model = transfer.new_model(args, k, source, args.seed)
        frozen = len(backbone.stages(model)) - 1 if n_frozen is None else n_frozen
        recipe.train_stage(model, train, val, config, n_frozen=frozen, seed=args.seed)
        out.append((name, recipe.accuracy(model, test)))
    args.head_hidden = 0
    return out


def throughput(model, n_frozen: int, x, y, steps: int) -> float:
    backbone.freeze(model, n_frozen)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
    backbone.train_mode(model)
    start = time.perf_counter()
    for _ in range(steps):
        loss, _ = recipe.loss_fn(model, (x, y))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps * len(x) / (time.perf_counter() - start)


def speed_section(repeats: int) -> list[str]:
    lines = ["| model | input | batch | head only (img/s) | full fine-tune (img/s) | ratio |"]
    lines.append("|---|---|---|---|---|---|")
    for name, size, batch, steps in (("test_resnet", 32, 32, 20), ("resnet18", 32, 32, 3)):
        model = backbone.create(name, 5, size)
        x, y = torch.randn(batch, 3, size, size), torch.arange(batch) % 5
        throughput(model, 0, x, y, 1)  # warm-up
        head, full = [], []
        for _ in range(repeats):  # alternate, so both see the same background load
            head.append(throughput(model, -1, x, y, steps))
            full.append(throughput(model, 0, x, y, steps))
        h, f = statistics.median(head), statistics.median(full)
        lines.append(f"| {name} | {size} px | {batch} | {h:.0f} | {f:.0f} | {h / f:.2f}x |")
    return lines


def latency_section(calls: int) -> list[str]:
    model = backbone.create("resnet18", 5, 224)  # native size; weights do not change the time
    model.eval()
    clf = hub_io.Classifier(model, list("56789"), resolve_model_data_config(model), {}, None)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8))
    classify(clf, image)  # warm-up
    times = {True: [], False: []}
    for _ in range(calls):
        for cam in (False, True):
            start = time.perf_counter()
            classify(clf, image, cam=cam)
            times[cam].append(1000 * (time.perf_counter() - start))
    lines = ["| resnet18, 224 px, 400x300 upload | median (ms) | p95 (ms) |", "|---|---|---|"]
    for cam, label in ((False, "labels only"), (True, "labels + Grad-CAM + box")):
        t = times[cam]
        lines.append(f"| {label} | {statistics.median(t):.1f} | {np.percentile(t, 95):.1f} |")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=3, help="few-label seeds (default: 3)")
    p.add_argument("--repeats", type=int, default=5, help="throughput repeats (default: 5)")
    p.add_argument("--calls", type=int, default=30, help="latency calls (default: 30)")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"report (default: {RESULTS})")
    args = p.parse_args()
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    speed = speed_section(args.repeats)
    latency = latency_section(args.calls)
    accuracy = accuracy_section(args.seeds)
    minutes = (time.perf_counter() - start) / 60
    report = [
        "# Transfer learning benchmark",
        "",
        f"`python benchmarks/transfer.py --seeds {args.seeds} --repeats {args.repeats} "
        f"--calls {args.calls}`: {minutes:.1f} min on {os.cpu_count()} CPU cores, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads for speed (accuracy: the "
        "training jobs' 1 thread); 1-min load average "
        f"{load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (other jobs "
        "shared the machine, so absolute timings are noisy; ratios come from the same run).",
        "",
        "## Accuracy (target test split)",
        "",
        *accuracy,
        "",
        "## Training throughput: backbone frozen against full fine-tuning",
        "",
        *speed,
        "",
        "## Inference latency of the app's classify function",
        "",
        *latency,
        "",
    ]
    report_file.write(args.out, report)


if __name__ == "__main__":
    main()
