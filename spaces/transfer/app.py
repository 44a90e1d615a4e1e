"""Transfer learning of a pretrained timm CNN: classify, see where it looks, fine-tune a head.

    python spaces/transfer/app.py          # serves on http://127.0.0.1:7860

The model comes from $TRANSFER_MODEL, the repo a Space bundle names in models.json,
artifacts/transfer/ or the Hub (`shared.hub`), in timm's Hub layout (`shared.transfer.hub_io`).
A head fine-tuned in the app serves only its session.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import detect_tab  # the Detect tab, spaces/transfer/detect_tab.py
import gradio as gr
import pandas as pd
import torch
from PIL import Image

from shared.app.errors import friendly, readable
from shared.app.hub_push import push_trained, sign_in
from shared.app.launch import (
    MAX_FILE_SIZE,
    QUEUE_CONCURRENCY,
    TRAIN_CONCURRENCY,
    TRAIN_SECONDS,
    delete_cache,
    launch_kwargs,
    prepare_to_serve,
)
from shared.app.served import DefaultModel, load_default
from shared.app.store import MB, SESSION_SECONDS, SessionStore, Ticket
from shared.errors import UserInputError
from shared.hub import save_json, write_model_card
from shared.transfer import backbone, data, hub_io, recipe, report
from shared.transfer.cam import classify, copy_model
from shared.transfer.data import MAX_PIXELS

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
# PIL refuses images over twice this, so even Gradio's own decoding of a drawing stays bounded
Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2
# Fine-tuned models of every session share one budget ($TRANSFER_SESSION_BUDGET_MB, 1 GB by
# default); the least recently used go first.
SESSIONS = SessionStore.from_env("TRANSFER_SESSION_BUDGET_MB")
# One session's copy of the model: resnet50 weighs about 100 MB in float32, the default
# test_resnet 1.6 MB. Heavier backbones would let a handful of visitors fill the budget.
MAX_SESSION_MB = 200
HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
APP_MAX_IMAGES = 600  # per fine-tune upload: with the time cap, bounds one in-app run
MAX_EPOCHS = 20
EXAMPLES = 8  # held-out target digits offered as examples


def served_model() -> DefaultModel[hub_io.Classifier]:
    """The default classifier, its metrics.json (the course's figure) and the status line."""
    return load_default("transfer", ("config.json", backbone.WEIGHTS), hub_io.load, app_dir=HERE)


DEFAULT, METRICS, STATUS = served_model()


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return STATUS


def current(ticket: Ticket | None) -> hub_io.Classifier:
    """The session's fine-tuned model if it still has one, else the app's model."""
    clf = SESSIONS.get(ticket)
    if ticket is not None and clf is None:
        gr.Warning(
            f"Your {ticket.name} was removed to free memory for other visitors; "
            "the app's own model answers instead. Fine-tune again to get it back."
        )
    clf = clf or DEFAULT
    if clf is None:
        raise UserInputError(f"No model is loaded. {STATUS}")
    return clf


def model_bytes(model: torch.nn.Module) -> int:
    """What a session's copy of a model holds: its parameters and buffers."""
    tensors = [*model.parameters(), *model.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


def sessions_usage() -> str:
    return (
        f"{SESSIONS.usage()} One fine-tuned model may weigh up to {MAX_SESSION_MB} MB "
        f"(this app's model: {model_bytes(DEFAULT.model) / MB:,.1f} MB)."
        if DEFAULT
        else SESSIONS.usage()
    )


def predict(clf: hub_io.Classifier, image: Image.Image) -> tuple[dict, Image.Image, dict]:
    pred = classify(clf, image)
    box = dict(zip(("x0", "y0", "x1", "y1"), pred.box, strict=True))
    # identical answers to concurrent requests share one cache file (workarounds.write_once)
    return pred.scores, pred.heatmap, box


@friendly
def classify_file(path: str | None, session=None):
    """Classify an image file: the top classes, where the model looked (Grad-CAM) and its box.

    Args:
        path: an image file (PNG, JPEG, ...): a photo, a scan or a drawing of one object, such as
            a handwritten digit on paper.

    Returns:
        The top classes with probabilities, the image with the Grad-CAM heatmap and the box laid
        over it, and the box in the image's own pixels.
    """
    if not path:
        raise UserInputError("Upload, paste or photograph an image first.")
    # uploads live at content-hash paths that concurrent requests share: the sweep deletes them
    image = data.open_image(path, Path(path).name)
    return predict(current(session), image)


def classify_new_image(path: str | None, session=None):
    """The image input changed: classify it, or clear the answer when the image was removed."""
    return classify_file(path, session) if path else (None, None, None)


@friendly
def classify_drawing(drawing: dict | None, session=None):
    """Classify what was drawn on the sketchpad (a digit, for the built-in model)."""
    path = (drawing or {}).get("composite")
    if not path:
        raise UserInputError("Draw a digit on the sketchpad first.")
    image = data.open_image(path, "the drawing")
    return predict(current(session), image)


EXAMPLE_DIR = Path(tempfile.mkdtemp(prefix="transfer-examples-"))


def example_files() -> list[str]:
    """Held-out test digits as PNGs, enlarged without smoothing so a thumbnail shows them.

    They come from the model's test split (metrics.json's `test_index`), which it never saw.
    """
    images, labels, _ = data.digits(data.DIGITS)
    test_idx = METRICS.get("test_index") or data.split(labels, 0.2, 0.2, seed=0)[2]
    picked = [next(i for i in test_idx if labels[i] == d) for d in data.DIGITS][:EXAMPLES]
    paths = []
    for i in picked:
        path = EXAMPLE_DIR / f"digit-{labels[i]}-{i}.png"
        images[i].resize((64, 64), Image.NEAREST).save(path)
        paths.append(str(path))
    return paths


EXAMPLE_FILES = example_files()


@friendly
def classify_example(index: int):
    """Classify one of the built-in held-out handwritten digits with the app's model.

    Args:
        index: which example, 0 to 7 (examples are the digits 0, 1, ..., 7 in that order).

    Returns:
        The example image, the top classes with probabilities, the Grad-CAM image and the box.
    """
    if not 0 <= int(index) < len(EXAMPLE_FILES):
        raise UserInputError(f"Example index must be 0 to {len(EXAMPLE_FILES) - 1}.")
    path = EXAMPLE_FILES[int(index)]
    return (path, *predict(current(None), data.open_image(path)))


def first_view() -> tuple:
    """The Classify tab as it opens: the first example, already classified (no model: empty)."""
    if DEFAULT is None:
        return None, None, None, None
    path = EXAMPLE_FILES[0]
    return (path, *predict(DEFAULT, data.open_image(path)))


@friendly
def fine_tune(path: str | None, epochs: int, ticket: Ticket | None = None,
              progress=gr.Progress()):  # noqa: B008 (Gradio idiom)  # fmt: skip
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
    if model_bytes(base.model) > MAX_SESSION_MB * MB:
        raise UserInputError(
            f"This app's model weighs {model_bytes(base.model) / MB:,.0f} MB, more than the "
            f"{MAX_SESSION_MB} MB a session's copy may take: fine-tuning is off here."
        )
    model = copy_model(base.model)
    backbone.install_head(model, backbone.HeadConfig(), len(names))
    x = data.encode(images, base.data_config)
    split = (x, torch.as_tensor(labels))
    config = recipe.StageConfig(epochs=epochs, batch_size=16, head_lr_scale=PROBE_LR_SCALE)

    def report_epoch(row: dict) -> None:
        progress(row["epoch"] / epochs, desc=f"epoch {row['epoch']}/{epochs}")

    run = recipe.train_stage(
        model, split, None, config, n_frozen=-1, name="fine-tune", max_seconds=TRAIN_SECONDS,
        on_epoch=report_epoch,
    )  # fmt: skip
    acc = recipe.accuracy(model, split)
    # the session's classes are the user's own pictures: no digit-style preparation for them;
    # what was done is kept for the model card of a push
    done = {"images": len(images), "epochs": len(run.history), "train_accuracy": acc}
    config_json = {**base.config, hub_io.EXTRA_KEY: {"head": {}, "fine_tune": done}}
    clf = hub_io.Classifier(model, names, base.data_config, config_json, base.folder)
    SESSIONS.discard(ticket)  # this session's earlier model: replaced, not kept twice
    ticket = SESSIONS.put(clf, model_bytes(model), f"model fine-tuned on {', '.join(names)}")
    summary = (
        f"Trained a new head for **{', '.join(names)}** on {len(images)} images "
        f"({run.trainable:,} trainable parameters, backbone frozen): {len(run.history)} epochs, "
        f"{run.stop_reason}; training accuracy {acc:.1%}. The Classify tab now uses this model "
        "in your session only."
    )
    curve = pd.DataFrame(
        [(r["epoch"], r[k], k.removeprefix("train_")) for r in run.history for k in LOGGED],
        columns=["epoch", "value", "series"],
    )
    return summary, curve, ticket


@friendly
def push(
    ticket: Ticket | None, name: str, profile: gr.OAuthProfile | None, token: gr.OAuthToken | None
):
    """Push the session's fine-tuned model to `<signed-in user>/<name>` in timm's Hub layout."""
    clf = SESSIONS.get(ticket)
    if ticket is not None and clf is None:
        raise UserInputError(f"Your {ticket.name} was removed to free memory: fine-tune again.")

    def save(folder: Path) -> None:
        extra = clf.config[hub_io.EXTRA_KEY]
        hub_io.save(clf.model, folder, clf.labels, extra)
        done = extra["fine_tune"]
        save_json(folder / "metrics.json", done)
        write_model_card(
            folder,
            title=f"{clf.model.pretrained_cfg.get('architecture', 'timm')} head fine-tuned in "
            "the transfer app",
            summary=(
                f"A new head for {', '.join(clf.labels)} on the frozen backbone of the app's "
                f"model, trained on {done['images']} images for "
                f"{done['epochs']} epochs in the transfer-learning app's Fine-tune tab."
            ),
            library_name="timm",
            tags=["image-classification", "transfer-learning", "timm"],
            datasets=[],
            eval_results=[],
            command="# trained in the transfer app's Fine-tune tab",
            usage='import timm\nmodel = timm.create_model("hf-hub:USER/NAME", pretrained=True)',
            pipeline_tag="image-classification",
            extra=f"\nTraining accuracy: {done['train_accuracy']:.1%} (no held-out split).\n",
        )

    return push_trained(save if clf else None, name, profile, token)


LOGGED = ("train_loss", "train_acc")
PROBE_LR_SCALE = 10.0  # a head on a frozen backbone learns at 10x, as training/transfer.py measured


HOW_IT_WORKS = f"""
### How it works: the course's five objectives
1. **Load a pretrained CNN.** A timm backbone. Offline there are no ImageNet weights, so the
   "CNN pretrained on a large dataset" is the backbone trained on 40,000 printed letters
   rendered from the fonts that ship with matplotlib (`python -m training.pretrain`). The target
   is a different task in a different domain: all ten handwritten digits.
2. **Freeze the lower layers.** timm's stages (stem, layer1..layer4); frozen BatchNorm layers
   keep their statistics. The Model tab shows which stages each training stage trained.
3. **A custom head.** Dropout and a new output layer (optionally a hidden layer). Alone on a
   frozen backbone it learns at 10x the schedule's rate, as linear probes need.
4. **Train it.** Stage 1 trains the head only, with the course's schedule (warm-up 2e-5 to
   2e-3, then linear decay to 2e-4). The Fine-tune tab does this on your own zip.
5. **Tune and unfreeze.** Later stages unfreeze more layers with lower rates for lower layers;
   `--tune N` runs an Optuna search with k-fold CV. The Model tab compares from-scratch,
   head-only and fine-tuned on the same data, epochs and augmentation, with 5, 10 and 25 labels
   per class and the full set, over three seeds: the fewer the labels, the more pretraining
   helps.

**Your image:** for the digit model, a drawing or photo is made to look like the training
digits: a light background is inverted to white ink on black, the ink is cropped, squared and
shrunk to 8x8 pixels. **Where the object is:** Grad-CAM weighs the last map of at least 4x4
cells by the gradient of the top class; the box surrounds the region above half its peak, drawn
on your own image.

**Limits:** uploads up to {MAX_FILE_SIZE}; images up to {MAX_PIXELS:,} pixels; a fine-tune zip
up to {APP_MAX_IMAGES} images, {data.MAX_UNZIPPED_BYTES // 2**20} MB unpacked, {MAX_EPOCHS}
epochs and {TRAIN_SECONDS} s of training; one fine-tune runs at a time. Fine-tuned models of all
visitors share {SESSIONS.budget // MB:,} MB (`TRANSFER_SESSION_BUDGET_MB`), each at most
{MAX_SESSION_MB} MB; when the budget is full, the least recently used is dropped and its visitor
is told so. No pickle is ever loaded: weights are read from `model.safetensors` only.
"""

FIRST = first_view()
CURVE = report.label_curve(METRICS)

with gr.Blocks(title="Transfer learning of pretrained CNNs", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Transfer learning of pretrained CNNs")
    info = gr.Markdown(STATUS, elem_id="transfer-status")
    demo.load(model_info, outputs=info, api_name="model_info", **HIDDEN)
    session = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=SESSIONS.discard)
    with gr.Tab("Classify"):
        with gr.Row():
            with gr.Column():
                image = readable(
                    gr.Image(
                        FIRST[0],
                        label="Your image: upload, paste or take a photo",
                        sources=["upload", "clipboard", "webcam"],
                        type="filepath",
                        height=260,
                        elem_id="transfer-image",
                    )
                )
                run_button = gr.Button("Classify", variant="primary", elem_id="transfer-classify")
                gr.Examples(
                    [[path] for path in EXAMPLE_FILES],
                    inputs=image,
                    label="Held-out handwritten digits (never trained on)",
                    examples_per_page=EXAMPLES,
                )
                sketch = readable(
                    gr.Sketchpad(
                        label="Or draw a digit",
                        type="filepath",
                        canvas_size=(280, 280),
                        brush=gr.Brush(colors=["#000000"], default_size=18, color_mode="fixed"),
                        elem_id="transfer-sketch",
                    )
                )
                sketch_button = gr.Button("Classify the drawing", elem_id="transfer-draw")
            with gr.Column():
                labels = gr.Label(
                    FIRST[1], num_top_classes=5, label="Top classes", elem_id="transfer-label"
                )
                heatmap = gr.Image(
                    FIRST[2],
                    label="Where the model looked (Grad-CAM) and its box, on your image",
                    elem_id="transfer-heatmap",
                    format="png",
                )
                box = gr.JSON(FIRST[3], label="Box (pixels of your image)", elem_id="transfer-box")
        outputs = [labels, heatmap, box]
        run_button.click(classify_file, [image, session], outputs, api_name="classify")
        # an upload, a paste, a photo or an example thumbnail: answer at once
        image.change(classify_new_image, [image, session], outputs, api_name=False)
        sketch_button.click(
            classify_drawing, [sketch, session], outputs, api_name="classify_drawing", **HIDDEN
        )
        # the examples by number, for API clients and agents (the page uses the thumbnails)
        example = gr.Slider(0, EXAMPLES - 1, step=1, value=0, visible=False)
        example_button = gr.Button(visible=False)
        example_button.click(
            classify_example, example, [image, *outputs], api_name="classify_example"
        )
    with gr.Tab("Model"):
        gr.Markdown(
            "**Pretrained or from scratch?** Test accuracy on held-out digits against the "
            "number of labelled training images per class (mean over seeds; the table gives "
            f"the spread). {report.lesson(METRICS)}",
            elem_id="transfer-lesson",
        )
        gr.LinePlot(
            CURVE,
            x="labels_per_class",
            y="accuracy",
            color="method",
            x_title="labelled images per class",
            y_title="test accuracy",
            title="The course's figure: accuracy as the dataset shrinks",
            tooltip="all",
            elem_id="transfer-curve",
        )
        gr.Dataframe(report.comparison_table(METRICS), elem_id="transfer-comparison")
        gr.Markdown("Frozen and trained stages of staged fine-tuning (parameter counts):")
        gr.Dataframe(report.stage_frame(METRICS), elem_id="transfer-stages")
        with gr.Row():
            for key, title in (("loss", "Loss per epoch"), ("acc", "Accuracy per epoch")):
                gr.LinePlot(
                    report.training_curves(METRICS, key), x="epoch", y="value",
                    color="series", title=title, tooltip="all",
                )  # fmt: skip
        gr.LinePlot(
            report.lr_trace(METRICS), x="step", y="lr", color="stage",
            title="Learning rate of the head, as run", tooltip="all",
        )  # fmt: skip
        if METRICS.get("tuning"):
            gr.Markdown(f"Tuning (best: `{METRICS['tuning']['best']}`):")
            gr.Dataframe(report.tuning_frame(METRICS))
        usage = gr.Markdown(elem_id="transfer-sessions")
        demo.load(sessions_usage, outputs=usage, api_name="sessions", **HIDDEN)
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
        train_plot = gr.LinePlot(x="epoch", y="value", color="series", title="Fine-tuning")
        train_button.click(
            fine_tune,
            [zip_file, epochs, session],
            [train_status, train_plot, session],
            api_name="fine_tune",
            **HIDDEN,
            concurrency_limit=TRAIN_CONCURRENCY,
        ).then(sessions_usage, outputs=usage, api_name=False)
        gr.Markdown("**Keep it:** push your fine-tuned model to a repo in your account.")
        sign_in()
        with gr.Row():
            repo_name = gr.Textbox(value="transfer-fine-tuned", label="Repo name", scale=3)
            push_button = gr.Button("Push to the Hub", scale=1, elem_id="transfer-push")
        push_text = gr.Markdown(elem_id="transfer-push-text")
        push_button.click(push, [session, repo_name], push_text, api_name="push", **HIDDEN)
    detect_tab.build()
    with gr.Tab("How it works"):
        gr.Markdown(HOW_IT_WORKS)

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()
    demo.launch(**launch_kwargs())
