"""The transfer app's Detect tab: boxes and scores from a detector on the same timm backbone.

`Detect(sessions)` is the tab of one app; `sessions` holds the served detector (from
$DETECT_MODEL, the repo a Space bundle names in models.json, artifacts/detect/ or the Hub) and
each session's own, fine-tuned on its COCO zip. `build()` lays the tab out and registers its
endpoints (/detect, /detect_pasted, /detect_sketch, /detect_scene, /detect_filter,
/detect_fine_tune). What a visitor sees of an answer is `shared.detect.display`'s.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple

import detect_train  # how the detector was trained, and a visitor's own: detect_train.py
import gradio as gr
import pandas as pd
from PIL import Image

from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.detect import display, hub_io, scenes
from shared.detect.display import Found
from shared.errors import UserInputError
from shared.transfer.data import open_image

# UI plumbing (pasted or drawn input, re-filtering, session training): callable by clients, not
# offered as MCP tools; detect_file and detect_scene are the tools
HIDDEN = {"api_visibility": "undocumented"}
MAX_SEED = 10**6
FIRST_SCENE = 7  # the scene shown, already detected, when the page opens


class Detected(NamedTuple):
    boxes: tuple[Image.Image, list] | None  # the image and its labelled boxes
    table: pd.DataFrame  # one row per box, in the pixels of the visitor's image
    summary: str
    last: Found | None  # the session's last answer, which a new threshold re-filters


def shown(state: Found, threshold: float) -> Detected:
    view = display.shown(state, threshold)
    return Detected((state.image, view.boxes), view.table, view.summary, state)


class Detect:
    """The tab's handlers, answered by the detector `sessions` gives each visitor."""

    def __init__(self, sessions: Sessions[hub_io.LoadedDetector]):
        self.sessions = sessions
        self.train = detect_train.DetectTrain(sessions)  # the tab's lower half
        served = sessions.served.model
        self.threshold = served.config.score_threshold if served else 0.5
        # the tab opens on a built-in scene, already detected (no model: an empty view)
        self.first = (
            self.detect_scene(FIRST_SCENE, self.threshold)
            if served
            else Detected(None, pd.DataFrame(), sessions.served.status, None)
        )

    def named(self, detector: hub_io.LoadedDetector, ticket: Ticket | None) -> str:
        """The summary's note on the session's own detector; the served one goes unnamed."""
        if detector is self.sessions.served.model:
            return ""
        return f"Your {ticket.name}."  # "Your fine-tuned detector (a.zip, cat, dog)."

    def detect_file(
        self, path: str | None, threshold: float, ticket: Ticket | None = None
    ) -> Detected:
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
        return self.detect(open_image(path, Path(path).name), threshold, ticket)

    def detect_pasted(
        self, image: Image.Image | None, threshold: float, ticket: Ticket | None = None
    ) -> Detected:
        """Detect objects in a pasted image."""
        if image is None:
            raise UserInputError("Paste an image first.")
        return self.detect(image, threshold, ticket)

    def detect_sketch(
        self, sketch: dict | None, threshold: float, ticket: Ticket | None = None
    ) -> Detected:
        """Detect the digits drawn on the sketchpad (dark strokes on white are inverted)."""
        composite = (sketch or {}).get("composite")
        if composite is None:
            raise UserInputError("Draw some digits first.")
        return self.detect(composite, threshold, ticket)

    def detect(self, image: Image.Image, threshold: float, ticket: Ticket | None) -> Detected:
        """The session's detector (or the served one) on `image`: what every input shows."""
        detector = self.sessions.current(ticket)  # evicted: Sessions' notice, as a gr.Warning
        found = display.detect_for_display(detector.model, image, self.named(detector, ticket))
        return shown(found, threshold)

    def detect_scene(self, seed: float, threshold: float, ticket: Ticket | None = None) -> Detected:
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
        detector = self.sessions.current(ticket)
        scene = scenes.make_scenes(1, "test", seed=int(seed), size=detector.config.img_size)[0]
        truth = ", ".join(scenes.CLASSES[label - 1] for label in sorted(scene.labels))
        said = f"Scene {int(seed)} holds the digits {truth}. {self.named(detector, ticket)}"
        said = said.strip()
        return shown(display.detect_for_display(detector.model, scene.pil(), said), threshold)

    @staticmethod
    def refilter(threshold: float, state: Found | None) -> Detected:
        """Show the last answer's detections above a new threshold, without running the model."""
        if state is None:
            raise UserInputError("Detect something first.")
        return shown(state, threshold)

    def build(self) -> None:
        """The Detect tab's components, filled with the first view, and its events, inside the
        caller's `gr.Blocks`; then how the detector was trained and a visitor's own."""
        first = self.first
        gr.Markdown(self.sessions.served.status, elem_id="detect-status")
        ticket = self.sessions.state()
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
                    brush = gr.Brush(default_size=10, colors=["#000000"], color_mode="fixed")
                    sketch = gr.Sketchpad(
                        label="Draw digits", type="pil", canvas_size=(256, 256), brush=brush
                    )
                    sketch_button = gr.Button("Detect", variant="primary")
                threshold = gr.Slider(
                    0.05,
                    0.95,
                    value=self.threshold,
                    step=0.05,
                    label="Score threshold",
                    elem_id="detect-threshold",
                )
            with gr.Column():
                boxes = gr.AnnotatedImage(first.boxes, label="Detections", elem_id="detect-boxes")
                summary = gr.Markdown(first.summary, elem_id="detect-summary")
                table = gr.Dataframe(
                    first.table, label="Boxes (pixels of your image)", elem_id="detect-table"
                )
        outputs = list(Detected(boxes, table, summary, last=gr.State(first.last)))
        upload_button.click(
            handler(self.detect_file), [upload, threshold, ticket], outputs, api_name="detect"
        )
        paste_button.click(
            handler(self.detect_pasted),
            [pasted, threshold, ticket],
            outputs,
            api_name="detect_pasted",
            **HIDDEN,
        )
        sketch_button.click(
            handler(self.detect_sketch),
            [sketch, threshold, ticket],
            outputs,
            api_name="detect_sketch",
            **HIDDEN,
        )
        scene = handler(self.detect_scene)
        show_button.click(scene, [seed, threshold, ticket], outputs, api_name="detect_scene")
        scene_button.click(random_scene, None, seed, api_visibility="private").then(
            scene, [seed, threshold, ticket], outputs, api_visibility="private"
        )
        threshold.release(
            handler(self.refilter),
            [threshold, outputs[-1]],
            outputs,
            api_name="detect_filter",
            **HIDDEN,
        )
        self.train.build(ticket)


def random_scene() -> int:
    return random.randrange(MAX_SEED)
