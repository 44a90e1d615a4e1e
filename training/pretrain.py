"""Pretrain a timm CNN on printed letters: the offline "CNN pretrained on a large dataset".

The course's first step loads a CNN pretrained on ImageNet. Offline, this job makes the
pretrained model itself: it renders tens of thousands of jittered letters from the fonts that
ship with matplotlib (shared/transfer/glyphs.py), trains the backbone from scratch to tell them
apart, and saves it in timm's Hub layout with a model card, ready for `training.transfer
--pretrained-from` and `training.detect`. Online, timm's ImageNet weights (`--pretrained` there)
stay the first choice.

    python -m training.pretrain --quick --out /tmp/pretrained     # seconds, 2,000 glyphs
    python -m training.pretrain                                   # artifacts/pretrained, ~2 min
    python -m training.pretrain --images 80000 --epochs 4          # a bigger source
    python -m training.pretrain --backbone resnet18 --img-size 64  # another timm backbone
    python -m training.pretrain --push-to-hub ORG/glyphs-test-resnet
    torchrun --nproc_per_node=2 -m training.pretrain --quick       # same script, 2 processes
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

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
from shared.transfer import backbone, glyphs, hub_io, recipe
from shared.transfer.schedule import CourseSchedule


@dataclasses.dataclass
class PretrainConfig:
    # timm's tiny registered ResNet (0.4M parameters, the stages of resnet18): 40,000 glyphs
    # train at about 2,300 images/s on 2 cores here, where resnet18 runs about 4x slower
    backbone: str = "test_resnet"
    img_size: int = 32  # the glyphs' and the target digits' size
    images: int = 40_000  # tens of thousands: enough for 37 classes x 21 faces x jitter
    epochs: int = 3  # measured: held-out glyph accuracy levels off after 3 passes (see README)
    batch_size: int = 128  # many small images: larger batches keep the CPU busy
    lr: float = 2e-3  # the course schedule's peak
    val_images: int = 2_000  # held-out glyphs, rendered from another seed
    threads: int = 1  # like the other jobs: one torch thread is faster on the shared 2 cores
    seed: int = 0


QUICK = {"images": 2_000, "val_images": 400, "epochs": 1, "img_size": 16}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(parser, "pretrained")
    help_text = {
        "backbone": "any timm model name",
        "img_size": "input size in pixels",
        "images": "glyphs to pretrain on",
        "epochs": "passes over the glyphs",
        "batch_size": "images per optimizer step",
        "lr": "peak of the course's learning-rate schedule",
        "val_images": "held-out glyphs for the reported accuracy",
        "threads": "torch CPU threads",
    }
    defaults = PretrainConfig()
    for name, text in help_text.items():
        value = getattr(defaults, name)
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=type(value),
            default=value,
            help=f"{text} (default: {value})",
        )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    if parser.parse_known_args(argv)[0].quick:
        parser.set_defaults(**QUICK)  # --quick changes the defaults; flags given still win
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> PretrainConfig:
    names = {f.name for f in dataclasses.fields(PretrainConfig)}
    return PretrainConfig(**{k: v for k, v in vars(args).items() if k in names})


def pretrain(config: PretrainConfig) -> tuple[torch.nn.Module, list[str], dict]:
    """Render the glyphs, train the backbone from scratch on them; return model, names, metrics."""
    start = time.perf_counter()
    train_glyphs = glyphs.GlyphConfig(n_images=config.images, seed=config.seed)
    # held-out glyphs come from another seed: other jitter, other noise, same fonts and letters
    val_glyphs = dataclasses.replace(train_glyphs, n_images=config.val_images, seed=config.seed + 1)
    x, y, names = glyphs.generate(train_glyphs)
    vx, vy, _ = glyphs.generate(val_glyphs)
    generated = time.perf_counter() - start
    seed_everything(config.seed)
    model = backbone.create(config.backbone, len(names), config.img_size)
    data_config = resolve_model_data_config(model)
    train = (glyphs.to_model_input(x, data_config), y)
    val = (glyphs.to_model_input(vx, data_config), vy)
    stage = recipe.StageConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        schedule=dataclasses.replace(CourseSchedule(), peak=config.lr),
    )
    run = recipe.train_stage(model, train, val, stage, n_frozen=0, name="pretrain")
    metrics = {
        "val_accuracy": recipe.accuracy(model, val),
        "history": run.history,
        "seconds": {"generate": generated, "total": time.perf_counter() - start},
        "glyphs": {"train": config.images, "val": config.val_images, "classes": len(names)},
    }
    return model, names, metrics


def save(folder: Path, model, names: list[str], config: PretrainConfig, metrics: dict) -> None:
    extra = {
        "role": "pretrained source",
        "pretrain": dataclasses.asdict(config),
        "glyphs": dataclasses.asdict(glyphs.GlyphConfig(n_images=config.images)),
    }
    hub_io.save(model, folder, names, extra)
    save_json(folder / "metrics.json", metrics)
    write_model_card(
        folder,
        title=f"{config.backbone} pretrained on printed letters",
        summary=(
            f"A timm `{config.backbone}` at {config.img_size} px trained from scratch to tell "
            f"apart {len(names)} printed letters ({''.join(names)}) rendered from the "
            f"{len(glyphs.FACES)} text faces bundled with matplotlib, with random rotation, "
            f"shear, shift, size, stroke width, resolution, blur and noise "
            f"({config.images:,} images). It is the offline stand-in for an ImageNet-pretrained "
            "CNN: the transfer-learning labs fine-tune it on handwritten digits."
        ),
        library_name="timm",
        tags=["image-classification", "pretraining", "timm", "synthetic-data"],
        datasets=["matplotlib-fonts-glyphs"],
        eval_results=[
            EvalResult(
                task_type="image-classification",
                dataset_type="glyphs",
                dataset_name=f"held-out glyphs ({config.val_images:,})",
                metric_type="accuracy",
                metric_value=metrics["val_accuracy"],
                metric_name="accuracy",
            )
        ],
        command=training_command("training.pretrain"),
        usage=f"""import timm
model = timm.create_model("local-dir:{folder.name}", pretrained=True)  # or "hf-hub:ORG/NAME"
# transfer it: python -m training.transfer --pretrained-from {folder.name}""",
        pipeline_tag="image-classification",
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = output_dir(args.out, "pretrained")
    config = config_from(args)
    model, names, metrics = pretrain(config)
    print(
        f"pretrained {config.backbone} on {config.images:,} glyphs: held-out accuracy "
        f"{metrics['val_accuracy']:.4f} in {metrics['seconds']['total']:.0f} s -> {out}"
    )
    if is_main_process():
        save(out, model, names, config, metrics)
        maybe_push(out, args.push_to_hub)
    PartialState().wait_for_everyone()


if __name__ == "__main__":
    main()
