"""The transfer app's Detect tab: boxes and scores from a detector on the same timm backbone.

`build()` lays the tab out inside the app's `gr.Blocks` and registers its endpoints (/detect,
/detect_pasted, /detect_sketch, /detect_scene, /detect_fine_tune). The detector comes from
$DETECT_MODEL, the repo a Space bundle names in models.json, artifacts/detect/ or the Hub
(`shared.app.served.load_default`); `shared.detect.hub_io` loads it from safetensors. A detector
fine-tuned here serves only its session.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import pandas as pd
from PIL import Image

from shared.app.errors import friendly
from shared.app.launch import TRAIN_CONCURRENCY, TRAIN_SECONDS
from shared.app.served import DefaultModel, load_default
from shared.app.store import SESSION_SECONDS, SessionStore, Ticket
from shared.detect import coco, hub_io, scenes
from shared.detect import train as recipe
from shared.detect.evaluate import Detection, detect_image, to_tensor
from shared.detect.model import Detector
from shared.errors import UserInputError
from shared.transfer.backbone import WEIGHTS
from shared.transfer.data import MAX_PIXELS, open_image

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
# UI plumbing (pasted or drawn input, re-filtering, session training): callable by clients, not
# offered as MCP tools; detect_file and detect_scene are the tools
HIDDEN = {"api_visibility": "undocumented"}
DISPLAY_SIDE = 512  # images are detected and drawn at most this wide (the model sees 128 px)
APP_MAX_IMAGES = 200  # per fine-tune zip: with the time cap, bounds one in-app run
MAX_EPOCHS = 20
# The class head scores every category at every position of every feature level, so its
# activations while training grow in proportion to the categories (the weights barely do: a
# detector of 10 classes weighs 2.7 MB, of 100 classes 2.9 MB). COCO's 80 fit.
MAX_CLASSES = 100
MAX_SEED = 10**6
FIRST_SCENE = 7  # the scene shown, already detected, when the page opens
STORE = SessionStore.from_env("DETECT_SESSION_BUDGET_MB", default_mb=256)


def served_model() -> DefaultModel[hub_io.LoadedDetector]:
    """The default detector, its metrics.json and the status line."""
    return load_default("detect", ("config.json", WEIGHTS), hub_io.load, app_dir=HERE,
                        what="Detector")  # fmt: skip


DEFAULT, _, STATUS = served_model()


@dataclass
class Answer:
    """One image's detections, kept per session so the threshold slider re-filters them."""

    image: Image.Image  # the display copy the boxes are drawn on
    scale: float  # display pixels per pixel of the visitor's image
    found: list[Detection]  # every detection above the model's floor, display pixels, best first
    note: str = ""  # what the summary adds (the scene's true digits, the model used)


def current(ticket: Ticket | None) -> tuple[hub_io.LoadedDetector, str]:
    """The session's fine-tuned detector, else the default one; and a note saying which."""
    session = STORE.get(ticket)
    if session is not None:
        return session, f"Your fine-tuned detector ({ticket.name})."
    if DEFAULT is None:
        raise UserInputError(f"No detector is loaded. {STATUS}")
    gone = f"Your fine-tuned detector ({ticket.name}) was evicted; " if ticket else ""
    return DEFAULT, gone + ("the default detector." if gone else "")


def answer(detector: hub_io.LoadedDetector, image: Image.Image, note: str = "") -> Answer:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise UserInputError(
            f"The image is {width}x{height} pixels: too large (limit {MAX_PIXELS:,} pixels)."
        )
    if min(width, height) < 8:
        raise UserInputError(f"The image is {width}x{height} pixels: too small to hold objects.")
    image = flatten(image)
    scale = min(1.0, DISPLAY_SIDE / max(width, height))
    if scale < 1:
        image = image.resize((round(width * scale), round(height * scale)), Image.BILINEAR)
    return Answer(image, scale, detect_image(detector.model, image), note)


def flatten(image: Image.Image) -> Image.Image:
    """RGB; transparent pixels become white (a sketch's strokes on an empty layer)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def view(state: Answer, threshold: float):
    """The annotated image, the table and a summary: what every handler returns."""
    kept = [d for d in state.found if d.score >= threshold]
    boxes = [(tuple(round(v) for v in d.box), f"{d.label} {d.score:.2f}") for d in kept]
    rows = [
        {"label": d.label, "score": round(d.score, 3)}
        | dict(
            zip(("x0", "y0", "x1", "y1"), (round(v / state.scale, 1) for v in d.box), strict=True)
        )
        for d in kept
    ]
    table = pd.DataFrame(rows, columns=["label", "score", "x0", "y0", "x1", "y1"])
    if kept:
        counts = pd.Series([d.label for d in kept]).value_counts().sort_index()
        said = ", ".join(f"{n} x {label}" for label, n in counts.items())
        summary = f"**{len(kept)} found** at score >= {threshold:.2f}: {said}."
    else:
        summary = (
            f"**Nothing found** at score >= {threshold:.2f}. Lower the threshold, or draw "
            "larger digits."
        )
    return (state.image, boxes), table, " ".join(s for s in (summary, state.note) if s)


@friendly
def detect_file(path: str | None, threshold: float, ticket: Ticket | None = None):
    """Detect and label the objects in an image (digits, for the built-in detector).

    Args:
        path: an image file (PNG, JPEG, ...), such as a photo or scan of handwritten digits
        threshold: the lowest score a detection needs to be shown, from 0 to 1

    Returns:
        The image with labelled boxes, a table of each box (label, score, pixels of the image)
        and a summary sentence.
    """
    if not path:
        raise UserInputError("Upload an image first.")
    return detect(open_image(path, Path(path).name), threshold, ticket)


@friendly
def detect_pasted(image: Image.Image | None, threshold: float, ticket: Ticket | None = None):
    """Detect objects in a pasted image."""
    if image is None:
        raise UserInputError("Paste an image first.")
    return detect(image, threshold, ticket)


@friendly
def detect_sketch(sketch: dict | None, threshold: float, ticket: Ticket | None = None):
    """Detect the digits drawn on the sketchpad (dark strokes on white are inverted)."""
    composite = (sketch or {}).get("composite")
    if composite is None:
        raise UserInputError("Draw some digits first.")
    return detect(composite, threshold, ticket)


def detect(image: Image.Image, threshold: float, ticket: Ticket | None):
    """The session's detector (or the default one) on `image`: what every input's handler shows."""
    detector, note = current(ticket)
    state = answer(detector, image, note)
    return *view(state, threshold), state


@friendly
def detect_scene(seed: float, threshold: float, ticket: Ticket | None = None):
    """Generate a built-in scene of held-out handwritten digits and detect them.

    Args:
        seed: which scene, a whole number from 0 to 1000000 (the same seed, the same scene)
        threshold: the lowest score a detection needs to be shown, from 0 to 1

    Returns:
        The scene with labelled boxes, a table of each box and a summary naming the digits the
        scene really holds, to compare with what was found.
    """
    if not 0 <= seed <= MAX_SEED or seed != int(seed):
        raise UserInputError(f"The scene number must be a whole number from 0 to {MAX_SEED}.")
    detector, note = current(ticket)
    scene = scenes.make_scenes(1, "test", seed=int(seed), size=detector.config.img_size)[0]
    truth = ", ".join(scenes.CLASSES[label - 1] for label in sorted(scene.labels))
    state = answer(detector, scene.pil(), f"Scene {int(seed)} holds the digits {truth}. {note}")
    return *view(state, threshold), state


def random_scene() -> int:
    return random.randrange(MAX_SEED)


@friendly
def refilter(threshold: float, state: Answer | None):
    """Show the last answer's detections above a new threshold, without running the model."""
    if state is None:
        raise UserInputError("Detect something first.")
    return view(state, threshold)


@friendly
def fine_tune(path: str | None, epochs: int, ticket: Ticket | None = None,
              progress=gr.Progress()):  # noqa: B008 (Gradio idiom)  # fmt: skip
    """Train a new detection head on a COCO zip, backbone frozen, for this session only."""
    if not path:
        raise UserInputError("Upload a .zip with annotations.json (COCO) and the images.")
    epochs = int(epochs)
    if not 1 <= epochs <= MAX_EPOCHS:
        raise UserInputError(f"Epochs must be 1 to {MAX_EPOCHS}.")
    base, _ = current(None)
    progress(0, desc="reading the zip")
    data = coco.load_zip(path, max_images=APP_MAX_IMAGES, max_side=DISPLAY_SIDE)
    if len(data.classes) > MAX_CLASSES:
        raise UserInputError(
            f"The zip names {len(data.classes):,} categories; a detector trained here takes at "
            f"most {MAX_CLASSES} (COCO has 80)."
        )
    config = dataclasses.replace(base.config, classes=data.classes)
    model = Detector(config)
    # the pretrained backbone and its feature pyramid carry over; the class head is new
    model.net.backbone.load_state_dict(base.model.net.backbone.state_dict())
    split = [
        (to_tensor(image, config.light_on_dark), recipe.target(**target))
        for image, target in zip(data.images, data.targets, strict=True)
    ]
    run = recipe.RecipeConfig(epochs=epochs, batch_size=8).stage_config()

    def report(row: dict) -> None:
        progress(row["epoch"] / epochs, desc=f"epoch {row['epoch']}/{epochs}")

    (stage,) = recipe.train(
        model, split, run, "head_only", max_seconds=TRAIN_SECONDS, on_epoch=report
    )
    score = recipe.evaluate(model, split)
    name = f"{Path(path).name}, {', '.join(data.classes)}"
    tuned = hub_io.LoadedDetector(model, config, base.folder, {})
    nbytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    STORE.discard(ticket)  # this session's earlier detector: replaced, not kept twice
    ticket = STORE.put(tuned, nbytes, name)
    summary = (
        f"Trained a new head for **{', '.join(data.classes)}** on {len(split)} images "
        f"({stage.trainable:,} trainable parameters, backbone frozen): {len(stage.history)} "
        f"epochs, {stage.stop_reason}. mAP@0.5 on these training images: {score['map_50']:.3f} "
        "(no held-out set in the app). Detect now uses this detector in your session only."
    )
    return summary, ticket


def comparison() -> pd.DataFrame:
    """mAP of scratch / head only / fine-tuned from the default detector's metrics.json."""
    metrics = DEFAULT.metrics if DEFAULT else {}
    rows = []
    for setting in ("full", "few"):
        if setting not in metrics:
            continue
        block = metrics[setting]
        for method in recipe.METHODS:
            if method in block["results"]:
                r = block["results"][method]
                rows.append(
                    {
                        "training scenes": block["scenes"],
                        "epochs": block["epochs"],
                        "method": method.replace("_", " "),
                        "mAP@0.5": round(r["map_50"], 3),
                        "mAP@[.5:.95]": round(r["map"], 3),
                        "train s": round(r["train_seconds"], 1),
                    }
                )
    return pd.DataFrame(rows)


def how_it_works() -> str:
    config = DEFAULT.config if DEFAULT else None
    backbone = config.backbone if config else "a timm model"
    source = (DEFAULT.metrics.get("source") if DEFAULT else None) or "none (from scratch)"
    arch = {"fcos": "FCOS", "fasterrcnn": "Faster R-CNN", "retinanet": "RetinaNet"}.get(
        config.architecture if config else "fcos"
    )
    return f"""
### How it works: the five objectives, for boxes
1. **Load a pretrained CNN.** The detector's backbone is timm's `{backbone}` created with
   `features_only=True` (maps at strides 4 to 32), its weights taken from the classification
   "pretrained model" (`{source}`) with the classifier's own `fc` layer dropped.
2. **Freeze the lower layers.** The same timm stages as in classification; frozen BatchNorm
   layers keep their statistics.
3. **A custom head.** torchvision's {arch} on a narrow feature pyramid: it predicts a class,
   a box and a score at every cell of every pyramid level, then non-maximum suppression keeps
   the best box per object.
4. **Train it.** The pyramid and the head train on the frozen backbone with the course's
   schedule: this is the detector you are using. Fine-tune below does it on your COCO zip.
5. **Unfreeze with tuned rates.** Fine-tuning trains the head first, then every stage, lower
   stages at lower rates. Here it did not beat the frozen backbone: the table compares from
   scratch, head only and fine-tuned on the same scenes and epochs (mAP by torchmetrics,
   COCO's definition).

**Data:** scenes of 2 to 6 handwritten digits (scikit-learn's) at 20-40 px on a
128x128 canvas; test scenes use digits never seen in training scenes. Draw dark digits on the
sketchpad about a fifth of its height: a light background is inverted to match the scenes.

**Limits:** images up to {MAX_PIXELS:,} pixels (detected at up to {DISPLAY_SIDE} px); a
fine-tune zip up to {APP_MAX_IMAGES} images, {MAX_EPOCHS} epochs and {TRAIN_SECONDS} s of
training; one fine-tune runs at a time. Weights are read from safetensors only.
"""


def first_view():
    """The page opens on a built-in scene already detected (no model: an empty view)."""
    if DEFAULT is None:
        return None, pd.DataFrame(), STATUS, None
    annotated, table, summary, state = detect_scene(FIRST_SCENE, DEFAULT.config.score_threshold)
    return annotated, table, summary, state


def build() -> None:
    """The Detect tab, inside the caller's `gr.Blocks`."""
    threshold_value = DEFAULT.config.score_threshold if DEFAULT else 0.5
    annotated0, table0, summary0, state0 = first_view()
    with gr.Tab("Detect"):
        gr.Markdown(STATUS, elem_id="detect-status")
        ticket = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=STORE.discard)
        last = gr.State(state0)
        with gr.Row():
            with gr.Column():
                with gr.Tab("Built-in scene"):
                    seed = gr.Number(
                        FIRST_SCENE, label="Scene number", precision=0, minimum=0, maximum=MAX_SEED
                    )
                    scene_button = gr.Button("Random scene", elem_id="detect-scene")
                    show_button = gr.Button(
                        "Detect this scene", variant="primary", elem_id="detect-show"
                    )
                with gr.Tab("Upload"):
                    upload = gr.File(
                        label="Image",
                        file_types=["image"],
                        type="filepath",
                        elem_id="detect-upload",
                    )
                    upload_button = gr.Button("Detect", variant="primary", elem_id="detect-run")
                with gr.Tab("Paste"):
                    pasted = gr.Image(
                        label="Paste an image", sources=["clipboard", "upload"], type="pil"
                    )
                    paste_button = gr.Button("Detect", variant="primary")
                with gr.Tab("Draw"):
                    sketch = gr.Sketchpad(
                        label="Draw digits", type="pil", canvas_size=(256, 256),
                        brush=gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed"),
                    )  # fmt: skip
                    sketch_button = gr.Button("Detect", variant="primary")
                threshold = gr.Slider(
                    0.05, 0.95, value=threshold_value, step=0.05, label="Score threshold",
                    elem_id="detect-threshold",
                )  # fmt: skip
            with gr.Column():
                boxes = gr.AnnotatedImage(annotated0, label="Detections", elem_id="detect-boxes")
                summary = gr.Markdown(summary0, elem_id="detect-summary")
                table = gr.Dataframe(
                    table0, label="Boxes (pixels of your image)", elem_id="detect-table"
                )
        outputs = [boxes, table, summary, last]
        upload_button.click(detect_file, [upload, threshold, ticket], outputs, api_name="detect")
        paste_button.click(
            detect_pasted, [pasted, threshold, ticket], outputs, api_name="detect_pasted", **HIDDEN
        )
        sketch_button.click(
            detect_sketch, [sketch, threshold, ticket], outputs, api_name="detect_sketch", **HIDDEN
        )
        show_button.click(detect_scene, [seed, threshold, ticket], outputs, api_name="detect_scene")
        scene_button.click(random_scene, None, seed, api_visibility="private").then(
            detect_scene, [seed, threshold, ticket], outputs, api_visibility="private"
        )
        threshold.release(
            refilter,
            [threshold, last],
            [boxes, table, summary],
            api_name="detect_filter",
            **HIDDEN,
        )
        with gr.Accordion("Model: from scratch, head only, fine-tuned", open=False):
            gr.Dataframe(comparison(), elem_id="detect-comparison")
        with gr.Accordion("Fine-tune on your boxes (this session only)", open=False):
            gr.Markdown(
                "Upload a zip with `annotations.json` (COCO: `images`, `annotations` with "
                "`bbox` [x, y, width, height], `categories`) and the images it names. The "
                "backbone and feature pyramid stay; a new head trains for your classes."
            )
            zip_file = gr.File(label="COCO zip", file_types=[".zip"], elem_id="detect-zip")
            epochs = gr.Slider(1, MAX_EPOCHS, value=5, step=1, label="Epochs")
            train_button = gr.Button("Fine-tune the head", variant="primary")
            train_status = gr.Markdown()
            train_button.click(
                fine_tune, [zip_file, epochs, ticket], [train_status, ticket],
                api_name="detect_fine_tune", concurrency_limit=TRAIN_CONCURRENCY, **HIDDEN,
            )  # fmt: skip
        gr.Markdown(how_it_works())
