"""Transfer learning of a pretrained timm CNN: classify, see where it looks, fine-tune a head.

    python spaces/transfer/app.py          # serves on http://127.0.0.1:7860

The model comes from $TRANSFER_MODEL, the repo a Space bundle names in models.json,
artifacts/transfer/ or the Hub (`shared.hub`), in timm's Hub layout (`shared.transfer.hub_io`).
A head fine-tuned in the app serves only its session.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import gradio as gr
import matplotlib.pyplot as plt
import pandas as pd
import torch
from PIL import Image

from shared.hub import ModelSourceError, load_json, locate_model
from shared.plots import history_plot
from shared.transfer import backbone, data, hub_io, recipe
from shared.transfer.cam import classify, copy_model
from shared.transfer.data import MAX_PIXELS
from shared.ui import (
    MAX_FILE_SIZE,
    QUEUE_CONCURRENCY,
    TRAIN_CONCURRENCY,
    TRAIN_SECONDS,
    UserInputError,
    delete_cache,
    friendly,
    launch_kwargs,
    model_status,
    plot_data,
    prepare_to_serve,
)

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
APP_MAX_IMAGES = 600  # per fine-tune upload: with the time cap, bounds one in-app run
MAX_EPOCHS = 20
EXAMPLES = 8  # held-out target digits offered as examples


def load_default() -> tuple[hub_io.Classifier | None, dict, str]:
    location = locate_model("transfer", required=("config.json", backbone.WEIGHTS), app_dir=HERE)
    if location.folder is None:
        return None, {}, model_status(location)
    try:
        clf = hub_io.load(location.folder)
    except ModelSourceError as err:
        return None, {}, f"⚠️ **Model could not be loaded** from `{location.source}`: {err}"
    metrics_file = location.folder / "metrics.json"
    metrics = load_json(metrics_file) if metrics_file.is_file() else {}
    return clf, metrics, model_status(location)


DEFAULT, METRICS, STATUS = load_default()


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return STATUS


def current(session: hub_io.Classifier | None) -> hub_io.Classifier:
    clf = session or DEFAULT
    if clf is None:
        raise UserInputError(f"No model is loaded. {STATUS}")
    return clf


def predict(clf: hub_io.Classifier, image) -> tuple[dict, object, dict]:
    pred = classify(clf, image)
    box = dict(zip(("x0", "y0", "x1", "y1"), pred.box, strict=True))
    # Gradio 6.31 caches an output image under the hash of its bytes and rewrites that file on
    # every request, so identical answers to concurrent requests truncate each other mid-download
    # (the load benchmark's "peer closed connection"). A per-request PNG text chunk keeps each
    # answer's file its own; the delete_cache sweep removes them.
    pred.heatmap.info["request"] = uuid.uuid4().hex
    return pred.scores, pred.heatmap, box


@friendly
def classify_file(path: str | None, session=None):
    """Top classes, Grad-CAM heatmap and the box around the strongest region of one image."""
    if not path:
        raise UserInputError("Upload an image first.")
    # uploads live at content-hash paths that concurrent requests share: the sweep deletes them
    image = data.open_image(path, Path(path).name)
    return predict(current(session), image)


EXAMPLE_IMAGES = data.digits(data.TARGET_DIGITS)[0][-EXAMPLES:]  # never-seen test digits' tail


@friendly
def classify_example(index: int, session=None):
    """Classify one of the built-in example digits (by index)."""
    if not 0 <= int(index) < EXAMPLES:
        raise UserInputError(f"Example index must be 0 to {EXAMPLES - 1}.")
    image = EXAMPLE_IMAGES[int(index)]
    return (image.resize((128, 128), Image.NEAREST), *predict(current(session), image))


@friendly
def fine_tune(path: str | None, epochs: int, progress=gr.Progress()):  # noqa: B008 (Gradio idiom)
    """Train a new head on a zip of class folders, backbone frozen, for this session only."""
    if not path:
        raise UserInputError("Upload a .zip with one folder per class.")
    base = current(None)
    epochs = int(epochs)
    if not 1 <= epochs <= MAX_EPOCHS:
        raise UserInputError(f"Epochs must be 1 to {MAX_EPOCHS}.")
    progress(0, desc="reading the zip")
    with tempfile.TemporaryDirectory(prefix="transfer-upload-") as tmp:
        root = data.extract_zip(Path(path), Path(tmp))
        images, labels, names = data.image_folder(root, max_images=APP_MAX_IMAGES)
    model = copy_model(base.model)
    backbone.install_head(model, backbone.HeadConfig(), len(names))
    x = data.encode(images, base.data_config)
    split = (x, torch.as_tensor(labels))
    config = recipe.StageConfig(epochs=epochs, batch_size=16)

    def report(row: dict) -> None:
        progress(row["epoch"] / epochs, desc=f"epoch {row['epoch']}/{epochs}")

    run = recipe.train_stage(
        model, split, None, config, n_frozen=-1, name="fine-tune", max_seconds=TRAIN_SECONDS,
        on_epoch=report,
    )  # fmt: skip
    acc = recipe.accuracy(model, split)
    clf = hub_io.Classifier(model, names, base.data_config, base.config, base.folder)
    summary = (
        f"Trained a new head for **{', '.join(names)}** on {len(images)} images "
        f"({run.trainable:,} trainable parameters, backbone frozen): {len(run.history)} epochs, "
        f"{run.stop_reason}; training accuracy {acc:.1%}. The Classify tab now uses this model "
        "in your session only."
    )
    plot = plot_data(history_plot(run.history, ("train_loss", "train_acc"), "Fine-tuning", "value"))
    return summary, plot, clf


# --- the Model tab: what training did -----------------------------------------------------


def stage_curves(key: str, title: str):
    """`key` over the concatenated epochs of every fine-tuning stage, plus the other runs."""
    full = METRICS.get("full", {})
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    offset = 0
    for stage in full.get("stages", []):
        epochs = [offset + row["epoch"] for row in stage["history"]]
        for split_name in ("train", "val"):
            values = [row.get(f"{split_name}_{key}") for row in stage["history"]]
            ax.plot(epochs, values, marker="o", label=f"{stage['name']} {split_name}")
        offset = epochs[-1] if epochs else offset
    for name, run in full.get("runs", {}).items():
        values = [row.get(f"val_{key}") for row in run["history"]]
        ax.plot([r["epoch"] for r in run["history"]], values, ls="--", label=f"{name} val")
    ax.set(xlabel="epoch", ylabel=key, title=title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    plt.close(fig)
    return fig


def lr_plot():
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    step = 0
    for stage in METRICS.get("full", {}).get("stages", []):
        trace = stage["lr_trace"]
        ax.plot(range(step, step + len(trace)), trace, label=stage["name"])
        step += len(trace)
    ax.set(xlabel="optimizer step", ylabel="learning rate (head)", title="Schedule as run")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    plt.close(fig)
    return fig


def comparison_table() -> pd.DataFrame:
    rows = []
    if "full" in METRICS:
        rows.append({"setting": "full budget", **METRICS["full"]["accuracy"]})
    for n, few in METRICS.get("few_label", {}).items():
        row = {k: v for k, v in few.items() if k != "seeds"}
        rows.append({"setting": f"{n} labels/class ({len(few['seeds'])} seeds)", **row})
    columns = ["setting", "scratch", "head_only", "fine_tuned"]
    return pd.DataFrame(rows, columns=columns).round(4)


def stage_frame() -> pd.DataFrame:
    rows = METRICS.get("stage_table", [])
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows).pivot_table(
        index="stage", columns="step", values="trainable", aggfunc="first", sort=False
    )
    frame = frame.map(lambda t: "trained" if t else "frozen")
    counts = {r["stage"]: r["parameters"] for r in rows}
    frame.insert(0, "parameters", [counts[s] for s in frame.index])
    frame.columns.name = None
    return frame.reset_index()


def tuning_frame() -> pd.DataFrame:
    trials = METRICS.get("tuning", {}).get("trials", [])
    return pd.DataFrame(trials).drop(columns="fold_accuracies", errors="ignore").round(5)


HOW_IT_WORKS = f"""
### How it works: the course's five objectives
1. **Load a pretrained CNN.** A timm backbone. Offline there are no ImageNet weights, so the
   "pretrained model" is the backbone trained on digits 0-4; it is then transferred to 5-9.
2. **Freeze the lower layers.** timm's stages (stem, layer1..layer4); frozen BatchNorm layers
   keep their statistics. The Model tab shows which stages each training stage trained.
3. **A custom head.** Dropout and a new output layer (optionally a hidden layer).
4. **Train it.** Stage 1 trains the head only, with the course's schedule (warm-up 2e-5 to
   2e-3, then linear decay to 2e-4). The Fine-tune tab does this on your own zip.
5. **Tune and unfreeze.** Later stages unfreeze more layers with lower rates for lower layers;
   `--tune N` runs an Optuna search with k-fold CV. The Model tab compares from-scratch,
   head-only and fine-tuned on the same data and epochs, also with few labels per class.

**Where the object is:** Grad-CAM weighs the last map of at least 4x4 cells by the gradient of
the top class; the box surrounds the region above half its peak.

**Limits:** uploads up to {MAX_FILE_SIZE}; images up to {MAX_PIXELS:,} pixels; a fine-tune zip
up to {APP_MAX_IMAGES} images, {data.MAX_UNZIPPED_BYTES // 2**20} MB unpacked, {MAX_EPOCHS}
epochs and {TRAIN_SECONDS} s of training; one fine-tune runs at a time. No pickle is ever
loaded: weights are read from `model.safetensors` only.
"""

with gr.Blocks(title="Transfer learning of pretrained CNNs", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Transfer learning of pretrained CNNs")
    info = gr.Markdown(STATUS, elem_id="transfer-status")
    demo.load(model_info, outputs=info, api_name="model_info")
    session = gr.State(None)
    with gr.Tab("Classify"):
        with gr.Row():
            with gr.Column():
                upload = gr.File(
                    label="Image", file_types=["image"], type="filepath", elem_id="transfer-upload"
                )
                run_button = gr.Button("Classify", variant="primary", elem_id="transfer-classify")
                example = gr.Slider(0, EXAMPLES - 1, step=1, value=0, label="Example digit")
                example_button = gr.Button("Classify example", elem_id="transfer-example")
                example_image = gr.Image(label="Example", height=140, interactive=False)
            with gr.Column():
                labels = gr.Label(num_top_classes=5, label="Top classes", elem_id="transfer-label")
                heatmap = gr.Image(
                    label="Grad-CAM and box", elem_id="transfer-heatmap", format="png"
                )
                box = gr.JSON(label="Box (pixels of your image)", elem_id="transfer-box")
        run_button.click(
            classify_file, [upload, session], [labels, heatmap, box], api_name="classify"
        )
        example_button.click(
            classify_example,
            [example, session],
            [example_image, labels, heatmap, box],
            api_name="classify_example",
        )
    with gr.Tab("Model"):
        gr.Markdown("Frozen and trained stages of staged fine-tuning (parameter counts):")
        gr.Dataframe(stage_frame(), elem_id="transfer-stages")
        gr.Markdown("Target test accuracy: same data, same epoch budget.")
        gr.Dataframe(comparison_table(), elem_id="transfer-comparison")
        with gr.Row():
            gr.Plot(stage_curves("loss", "Loss per stage"))
            gr.Plot(stage_curves("acc", "Accuracy per stage"))
        gr.Plot(lr_plot())
        if METRICS.get("tuning"):
            gr.Markdown(f"Tuning (best: `{METRICS['tuning']['best']}`):")
            gr.Dataframe(tuning_frame())
    with gr.Tab("Fine-tune"):
        gr.Markdown(
            "Upload a zip with one folder per class (`cats/1.png`, `dogs/2.jpg`, ...). "
            "The backbone stays frozen; a new head trains for your session only."
        )
        zip_file = gr.File(
            label="Zip of class folders", file_types=[".zip"], elem_id="transfer-zip"
        )
        epochs = gr.Slider(1, MAX_EPOCHS, value=5, step=1, label="Epochs")
        train_button = gr.Button("Fine-tune the head", variant="primary")
        train_status = gr.Markdown()
        train_plot = gr.Plot()
        train_button.click(
            fine_tune,
            [zip_file, epochs],
            [train_status, train_plot, session],
            api_name="fine_tune",
            concurrency_limit=TRAIN_CONCURRENCY,
        )
    with gr.Tab("How it works"):
        gr.Markdown(HOW_IT_WORKS)

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()
    demo.launch(**launch_kwargs())
