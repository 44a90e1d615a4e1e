"""What a visitor sees of a detector's answer: boxes above a threshold, a table, a sentence.

An image is detected once (`detect_for_display`) at up to DISPLAY_SIDE pixels, keeping every
detection; a new threshold then only filters what was found (`shown`), without the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from PIL import Image

from shared.detect.evaluate import Detection, detect_image
from shared.detect.model import DetectInputError, Detector
from shared.transfer.data import MAX_PIXELS

DISPLAY_SIDE = 512  # images are detected and drawn at most this wide (the model sees 128 px)
MIN_SIDE = 8  # pixels: a smaller image cannot hold an object
COLUMNS = ["label", "score", "x0", "y0", "x1", "y1"]


@dataclass
class Found:
    """One image's detections, kept per session so that a new threshold re-filters them."""

    image: Image.Image  # the display copy the boxes are drawn on
    scale: float  # display pixels per pixel of the visitor's image
    found: list[Detection]  # every detection above the model's floor, display pixels, best first
    note: str = ""  # what the summary adds (the scene's true digits, the model used)


@dataclass
class Shown:
    """`Found` at one threshold: the boxes to draw, their table and a summary sentence."""

    boxes: list[tuple[tuple[int, int, int, int], str]]  # display pixels, "label score"
    table: pd.DataFrame  # one row per box, in the pixels of the visitor's image
    summary: str


def detect_for_display(detector: Detector, image: Image.Image, note: str = "") -> Found:
    """Every detection in `image`, made at most DISPLAY_SIDE wide; refuses images too large or
    too small with a message naming their size."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise DetectInputError(
            f"The image is {width}x{height} pixels: too large (limit {MAX_PIXELS:,} pixels)."
        )
    if min(width, height) < MIN_SIDE:
        raise DetectInputError(f"The image is {width}x{height} pixels: too small to hold objects.")
    image = flatten(image)
    scale = min(1.0, DISPLAY_SIDE / max(width, height))
    if scale < 1:
        image = image.resize((round(width * scale), round(height * scale)), Image.BILINEAR)
    return Found(image, scale, detect_image(detector, image), note)


def flatten(image: Image.Image) -> Image.Image:
    """RGB; transparent pixels become white (a sketch's strokes on an empty layer)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def shown(state: Found, threshold: float) -> Shown:
    """The detections scoring at least `threshold`: boxes, table and summary."""
    kept = [d for d in state.found if d.score >= threshold]
    boxes = [(tuple(round(v) for v in d.box), f"{d.label} {d.score:.2f}") for d in kept]
    rows = [[d.label, round(d.score, 3), *(round(v / state.scale, 1) for v in d.box)] for d in kept]
    if kept:
        counts = pd.Series([d.label for d in kept]).value_counts().sort_index()
        said = ", ".join(f"{n} x {label}" for label, n in counts.items())
        summary = f"**{len(kept)} found** at score >= {threshold:.2f}: {said}."
    else:
        summary = (
            f"**Nothing found** at score >= {threshold:.2f}. Lower the threshold, or draw "
            "larger digits."
        )
    said = " ".join(s for s in (summary, state.note) if s)
    return Shown(boxes, pd.DataFrame(rows, columns=COLUMNS), said)
