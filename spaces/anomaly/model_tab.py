"""The Model tab: the model that answers this session, layer by layer, with its losses and
metrics (shared/anomaly/report.py's `describe_model`)."""

from __future__ import annotations

from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.anomaly.plots import loss_curves
from shared.anomaly.report import describe_model
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket


class ModelView(NamedTuple):
    arch: pd.DataFrame  # the layers and their parameter counts
    loss_plot: pd.DataFrame  # training and validation loss at each check
    model_text: str  # what the model is, its threshold and test metrics, the memory in use
    config: dict  # the config saved with the weights


def model_view(sessions: Sessions, ticket: Ticket | None = None) -> ModelView:
    """The session's own model, else the served one (with word of an eviction), or why none."""
    own = sessions.own(ticket)
    served = sessions.served
    if own is not None:
        summary = describe_model(own.model, own.result.history, own.result.metrics)
    elif served.model is not None:
        history, metrics = served.metrics.get("history", []), served.metrics.get("test", {})
        summary = describe_model(served.model, history, metrics)
    else:
        return ModelView(pd.DataFrame(), loss_curves([]), served.status, {})
    text = summary.text
    if sessions.evicted(ticket):
        text = f"⚠️ {sessions.notice(ticket)}\n\n{text}"
    return ModelView(
        summary.layers, summary.curves, f"{text}\n\nMemory: {sessions.usage()}", summary.config
    )


def components(first: ModelView) -> ModelView:
    """The tab's outputs, filled with `first`, made before the Train tab that also updates them
    and placed in the Model tab by `build`."""
    return ModelView(
        gr.Dataframe(first.arch, label="Architecture", render=False),
        gr.LinePlot(
            first.loss_plot,
            x="epoch",
            y="loss",
            color="curve",
            label="Training and validation loss",
            render=False,
        ),
        gr.Markdown(first.model_text, render=False),
        gr.JSON(
            first.config, label="Config saved with the weights", elem_id="config", render=False
        ),
    )


def build(sessions: Sessions, shown: ModelView, session: gr.State, tab: gr.Tab) -> None:
    """Lay the outputs out; opening the tab shows the model that answers the session now."""
    for component in shown:
        component.render()

    def on_open(ticket: Ticket | None = None) -> ModelView:
        return model_view(sessions, ticket)

    tab.select(
        handler(on_open),
        [session],
        list(shown),
        api_name="model_tab",
        api_visibility="undocumented",
    )
