"""shared.app.outputs: NamedTuple answers given to Gradio field by field; figures sent once."""

from __future__ import annotations

import inspect
import json
from typing import NamedTuple

import gradio as gr
import plotly.graph_objects as go
import pytest
from gradio.helpers import special_args

from shared.app.outputs import handler, plot_data
from shared.errors import UserInputError


def test_plot_data_is_what_gr_plot_would_send_and_passes_through_unchanged():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[1.0, 0.5], name="loss"))
    data = plot_data(fig)
    assert data == gr.Plot().postprocess(fig)  # what the browser gets for the figure itself
    assert data.type == "plotly"
    assert json.loads(data.plot)["data"][0]["y"] == [1.0, 0.5]
    assert gr.Plot().postprocess(data) is data  # a cached one is not serialized again


class Two(NamedTuple):
    summary: str
    count: int


class One(NamedTuple):
    summary: str


def test_a_handler_gives_gradio_the_fields_and_unpacks_a_lone_one():
    assert handler(lambda n: Two("seen", n))(3) == ("seen", 3)
    assert handler(lambda: One("alone"))() == "alone"  # Gradio hands a lone output the value
    assert handler(lambda: ("plain", 1))() == ("plain", 1)  # a plain tuple is not unpacked


def test_a_generator_handler_yields_each_answer_unpacked():
    def progress():
        yield One("half")
        yield One("done")

    assert list(handler(progress)()) == ["half", "done"]


def test_a_handler_turns_errors_into_readable_messages():
    def refuse():
        raise UserInputError("column 'label' not found")

    with pytest.raises(gr.Error, match="column 'label' not found"):
        handler(refuse)()
    with pytest.raises(gr.Error, match=r"Something went wrong \(ZeroDivisionError\)"):
        handler(lambda: 1 / 0)()


def test_a_handler_passes_bound_values_first_and_gradio_sees_the_rest_of_the_signature():
    def push(store: dict, name: str, token: gr.OAuthToken | None, progress=gr.Progress()):  # noqa: B008
        return One(f"{store['owner']}/{name} {token}")

    bound = handler(push, {"owner": "alice"})
    assert bound("vectors", None) == "alice/vectors None"
    # what Gradio inspects to inject the token and the progress bar
    assert list(inspect.signature(bound).parameters) == ["name", "token", "progress"]
    assert gr.utils.get_type_hints(bound)["token"] == gr.OAuthToken | None
    _inputs, progress_index, _, _ = special_args(bound, ["vectors", None])
    assert progress_index == 2

    def steps(first: int, n: int):
        yield from (One(str(first + i)) for i in range(n))

    assert list(handler(steps, 10)(2)) == ["10", "11"]
