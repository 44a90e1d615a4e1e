"""Train what else an autoencoder does on the digits, measure each use, save and push it.

    python -m training.anomaly_uses --quick --out /tmp/uses     # a few seconds on CPU
    python -m training.anomaly_uses                             # into artifacts/anomaly_uses
    python -m training.anomaly_uses --steps 4000 --vae-latent 8 --out /tmp/uses-long
    python -m training.anomaly_uses --push-to-hub you/anomaly-uses

One folder in the Hub layout: `model.safetensors` (every network), `config.json` (the resolved
`UsesConfig`, training settings included), `metrics.json` (reduction, denoising, compression,
features, generation on the held-out 30%) and a model card with the numbers. The anomaly app's
tab "What else an autoencoder does" loads it. The flags come from `UsesConfig`
(shared/uses/models.py), where each default and the measurement behind it is written once.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import MISSING, fields
from typing import get_origin, get_type_hints

from shared.training import add_common_args, maybe_push, output_dir, training_command
from shared.uses.artifact import save_uses
from shared.uses.data import load_split
from shared.uses.measure import measure
from shared.uses.models import UsesConfig
from shared.uses.train import train_uses

APP = "anomaly_uses"
# what each UsesConfig field means on the command line; its default comes from the dataclass
CONFIG_HELP = {
    "code_sizes": "code sizes of the compression curve, 2 included (the map)",
    "feature_code": "the code size whose code feeds the few-label classifier",
    "hidden": "encoder widths of every dense autoencoder, mirrored in the decoder",
    "denoise_code": "code size of the denoising autoencoder",
    "max_noise": "the denoiser trains on noise std drawn from [0, this] per digit",
    "vae_latent": "latent size of the VAE",
    "vae_hidden": "encoder widths of the VAE, mirrored in its decoder",
    "steps": "Adam steps per network",
    "batch_size": "digits per step",
    "lr": "Adam learning rate",
    "threads": "torch CPU threads while training",
}
QUICK_STEPS = 100  # --quick: enough to run every path, not to learn much


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, APP)
    hints = get_type_hints(UsesConfig)
    for f in fields(UsesConfig):
        if f.name not in CONFIG_HELP:
            continue  # seed comes with the common flags
        default = f.default_factory() if f.default is MISSING else f.default
        kind = hints[f.name]
        extra = {"nargs": "+", "type": int} if get_origin(kind) is list else {"type": kind}
        shown = " ".join(map(str, default)) if isinstance(default, list) else default
        p.add_argument(
            f"--{f.name.replace('_', '-')}",
            default=default,
            help=f"{CONFIG_HELP[f.name]} (default: {shown})",
            **extra,
        )
    return p


def main(argv: list[str] | None = None):
    args = build_parser().parse_args(argv)
    config = UsesConfig(
        **{f.name: getattr(args, f.name) for f in fields(UsesConfig) if hasattr(args, f.name)}
    )
    if args.quick:
        config.steps = min(config.steps, QUICK_STEPS)
    digits = load_split(config.seed)
    start = time.perf_counter()
    trained = train_uses(digits, config)
    seconds = time.perf_counter() - start
    metrics = measure(trained.model, digits)
    folder = output_dir(args.out, APP)
    save_uses(folder, trained.model, metrics, training_command(f"training.{APP}"), seconds)
    per_net = ", ".join(f"{k} {v:.1f}" for k, v in trained.seconds.items())
    took = time.perf_counter() - start - seconds
    print(f"trained in {seconds:.1f} s ({per_net}); measured in {took:.1f} s; saved to {folder}")
    maybe_push(folder, args.push_to_hub)
    return folder


if __name__ == "__main__":
    main()
