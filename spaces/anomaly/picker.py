"""The data every tab works on: a built-in dataset, or an uploaded CSV and how to read it."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.anomaly.builtin import BUILTINS, load_builtin
from shared.anomaly.data import ECG_WINDOW, AnomalyData
from shared.anomaly.upload import read_csv, task_from_frame

SERIES_BUILTINS = ("ecg", "kdd135")  # built-ins cut into windows: window and stride apply


class Upload(NamedTuple):
    """An uploaded CSV, parsed once: its temp path, file name, frame and what was read."""

    path: str
    name: str
    frame: pd.DataFrame
    description: str


def read_upload(upload: str | None, cached: Upload | None) -> Upload | None:
    """The parsed upload, read once per file: Score and Train reuse it."""
    if not upload:
        return None
    if cached is not None and cached.path == upload:
        return cached
    # Gradio stores uploads by content hash, so a concurrent request may be reading this same
    # path: leave it to the delete_cache sweep rather than deleting it here.
    csv = read_csv(upload)
    return Upload(upload, Path(upload).name, csv.frame, csv.description)


def load_task(
    dataset: str,
    digit: int,
    uploaded: Upload | None,
    layout: str,
    label_col: str,
    window: int,
    stride: int,
    drop_missing: bool,
) -> AnomalyData:
    """The data the user picked: an uploaded CSV if there is one, else a built-in dataset."""
    if uploaded:
        frame = uploaded.frame.copy()
        return task_from_frame(
            frame, uploaded.name, layout, label_col, int(window), int(stride), drop_missing
        )
    return load_builtin(dataset, int(digit), int(window), int(stride))


class Picker(NamedTuple):
    """The inputs above the tabs."""

    dataset: str
    digit: int
    upload: str | None
    layout: str
    label_col: str
    window: int
    stride: int
    drop_missing: bool


class Controls(NamedTuple):
    """Which of the picker's options apply (each a visibility update)."""

    digit: dict
    layout: dict
    label_col: dict
    drop_missing: dict
    window: dict
    stride: dict


def controls(dataset: str, upload: str | None, layout: str) -> Controls:
    """Only the options that apply: the digit for digits, window and stride for series, the
    CSV's own options with a CSV."""
    series = layout == "series" if upload else dataset in SERIES_BUILTINS
    csv = gr.update(visible=bool(upload))
    return Controls(
        digit=gr.update(visible=not upload and dataset == "digits"),
        layout=csv,
        label_col=csv,
        drop_missing=csv,
        window=gr.update(visible=series),
        stride=gr.update(visible=series),
    )


def build() -> Picker:
    """The picker's components, showing the options that apply to the ECG series it opens on."""
    with gr.Row():
        dataset = gr.Dropdown(
            list(BUILTINS), value="ecg", label="Built-in dataset", elem_id="dataset"
        )
        digit = gr.Slider(
            0, 9, value=0, step=1, label="The normal digit", visible=False, elem_id="digit"
        )
        upload = gr.File(
            label="Or upload a CSV", file_types=[".csv"], type="filepath", elem_id="upload"
        )
    with gr.Row():
        layout = gr.Radio(
            ["table", "series"], value="table", label="CSV layout", visible=False, elem_id="layout"
        )
        label_col = gr.Textbox(
            label="Label column (optional, 1 = anomaly)", visible=False, elem_id="label-col"
        )
        window = gr.Number(value=ECG_WINDOW, precision=0, label="Window length", elem_id="window")
        stride = gr.Number(value=1, precision=0, label="Stride", elem_id="stride")
        drop_missing = gr.Checkbox(label="Drop rows with missing values", visible=False)
    picker = Picker(dataset, digit, upload, layout, label_col, window, stride, drop_missing)
    shown = Controls(digit, layout, label_col, drop_missing, window, stride)
    for source in (dataset, upload, layout):
        source.change(
            controls, [dataset, upload, layout], list(shown), queue=False, api_visibility="private"
        )
    return picker
