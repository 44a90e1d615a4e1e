"""The transfer classifier's folder: timm's Hub layout, metrics.json and a model card that
holds the comparisons (few labels per class, the size x similarity chart)."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult

from shared.hub import save_json, write_model_card
from shared.training import training_command
from shared.transfer import hub_io, quadrant


def save(args, out: Path, model, names, source, metrics) -> None:
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    config["source"] = source
    extra = {"head": {"dropout": args.dropout, "hidden": args.head_hidden}, "training": config}
    if not (args.data or args.hub_dataset):  # the app prepares drawn digits like these 8x8 ones
        extra["input_style"] = "digits"
    hub_io.save(model, out, names, extra)
    save_json(out / "metrics.json", metrics)
    acc = metrics["full"]["accuracy"]
    dataset = "handwritten digits" if not (args.data or args.hub_dataset) else "target data"
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
    origin = f"from `{source}`" if source else "on ImageNet"
    if "glyphs" in metrics.get("source", {}):
        origin = "on printed letters (the offline stand-in for ImageNet)"
    few = "\n".join(
        f"| {n} | {r['scratch']:.4f} | {r['head_only']:.4f} | {r['fine_tuned']:.4f} |"
        for n, r in metrics["few_label"].items()
    )
    chart = ""
    if "quadrant" in metrics:
        runs = metrics["quadrant_runs"]
        title = "## Size x similarity: the course's chart, measured (mean test accuracy)"
        table = quadrant.markdown(metrics["quadrant"], runs)
        chart = "\n".join(["", title, "", quadrant.settings_text(runs), "", *table, ""])
    write_model_card(
        out,
        title=f"{args.backbone} transfer-learned classifier",
        summary=(
            f"A timm `{args.backbone}` at {args.img_size} px. Backbone pretrained {origin}, "
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

{settings_line(metrics)}

| labels per class | scratch | head only | fine-tuned |
|---|---|---|---|
{few}
{chart}""",
    )


def settings_line(metrics: dict) -> str:
    """The comparison's settings in a sentence, for the model card."""
    settings = metrics.get("comparison_settings")
    if not settings:
        return ""
    seeds = settings["seeds"]
    epochs = ", ".join(f"{k}: {v}" for k, v in settings["epochs"].items())
    augment = "on" if settings["augment"] else "off"
    return (
        f"Every number is one real run per seed ({len(seeds)} seed(s): "
        f"{', '.join(map(str, seeds))}) of each method on the same data; epochs per setting "
        f"(labels per class or full) {epochs}; augmentation {augment}."
        f" Command: `{settings['command']}` (`benchmarks/transfer.py` runs three seeds)."
    )
