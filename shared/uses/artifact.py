"""The saved bundle: weights, config, metrics.json and a model card with the numbers, one folder.

`metrics.json` holds exactly the issue's five keys (`METRIC_KEYS`); the card repeats the
numbers as tables (`tables`, which the benchmark report prints too).
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult

from shared.hub import save_json, write_model_card
from shared.uses.measure import RECOGNISED_PROB
from shared.uses.models import AutoencoderUses

METRIC_KEYS = ("reduction", "denoising", "compression", "features", "generation")
DATASET = "scikit-learn digits (8x8, 70/30 stratified split)"
CARD_NOISE = 0.3  # the noise level the card's headline denoising numbers are given at


def save_uses(
    folder: Path, model: AutoencoderUses, metrics: dict, command: str, seconds: float
) -> Path:
    """Write `model` and its `metrics` into `folder` (made if missing); `command` trained it."""
    if tuple(metrics) != METRIC_KEYS:
        raise ValueError(f"metrics must have exactly the keys {METRIC_KEYS}, got {tuple(metrics)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder)
    save_json(folder / "metrics.json", metrics)
    write_model_card(
        folder,
        title="What else an autoencoder does (digits)",
        summary=(
            f"Six uses of an autoencoder on scikit-learn's digits, each beside a baseline: "
            f"{model.describe()}. Trained in {seconds:.0f} s on CPU, from pixels only."
        ),
        library_name="pytorch",
        tags=["autoencoder", "variational-autoencoder", "denoising", "pytorch_model_hub_mixin"],
        datasets=["scikit-learn/digits"],
        eval_results=eval_results(metrics),
        command=command,
        usage=(
            "from shared.uses.models import load_uses\n"
            "model = load_uses('org/name')  # or a local folder\n"
            "codes = model.compressor(2).encode(pixels)  # (n, 64) float32 in [0, 1]"
        ),
        extra="\n" + "\n".join(tables(metrics)) + "\n",
    )
    return folder


def eval_results(metrics: dict) -> list[EvalResult]:
    def result(task: str, name: str, value: float) -> EvalResult:
        return EvalResult(
            task_type=task,
            dataset_type="digits",
            dataset_name=DATASET,
            metric_type=name.replace(" ", "_"),
            metric_name=name,
            metric_value=float(value),
        )

    red, gen = metrics["reduction"], metrics["generation"]
    noise = next(row for row in metrics["denoising"] if row["noise_std"] == CARD_NOISE)
    at = f"PSNR dB at noise {CARD_NOISE}"
    reduce, denoise, generate = "dimensionality-reduction", "image-to-image", "image-generation"
    return [
        result(reduce, "5-NN accuracy, 2-D autoencoder code", red["autoencoder_knn"]),
        result(reduce, "5-NN accuracy, 2 PCs", red["pca_knn"]),
        result(denoise, f"{at}, denoising autoencoder", noise["autoencoder_psnr"]),
        result(denoise, f"{at}, noisy", noise["noisy_psnr"]),
        result(denoise, f"{at}, median 3x3", noise["median_psnr"]),
        *(
            result("compression", f"MSE, code {row['code_size']}", row["autoencoder_mse"])
            for row in metrics["compression"]
        ),
        result(generate, "held-out ELBO (nats)", gen["elbo"]),
        result(generate, "recognised fraction", gen["recognised_fraction"]),
    ]


def tables(metrics: dict) -> list[str]:
    """The numbers as Markdown tables, one per use."""
    r, g = metrics["reduction"], metrics["generation"]
    lines = [
        "## Reduction: 5-NN accuracy on held-out 2-D codes",
        "",
        "| autoencoder | PCA |",
        "|---|---|",
        f"| {r['autoencoder_knn']:.3f} | {r['pca_knn']:.3f} |",
        "",
        "## Denoising: PSNR (dB) of held-out digits",
        "",
        "| noise std | noisy | median 3x3 | denoising autoencoder |",
        "|---|---|---|---|",
        *(
            f"| {d['noise_std']:g} | {d['noisy_psnr']:.1f} | {d['median_psnr']:.1f} | "
            f"{d['autoencoder_psnr']:.1f} |"
            for d in metrics["denoising"]
        ),
        "",
        "## Compression: held-out reconstruction MSE",
        "",
        "| code size | bytes per image | autoencoder | PCA |",
        "|---|---|---|---|",
        *(
            f"| {c['code_size']} | {c['bytes']} | {c['autoencoder_mse']:.4f} | {c['pca_mse']:.4f} |"
            for c in metrics["compression"]
        ),
        "",
        "## Features: logistic regression from a few labels per class (held-out accuracy)",
        "",
        "| labels per class | code | PCA | pixels |",
        "|---|---|---|---|",
        *(
            f"| {f['labels_per_class']} | {f['code_accuracy']:.3f} | {f['pca_accuracy']:.3f} | "
            f"{f['pixel_accuracy']:.3f} |"
            for f in metrics["features"]
        ),
        "",
        "## Generation (VAE)",
        "",
        f"Held-out ELBO {g['elbo']:.2f} nats per digit; {g['recognised_fraction']:.1%} of the "
        f"prior samples are read as one digit with probability >= {RECOGNISED_PROB} by a "
        "logistic regression "
        "trained on real digits.",
    ]
    return lines
