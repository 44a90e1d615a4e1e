"""Transfer learning of a timm CNN: pretrain (offline), freeze, new head, staged unfreezing.

Offline default, the course's MNIST case on scikit-learn digits: pretrain the backbone from
scratch on digits 0-4 ("the pretrained model", saved as a timm folder in OUT/source), transfer
to digits 5-9, and compare from-scratch / head-only / fine-tuned on the same data and epochs,
at the full budget and with few labels per class.

    python -m training.transfer --quick --out /tmp/transfer        # seconds, tiny timm model
    python -m training.transfer --out artifacts/transfer           # the app's model, ~40 s CPU
    python -m training.transfer --tune 10 --folds 3                # Optuna + k-fold CV first
    python -m training.transfer --data photos/ --pretrained        # your class folders (online)
    python -m training.transfer --pretrained-from artifacts/transfer/source
    torchrun --nproc_per_node=2 -m training.transfer --quick       # same script, 2 processes
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch
from accelerate import PartialState
from huggingface_hub import EvalResult
from timm.data import resolve_model_data_config

from shared.hub import save_json, write_model_card
from shared.training import (
    add_common_args,
    is_main_process,
    maybe_push,
    output_dir,
    seed_everything,
    training_command,
)
from shared.transfer import backbone, data, hub_io, recipe, tune
from shared.transfer.schedule import CourseSchedule

# --quick: timm's tiny registered test model, a few steps; the shape of a real run in seconds
QUICK = {
    "backbone": "test_resnet",
    "img_size": 16,
    "source_epochs": 1,
    "epochs": 2,
    "few_labels": [5],
    "few_epochs": 2,
    "few_seeds": 1,
    "max_images": 150,
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_common_args(p, "transfer")
    # timm's tiny registered ResNet (0.4M parameters, same stages as resnet18): the offline
    # default must train source + 3 runs + few-label runs in ~2 minutes on 2 CPU cores, and
    # resnet18 at 32 px trains at only ~15-40 images/s there (measured). Online: resnet18 etc.
    p.add_argument(
        "--backbone", default="test_resnet", help="any timm model name (default: test_resnet)"
    )
    # 8x8 digits carry no more detail at 32 px; 32 px still leaves a 4x4 map for Grad-CAM
    p.add_argument("--img-size", type=int, default=32, help="input size in pixels (default: 32)")
    p.add_argument("--pretrained", action="store_true", help="ImageNet weights from the Hub")
    p.add_argument(
        "--pretrained-from",
        metavar="PATH",
        default=None,
        help="a timm folder, Hub id, or .safetensors/.pth file to start from (default: pretrain "
        "on digits 0-4 unless --pretrained or --data)",
    )
    p.add_argument("--data", type=Path, default=None, help="image folder, one subfolder per class")
    p.add_argument("--hub-dataset", default=None, help="Hub dataset id, online only (default: -)")
    p.add_argument("--source-epochs", type=int, default=3, help="pretraining epochs (default: 3)")
    p.add_argument("--epochs", type=int, default=6, help="epoch budget per run (default: 6)")
    p.add_argument("--batch-size", type=int, default=32, help="batch size (default: 32)")
    p.add_argument("--lr", type=float, default=2e-3, help="schedule peak (default: 2e-3)")
    p.add_argument("--weight-decay", type=float, default=0.05, help="AdamW (default: 0.05)")
    p.add_argument(
        "--layer-decay", type=float, default=0.75, help="lr factor/stage (default: 0.75)"
    )
    p.add_argument("--dropout", type=float, default=0.2, help="head dropout (default: 0.2)")
    p.add_argument("--head-hidden", type=int, default=0, help="hidden units, 0: none (default: 0)")
    p.add_argument(
        "--freeze-until",
        type=int,
        default=-1,
        help="stage 1 freezes this many lowest stages; -1: the whole backbone (default: -1)",
    )
    p.add_argument(
        "--unfreeze-plan",
        default="2,0",
        help="frozen stage counts of stages 2, 3, ... (default: 2,0: top stages, then all)",
    )
    p.add_argument("--few-labels", default="10", help="labels per class to try (default: 10)")
    p.add_argument("--few-epochs", type=int, default=30, help="few-label epochs (default: 30)")
    p.add_argument("--few-seeds", type=int, default=1, help="few-label seeds (default: 1)")
    # one thread: measured 40 s against 6 min for the default run with 2 threads while other
    # jobs shared the 2 cores (OpenMP threads wait on each other when a core is taken)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--max-images", type=int, default=None, help="use at most N (default: all)")
    p.add_argument("--tune", type=int, default=0, help="Optuna trials, 0: off (default: 0)")
    p.add_argument("--folds", type=int, default=3, help="CV folds for --tune (default: 3)")
    args = p.parse_args(argv)
    if args.quick:
        vars(args).update({k: v for k, v in QUICK.items()})
    else:
        args.few_labels = [int(n) for n in str(args.few_labels).split(",") if n]
    args.unfreeze_plan = [int(n) for n in str(args.unfreeze_plan).split(",") if n]
    if (args.data or args.hub_dataset) and not (args.pretrained or args.pretrained_from):
        p.error("--data/--hub-dataset need --pretrained or --pretrained-from")
    return args


def stage_config(args, epochs: int | None = None) -> recipe.StageConfig:
    return recipe.StageConfig(
        epochs=epochs or args.epochs,
        batch_size=args.batch_size,
        weight_decay=args.weight_decay,
        layer_decay=args.layer_decay,
        schedule=dataclasses.replace(CourseSchedule(), peak=args.lr),
    )


def new_model(args, num_classes: int, source: str | None, seed: int, dropout=None):
    seed_everything(seed)  # the same initial head for every run with this seed
    head = backbone.HeadConfig(args.dropout if dropout is None else dropout, args.head_hidden)
    return backbone.create(
        args.backbone,
        num_classes,
        args.img_size,
        head,
        pretrained=args.pretrained and source is None,
        pretrained_from=source,
    )


def pretrain_source(args, folder: Path) -> tuple[str, dict]:
    """The offline "pretrained model": the backbone trained from scratch on digits 0-4."""
    images, labels, names = limit(*data.digits(data.SOURCE_DIGITS), args.max_images)
    model = new_model(args, len(names), None, args.seed)
    x = data.encode(images, resolve_model_data_config(model))
    train, val, _ = data.split(labels, 0.15, 0.0, args.seed)
    y = torch.as_tensor(labels)
    run = recipe.train_stage(
        model,
        (x[train], y[train]),
        (x[val], y[val]),
        stage_config(args, args.source_epochs),
        n_frozen=0,
        name="source",
    )
    acc = recipe.accuracy(model, (x[val], y[val]))
    if is_main_process():
        hub_io.save(model, folder, names, {"role": "source", "digits": list(data.SOURCE_DIGITS)})
    PartialState().wait_for_everyone()  # under torchrun, the others load what rank 0 saved
    print(f"source model (digits 0-4): val accuracy {acc:.4f} -> {folder}")
    return str(folder), {"val_accuracy": acc, "history": run.history}


def compare(args, source, train, val, test, num_classes: int, seed: int, epochs: int) -> dict:
    """Scratch, head only and staged fine-tuning: same data, same epoch budget, same seed."""
    config = stage_config(args, epochs)
    scratch = new_model(args, num_classes, None, seed)
    if args.pretrained and source is None:  # "from scratch" means no pretrained weights at all
        scratch = backbone.create(args.backbone, num_classes, args.img_size)
    runs = {"scratch": recipe.train_stage(scratch, train, val, config, n_frozen=0, seed=seed)}
    head_only = new_model(args, num_classes, source, seed)
    runs["head_only"] = recipe.train_stage(head_only, train, val, config, n_frozen=-1, seed=seed)
    tuned = new_model(args, num_classes, source, seed)
    plan = [args.freeze_until, *args.unfreeze_plan]
    stages = recipe.staged_finetune(tuned, train, val, config, plan, seed=seed)
    models = {"scratch": scratch, "head_only": head_only, "fine_tuned": tuned}
    return {
        "accuracy": {name: recipe.accuracy(m, test) for name, m in models.items()},
        "runs": {k: dataclasses.asdict(v) for k, v in runs.items()},
        "stages": [dataclasses.asdict(s) for s in stages],
        "model": tuned,
    }


def target_data(args):
    if args.data:
        return limit(*data.image_folder(args.data), args.max_images)
    if args.hub_dataset:
        return limit(*data.hub_dataset(args.hub_dataset), args.max_images)
    return limit(*data.digits(data.TARGET_DIGITS), args.max_images)


def limit(images, labels, names, max_images: int | None):
    """The first `max_images` of a fixed shuffle (--quick trains on a slice)."""
    if max_images is None or max_images >= len(labels):
        return images, labels, names
    keep = np.random.default_rng(0).permutation(len(labels))[:max_images]
    return [images[i] for i in keep], labels[keep], names


def run_tuning(args, source, x, y, n_classes: int) -> dict:
    probe = new_model(args, n_classes, source, args.seed)
    n_stages = len(backbone.stages(probe))

    def run_fold(params: dict, train_idx, val_idx) -> float:
        model = new_model(args, n_classes, source, args.seed, dropout=params["dropout"])
        config = stage_config(args)
        config.batch_size, config.weight_decay = params["batch_size"], params["weight_decay"]
        config.schedule = dataclasses.replace(config.schedule, peak=params["lr"])
        n_frozen = n_stages - params["unfrozen_stages"]
        split = (x[train_idx], y[train_idx])
        recipe.train_stage(model, split, None, config, n_frozen=n_frozen, seed=args.seed)
        return recipe.accuracy(model, (x[val_idx], y[val_idx]))

    return tune.tune(run_fold, y.numpy(), n_stages, args.tune, args.folds, args.seed)


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = output_dir(args.out, "transfer")
    seed_everything(args.seed)
    source, metrics = args.pretrained_from, {}
    if source is None and not args.pretrained:
        source, metrics["source"] = pretrain_source(args, out / "source")
    images, labels, names = target_data(args)
    probe = new_model(args, len(names), source, args.seed)
    x, y = data.encode(images, resolve_model_data_config(probe)), torch.as_tensor(labels)
    train_idx, val_idx, test_idx = data.split(labels, 0.2, 0.2, args.seed)
    train, val, test = ((x[i], y[i]) for i in (train_idx, val_idx, test_idx))
    if args.tune:
        metrics["tuning"] = run_tuning(args, source, *train, len(names))
        best = metrics["tuning"]["best"]
        args.lr, args.batch_size = best["lr"], best["batch_size"]
        args.weight_decay, args.dropout = best["weight_decay"], best["dropout"]
        unfrozen = best["unfrozen_stages"]  # stage 2 thaws the tuned number of top stages
        args.unfreeze_plan = [len(backbone.stages(probe)) - unfrozen] if unfrozen else []
        print("best trial:", best)
    full = compare(args, source, train, val, test, len(names), args.seed, args.epochs)
    model = full.pop("model")
    metrics["full"] = full
    metrics["few_label"] = {}
    for per_class in args.few_labels:
        rows = []
        for seed in range(args.seed, args.seed + args.few_seeds):
            few = data.few_labels(labels, train_idx, per_class, seed)
            # no validation set: with a handful of labels, a big labelled val set is cheating
            res = compare(
                args, source, (x[few], y[few]), None, test, len(names), seed, args.few_epochs
            )
            rows.append(res["accuracy"])
        metrics["few_label"][str(per_class)] = {
            "seeds": rows,
            **{k: float(np.mean([r[k] for r in rows])) for k in rows[0]},
        }
    metrics["stage_table"] = stage_table_per_stage(model, [args.freeze_until, *args.unfreeze_plan])
    metrics["test_accuracy"] = full["accuracy"]["fine_tuned"]
    print("target test accuracy:", full["accuracy"])
    print(
        "few-label:",
        {
            k: {m: round(v, 4) for m, v in r.items() if m != "seeds"}
            for k, r in metrics["few_label"].items()
        },
    )
    if is_main_process():
        save(args, out, model, names, source, metrics)
        maybe_push(out, args.push_to_hub)


def stage_table_per_stage(model, plan: list[int]) -> list[dict]:
    """Parameters per stage, and which fine-tuning stages trained it."""
    rows = []
    for i, n_frozen in enumerate(plan):
        backbone.freeze(model, n_frozen)
        for row in backbone.stage_table(model):
            rows.append({"step": f"stage {i + 1}", **row})
    backbone.freeze(model, 0)
    return rows


def save(args, out: Path, model, names, source, metrics) -> None:
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    config["source"] = source
    extra = {"head": {"dropout": args.dropout, "hidden": args.head_hidden}, "training": config}
    hub_io.save(model, out, names, extra)
    save_json(out / "metrics.json", metrics)
    acc = metrics["full"]["accuracy"]
    dataset = "digits 5-9" if not (args.data or args.hub_dataset) else "target data"
    results = [
        EvalResult(
            task_type="image-classification",
            dataset_type="sklearn-digits",
            dataset_name=f"{dataset} (test split)",
            metric_type="accuracy",
            metric_value=value,
            metric_name=f"{run.replace('_', ' ')} accuracy",
        )
        for run, value in acc.items()
    ]
    few = "\n".join(
        f"| {n} | {r['scratch']:.4f} | {r['head_only']:.4f} | {r['fine_tuned']:.4f} |"
        for n, r in metrics["few_label"].items()
    )
    write_model_card(
        out,
        title=f"{args.backbone} transfer-learned classifier",
        summary=(
            f"A timm `{args.backbone}` at {args.img_size} px. Backbone pretrained "
            f"{'on digits 0-4 (offline stand-in for ImageNet)' if source else 'on ImageNet'}, "
            f"then a new head and staged unfreezing on {dataset}. Labels: {', '.join(names)}."
        ),
        library_name="timm",
        tags=["image-classification", "transfer-learning", "timm", "grad-cam"],
        datasets=["sklearn-digits"],
        eval_results=results,
        command=training_command("training.transfer"),
        usage=f"""import timm
model = timm.create_model("local-dir:{out.name}", pretrained=True)  # or "hf-hub:ORG/NAME"
from transformers import pipeline
pipe = pipeline("image-classification", model="{out.name}")""",
        pipeline_tag="image-classification",
        extra=f"""
## Few labels per class (test accuracy, mean over seeds)

| labels per class | scratch | head only | fine-tuned |
|---|---|---|---|
{few}
""",
    )


if __name__ == "__main__":
    main()
