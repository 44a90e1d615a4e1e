"""shared.ui.plot_data: figures drawn once, as gr.Plot would, and freed."""

from __future__ import annotations

import base64
import gc
import io
import weakref

import gradio as gr
from PIL import Image

from shared.plots import history_plot
from shared.ui import plot_data


def test_plot_data_is_what_gr_plot_would_send_and_passes_through_unchanged():
    fig = history_plot([{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}])
    width, height = (fig.get_size_inches() * fig.dpi).round().astype(int)
    data = plot_data(fig)
    header, encoded = data.plot.split(",", 1)
    assert data.type == "matplotlib" and header == "data:image/webp;base64"
    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        assert image.format == "WEBP" and image.size == (width, height)
    assert gr.Plot().postprocess(data) is data
    assert not fig.axes  # emptied: what is left of it holds no data


def test_drawn_figures_do_not_wait_for_python_s_rare_full_collections():
    def draw() -> weakref.ref:
        fig = history_plot([{"epoch": 1, "val_loss": 2.0}])
        plot_data(fig)
        return weakref.ref(fig)

    gc.collect()
    gc.freeze()  # what freeze_startup() does before an app serves
    try:
        gc.disable()  # only plot_data's own collection may free it
        try:
            earlier = draw()
            assert earlier() is not None  # a reference cycle: only a collection frees it
            draw()  # the next figure's collection does
            assert earlier() is None
        finally:
            gc.enable()
    finally:
        gc.unfreeze()
