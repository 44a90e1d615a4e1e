"""The Detect tab's lower half: how the served detector was trained, and a visitor's own.

`DetectTrain(sessions)` compares from scratch, head only and fine-tuned from the served
detector's metrics.json, trains a new head on a visitor's COCO zip (`shared.detect.train`)
into `sessions`, and explains the five objectives for boxes.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import gradio as gr
from finetune_tab import MAX_EPOCHS, ZipRun  # an in-app run on a zip, as the Fine-tune tab's

from shared.app.launch import TRAIN_SECONDS
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.detect import coco, hub_io
from shared.detect import train as recipe
from shared.detect.display import DISPLAY_SIDE
from shared.detect.report import comparison_table
from shared.transfer.data import MAX_PIXELS

HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
APP_MAX_IMAGES = 200  # per fine-tune zip: with the time cap, bounds one in-app run
ARCHITECTURES = {"fcos": "FCOS", "fasterrcnn": "Faster R-CNN", "retinanet": "RetinaNet"}


class Trained(NamedTuple):
    summary: str
    ticket: Ticket  # the session's detector from now on


class DetectTrain(ZipRun):
    """Training a detector: the served one's comparison, a session's own head (`fine_tune`)."""

    missing = "Upload a .zip with annotations.json (COCO) and the images."

    def train(
        self, base: hub_io.LoadedDetector, path: Path, epochs: int, ticket: Ticket | None, on_epoch
    ) -> Trained:
        """A new detection head for the COCO zip's categories (the Detect tab's fine-tune)."""
        data = coco.load_zip(path, max_images=APP_MAX_IMAGES, max_side=DISPLAY_SIDE)
        tuned = recipe.fine_tune(base, data, epochs, max_seconds=TRAIN_SECONDS, on_epoch=on_epoch)
        stage, classes = tuned.stage, ", ".join(data.classes)
        nbytes = Sessions.nbytes(tuned.detector.model)
        name = f"fine-tuned detector ({path.name}, {classes})"
        ticket = self.sessions.replace(ticket, tuned.detector, nbytes, name)
        return Trained(
            f"Trained a new head for **{classes}** on {len(data.images)} images "
            f"({stage.trainable:,} trainable parameters, backbone frozen): {len(stage.history)} "
            f"epochs, {stage.stop_reason}. mAP@0.5 on these training images: "
            f"{tuned.score['map_50']:.3f} (no held-out set in the app). Detect now uses this "
            "detector in your session only.",
            ticket,
        )

    def how_it_works(self) -> str:
        served = self.sessions.served
        config = served.model.config if served.model else None
        backbone = config.backbone if config else "a timm model"
        source = served.metrics.get("source") or "none (from scratch)"
        arch = ARCHITECTURES.get(config.architecture if config else "fcos")
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

    def build(self, ticket: gr.State) -> None:
        """The comparison, the fine-tune form (its run becomes `ticket`'s) and the explanation."""
        with gr.Accordion("Model: from scratch, head only, fine-tuned", open=False):
            gr.Dataframe(
                comparison_table(self.sessions.served.metrics), elem_id="detect-comparison"
            )
        with gr.Accordion("Fine-tune on your boxes (this session only)", open=False):
            gr.Markdown(
                "Upload a zip with `annotations.json` (COCO: `images`, `annotations` with "
                "`bbox` [x, y, width, height], `categories`) and the images it names. The "
                "backbone and feature pyramid stay; a new head trains for your classes."
            )
            zip_file = gr.File(label="COCO zip", file_types=[".zip"], elem_id="detect-zip")
            self.form(zip_file, ticket, lambda: Trained(gr.Markdown(), ticket), "detect_fine_tune")
        gr.Markdown(self.how_it_works())
