"""The Classify tab: an image in; the top classes, where the model looked and its box out.

`Classify(sessions)` is the tab of one app: its handlers ask `sessions` for the model that
answers a visitor (theirs once they fine-tuned, else the served one), and its first view, the
first example already classified, is made once when the app is built.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import NamedTuple

import gradio as gr
from PIL import Image

from shared.app.errors import readable
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.errors import UserInputError
from shared.transfer import data, hub_io
from shared.transfer.cam import classify

HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
EXAMPLES = 8  # held-out target digits offered as examples


class Classified(NamedTuple):
    labels: dict | None  # label -> probability, best first
    heatmap: Image.Image | None  # the visitor's image with the Grad-CAM and the box over it
    box: dict | None  # x0, y0, x1, y1 in the pixels of the visitor's image


class Example(NamedTuple):
    image: str | None  # the example's file, shown in the image input
    labels: dict | None
    heatmap: Image.Image | None
    box: dict | None


def classified(clf: hub_io.Classifier, image: Image.Image) -> Classified:
    pred = classify(clf, image)
    # identical answers to concurrent requests share one cache file (workarounds.write_once)
    box = dict(zip(("x0", "y0", "x1", "y1"), pred.box, strict=True))
    return Classified(pred.scores, pred.heatmap, box)


def example_files(metrics: dict) -> list[str]:
    """Held-out test digits as PNGs, enlarged without smoothing so a thumbnail shows them.

    They come from the model's test split (metrics.json's `test_index`), which it never saw.
    """
    folder = Path(tempfile.mkdtemp(prefix="transfer-examples-"))
    paths = []
    for index, label, image in data.held_out_digits(metrics.get("test_index"), EXAMPLES):
        path = folder / f"digit-{label}-{index}.png"
        image.resize((64, 64), Image.NEAREST).save(path)
        paths.append(str(path))
    return paths


class Classify:
    """The tab's handlers, answered by the model `sessions` gives each visitor."""

    def __init__(self, sessions: Sessions[hub_io.Classifier]):
        self.sessions = sessions
        self.examples = example_files(sessions.served.metrics)
        served = sessions.served.model
        # the tab opens on the first example, already classified (no model: empty)
        self.first = (
            Example(self.examples[0], *classified(served, data.open_image(self.examples[0])))
            if served is not None
            else Example(None, None, None, None)
        )

    def classify_file(self, path: str | None, ticket: Ticket | None = None) -> Classified:
        """Classify an image file: the top classes, where the model looked (Grad-CAM) and its box.

        Args:
            path: an image file (PNG, JPEG, ...): a photo, a scan or a drawing of one object, such
                as a handwritten digit on paper.

        Returns:
            The top classes with probabilities, the image with the Grad-CAM heatmap and the box
            laid over it, and the box in the image's own pixels.
        """
        if not path:
            raise UserInputError("Upload, paste or photograph an image first.")
        # uploads live at content-hash paths that concurrent requests share: the sweep deletes them
        image = data.open_image(path, Path(path).name)
        return classified(self.sessions.current(ticket), image)

    def classify_new_image(self, path: str | None, ticket: Ticket | None = None) -> Classified:
        """The image input changed: classify it, or clear the answer when the image was removed."""
        return self.classify_file(path, ticket) if path else Classified(None, None, None)

    def classify_drawing(self, drawing: dict | None, ticket: Ticket | None = None) -> Classified:
        """Classify what was drawn on the sketchpad (a digit, for the built-in model)."""
        path = (drawing or {}).get("composite")
        if not path:
            raise UserInputError("Draw a digit on the sketchpad first.")
        image = data.open_image(path, "the drawing")
        return classified(self.sessions.current(ticket), image)

    def classify_example(self, index: int) -> Example:
        """Classify one of the built-in held-out handwritten digits with the app's model.

        Args:
            index: which example, 0 to 7 (examples are the digits 0, 1, ..., 7 in that order).

        Returns:
            The example image, the top classes with probabilities, the Grad-CAM image and the box.
        """
        if not 0 <= int(index) < len(self.examples):
            raise UserInputError(f"Example index must be 0 to {len(self.examples) - 1}.")
        path = self.examples[int(index)]
        return Example(path, *classified(self.sessions.current(None), data.open_image(path)))

    def build(self, session: gr.State) -> None:
        """The tab's components, filled with the first view, and its events."""
        first = self.first
        with gr.Row():
            with gr.Column():
                image = readable(
                    gr.Image(
                        first.image,
                        label="Your image: upload, paste or take a photo",
                        sources=["upload", "clipboard", "webcam"],
                        type="filepath",
                        height=260,
                        elem_id="transfer-image",
                    )
                )
                run_button = gr.Button("Classify", variant="primary", elem_id="transfer-classify")
                gr.Examples(
                    [[path] for path in self.examples],
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
                shown = Classified(
                    labels=gr.Label(
                        first.labels,
                        num_top_classes=5,
                        label="Top classes",
                        elem_id="transfer-label",
                    ),
                    heatmap=gr.Image(
                        first.heatmap,
                        label="Where the model looked (Grad-CAM) and its box, on your image",
                        elem_id="transfer-heatmap",
                        format="png",
                    ),
                    box=gr.JSON(
                        first.box, label="Box (pixels of your image)", elem_id="transfer-box"
                    ),
                )
        run_button.click(
            handler(self.classify_file), [image, session], list(shown), api_name="classify"
        )
        # an upload, a paste, a photo or an example thumbnail: answer at once
        image.change(
            handler(self.classify_new_image), [image, session], list(shown), api_name=False
        )
        sketch_button.click(
            handler(self.classify_drawing),
            [sketch, session],
            list(shown),
            api_name="classify_drawing",
            **HIDDEN,
        )
        # the examples by number, for API clients and agents (the page uses the thumbnails)
        example = gr.Slider(0, EXAMPLES - 1, step=1, value=0, visible=False)
        example_button = gr.Button(visible=False)
        example_button.click(
            handler(self.classify_example),
            example,
            list(Example(image, *shown)),
            api_name="classify_example",
        )
