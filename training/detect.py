"""Object detection by transfer learning: a timm backbone, a torchvision detector, mAP.

The course's five objectives, for boxes: load a pretrained backbone (a classification
"pretrained model" folder), freeze it by stage, put a detection head on it (FCOS by default),
train the head, then (fine_tuned) unfreeze every stage at layer-decayed rates with the course's
schedule. The saved detector is the head-only one, which measured best here (see
shared/detect/train.py). From scratch, head only and fine-tuned are compared on the same scenes
and epochs with few scenes, and with all of them when --methods asks; all of it lands in
metrics.json and the model card.

    python -m training.detect --quick --out /tmp/detect           # seconds, tiny scenes
    python -m training.detect --out artifacts/detect               # the app's model
    python -m training.detect --methods scratch,head_only,fine_tuned   # + full-size comparison
    python -m training.detect --pretrained-from artifacts/pretrained   # the glyph source
    python -m training.detect --architecture fasterrcnn            # or retinanet
    python -m training.detect --data my_boxes.zip --pretrained-from artifacts/transfer
    python -m training.detect --backbone resnet18 --pretrained --img-size 320   # online
    python -m training.detect --push-to-hub ORG/detect-fcos
    torchrun --nproc_per_node=2 -m training.detect --quick         # same script, 2 processes

Default source: artifacts/transfer/ (the digit classifier, itself fine-tuned from the glyph
source: it transferred best) when it exists, else artifacts/pretrained/ (part one's glyph
"pretrained model"), else none (every method from scratch).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
import torch
from accelerate import PartialState
from huggingface_hub import EvalResult

from shared.detect import coco, hub_io, scenes
from shared.detect import train as recipe
from shared.detect.evaluate import to_tensor
from shared.detect.model import ARCHITECTURES, default_config
from shared.hub import artifacts_dir, save_json, write_model_card
from shared.training import (
    add_common_args,
    is_main_process,
    maybe_push,
    output_dir,
    seed_everything,
    training_command,
)
from training import parallel

# --quick: a few small scenes and one epoch per stage: the shape of a real run in seconds
QUICK = {
    "scenes": 24,
    "test_scenes": 8,
    "epochs": 2,
    "few_scenes": 8,
    "few_epochs": 2,
    "img_size": 64,
}
# artifacts/ folders tried in order for the backbone. Glyphs then digits (transfer) transferred
# best: 50 scenes, head only, mAP@0.5 0.692 / 0.434 / 0.582 (seeds 0-2, with a digit classifier
# that never saw the test scenes' digits) against glyphs alone 0.532 / 0.426 (seeds 0-1) and
# digits alone 0.361 / 0.127 (benchmarks/results/detect.md).
SOURCES = ("transfer", "pretrained")
TEST_SHARE = 0.2  # of a --data zip's images, held out for mAP


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_common_args(p, "detect")
    model, run = default_config(), recipe.RecipeConfig()
    p.add_argument(
        "--architecture", choices=ARCHITECTURES, default=model.architecture,
        help=f"torchvision detector (default: {model.architecture})",
    )  # fmt: skip
    p.add_argument(
        "--backbone", default=model.backbone, help=f"timm model name (default: {model.backbone})"
    )
    p.add_argument(
        "--img-size", type=int, default=model.img_size,
        help=f"input side in pixels (default: {model.img_size})",
    )  # fmt: skip
    p.add_argument(
        "--pretrained-from", metavar="PATH", default=None,
        help="a classifier folder or Hub id in timm's layout (config.json + model.safetensors) "
        "whose backbone the detector starts from (default: artifacts/pretrained, else "
        "artifacts/transfer, else none)",
    )  # fmt: skip
    p.add_argument("--pretrained", action="store_true", help="timm's Hub weights (online)")
    p.add_argument("--data", type=Path, default=None, help="a COCO zip (default: digit scenes)")
    help_text = {
        "scenes": "built-in training scenes",
        "test_scenes": "built-in test scenes (held-out digits)",
        "epochs": "epoch budget of every method at full size",
        "batch_size": "scenes per batch",
        "lr": "peak of the course schedule",
        "few_scenes": "training scenes of the few-data comparison (0: skip it)",
        "few_epochs": "its epoch budget",
    }
    for name, text in help_text.items():
        value = getattr(run, name)
        p.add_argument(
            f"--{name.replace('_', '-')}", type=type(value), default=value,
            help=f"{text} (default: {value})",
        )  # fmt: skip
    p.add_argument(
        "--methods", default=recipe.SHIPPED,
        help="methods trained on all the scenes, compared on the same epochs; the head-only "
        "(else the last) one is saved; scratch,head_only,fine_tuned adds the full-size "
        "comparison (default: %(default)s; the few-scene comparison always runs all three)",
    )  # fmt: skip
    # one thread: measured faster than two while other jobs share the 2 cores (see README)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parallel.add_workers_arg(p)
    args = p.parse_args(argv)
    if args.quick:
        vars(args).update(QUICK)
    parallel.resolve_workers(args)
    args.methods = [m for m in args.methods.split(",") if m]
    unknown = set(args.methods) - set(recipe.METHODS)
    if unknown or not args.methods:
        p.error(f"--methods: choose from {', '.join(recipe.METHODS)}")
    return args


def default_source(args) -> str | None:
    if args.pretrained_from or args.pretrained:
        return args.pretrained_from
    for name in SOURCES:
        if (artifacts_dir() / name / "config.json").is_file():
            return str(artifacts_dir() / name)
    return None


def load_data(args, light_on_dark: bool):
    """(train examples, test examples, class names, few-scene examples or None)."""
    if args.data:
        data = coco.load_zip(args.data, max_side=args.img_size)
        order = np.random.default_rng(args.seed).permutation(len(data.images))
        n_test = max(1, round(TEST_SHARE * len(order)))
        pairs = [
            (to_tensor(data.images[i], light_on_dark), recipe.target(**data.targets[i]))
            for i in order
        ]
        return pairs[n_test:], pairs[:n_test], data.classes, None
    size = args.img_size
    train = recipe.examples(scenes.make_scenes(args.scenes, "train", args.seed, size))
    test = recipe.examples(scenes.make_scenes(args.test_scenes, "test", args.seed, size))
    few = train[: args.few_scenes] if args.few_scenes else None
    return train, test, scenes.CLASSES, few


def setup(args):
    """What every run of this command shares: (detector config, recipe, data, source)."""
    source = default_source(args)
    light_on_dark = args.data is None  # the built-in scenes: white ink on black
    base = default_config(args.architecture, backbone=args.backbone, img_size=args.img_size)
    train, test, classes, few = load_data(args, light_on_dark)
    config = dataclasses.replace(base, classes=list(classes), light_on_dark=light_on_dark)
    run = recipe.RecipeConfig(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(recipe.RecipeConfig)}
    )
    return config, run, (train, test, few), source


_SETUP: dict = {}  # per process: a worker builds the scenes once for all its runs


def method_job(args, setting: str, method: str, keep: bool = False) -> dict:
    """One method on the full scenes or the few ones ("full" / "few"), in a worker process.

    The worker builds the scenes from `args` itself (about 2 s for 1,000): they are drawn from
    the seed, so every process sees the same ones. Returns mAP, seconds and stages, and the
    detector's weights when `keep`.
    """
    key = repr(sorted(vars(args).items()))
    if key not in _SETUP:
        _SETUP.clear()
        _SETUP[key] = setup(args)
    config, run, (train, test, few), source = _SETUP[key]
    split = few if setting == "few" else train
    detector, result = recipe.run_method(
        config, source, split, test, run.stage_config(few=setting == "few"), method,
        seed=args.seed, hub=args.pretrained,
    )  # fmt: skip
    if keep:
        result["state_dict"] = detector.state_dict()
    return result


def main(argv=None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = output_dir(args.out, "detect")
    seed_everything(args.seed)
    config, run, (train, test, few), source = setup(args)
    pretrained = source is not None or args.pretrained
    methods = args.methods if pretrained else ["scratch"]
    few_methods = list(recipe.METHODS) if pretrained else ["scratch"]
    if not pretrained:
        print("no pretrained source found: training from scratch only (see --pretrained-from)")
    print(f"backbone source: {source or ('timm Hub weights' if args.pretrained else 'none')}")
    saved = recipe.SHIPPED if recipe.SHIPPED in methods else methods[-1]
    # every run is independent: the full-size ones first (the longest), then the few-scene ones
    settings = [("full", m) for m in methods] + [("few", m) for m in few_methods if few]
    jobs = [
        parallel.Job(
            f"{setting} {method}",
            "training.detect:method_job",
            {
                "args": args,
                "setting": setting,
                "method": method,
                "keep": setting == "full" and method == saved,
            },
            summary=lambda r: f"mAP@0.5 {r['map_50']:.3f}, mAP {r['map']:.3f}",
        )  # fmt: skip
        for setting, method in settings
    ]
    done = parallel.run_jobs(jobs, args.workers, args.threads, label="detect")
    results = {
        setting: {m: done[f"{setting} {m}"] for s, m in settings if s == setting}
        for setting in ("full", "few")
    }
    metrics = {"source": source}
    metrics["full"] = {"scenes": len(train), **_summary(results["full"], run.epochs)}
    if few:
        metrics["few"] = {"scenes": len(few), **_summary(results["few"], run.few_epochs)}
    model = recipe.build(config, None, args.seed)
    model.load_state_dict(results["full"][saved].pop("state_dict"))
    model.eval()
    chosen = results["full"][saved]
    metrics.update(method=saved, map=chosen["map"], map_50=chosen["map_50"])
    for name in ("full", "few"):
        if name in metrics:
            table = {m: (round(r["map_50"], 4), round(r["map"], 4)) for m, r in metrics[name][
                "results"].items()}  # fmt: skip
            print(f"{name} ({metrics[name]['scenes']} scenes): mAP@0.5, mAP = {table}")
    PartialState().wait_for_everyone()
    if is_main_process():
        training = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
        hub_io.save(model, out, {**training, "source": source})
        save_json(out / "metrics.json", metrics)
        write_card(args, out, metrics)
        print(f"saved {out}")
        maybe_push(out, args.push_to_hub)


def _summary(results: dict, epochs: int) -> dict:
    return {"epochs": epochs, "results": results}


def write_card(args, out: Path, metrics: dict) -> None:
    dataset = "digit scenes (held-out digits)" if args.data is None else "your COCO data (test)"
    results = []
    for setting in ("full", "few"):
        for method, r in metrics.get(setting, {}).get("results", {}).items():
            for key, name in (("map_50", "mAP@0.5"), ("map", "mAP@[.5:.95]")):
                results.append(
                    EvalResult(
                        task_type="object-detection",
                        dataset_type="sklearn-digits-scenes" if args.data is None else "coco",
                        dataset_name=f"{dataset}, {metrics[setting]['scenes']} training scenes",
                        metric_type=key,
                        metric_value=r[key],
                        metric_name=f"{method.replace('_', ' ')} {name}",
                    )
                )
    write_model_card(
        out,
        title=f"{args.architecture} detector on a timm {args.backbone} backbone",
        summary=(
            f"torchvision {args.architecture} on timm `{args.backbone}` (features_only, strides "
            f"4-32) through a feature pyramid, at {args.img_size} px. Backbone from "
            f"`{metrics['source'] or 'scratch'}`; the saved model is the "
            f"{metrics['method'].replace('_', ' ')} one. mAP by torchmetrics (faster-coco-eval)."
        ),
        library_name="pytorch",
        tags=["object-detection", "transfer-learning", "timm", "torchvision", args.architecture],
        datasets=["sklearn-digits"] if args.data is None else [],
        eval_results=results,
        command=training_command("training.detect"),
        extra=settings_section(args, metrics),
        usage=f"""from shared.detect import hub_io
detector = hub_io.load("{out.name}")  # or "ORG/NAME" on the Hub""",
        pipeline_tag="object-detection",
    )


def settings_section(args, metrics: dict) -> str:
    """Which settings made each figure: scenes, epochs and seed per comparison."""
    rows = "\n".join(
        f"| {setting} | {metrics[setting]['scenes']} | {metrics[setting]['epochs']} | {args.seed} "
        f"| {', '.join(m.replace('_', ' ') for m in metrics[setting]['results'])} |"
        for setting in ("full", "few")
        if setting in metrics
    )
    return f"""
## Comparison settings

Each figure is one real run of its method (seed {args.seed}; scratch from random weights, the
others from the backbone source), evaluated on the same held-out test images.

| setting | training scenes | epochs | seed | methods |
|---|---|---|---|---|
{rows}
"""


if __name__ == "__main__":
    main()
