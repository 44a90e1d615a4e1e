"""Outputs named once: a handler returns a NamedTuple whose fields are its outputs.

A tab declares what it shows as a NamedTuple, returns it from a plain function, and builds the
components as an instance of the same NamedTuple, so no list of outputs is kept in step with a
tuple by hand:

    class Scored(NamedTuple):
        summary: str
        plot: PlotData

    def score(text: str) -> Scored: ...          # plain: a test calls it without a page

    FIRST = score("built-in")                    # the first view, once, at import
    shown = Scored(summary=gr.Markdown(FIRST.summary), plot=gr.Plot(FIRST.plot))
    button.click(handler(score), [text], list(shown))
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

import gradio as gr
from gradio.components.plot import PlotData

from shared.app.errors import friendly

if TYPE_CHECKING:
    import plotly.graph_objects as go


def handler(fn: Callable, *first) -> Callable:
    """`fn` as an event handler: errors made readable (`friendly`), and a NamedTuple answer
    given to Gradio field by field. A one-field answer is unpacked, since Gradio hands a lone
    output the whole return value. Generators (progress while training) work the same way.

    `first` are values `fn` takes before the event's inputs, such as the app's `Sessions`: a
    tab's plain `train(sessions, text, ticket)` serves as `handler(train, SESSIONS)`. Gradio
    still sees the rest of `fn`'s signature, so `gr.Progress` defaults and `gr.OAuthToken`
    annotations keep working.
    """
    if first:
        fn = _bound(fn, first)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def each(*args, **kwargs):
            for answer in fn(*args, **kwargs):
                yield _unpacked(answer)

        return friendly(each)

    @functools.wraps(fn)
    def once(*args, **kwargs):
        return _unpacked(fn(*args, **kwargs))

    return friendly(once)


def _bound(fn: Callable, first: tuple) -> Callable:
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def bound(*args, **kwargs):
            yield from fn(*first, *args, **kwargs)

    else:

        @functools.wraps(fn)
        def bound(*args, **kwargs):
            return fn(*first, *args, **kwargs)

    signature = inspect.signature(fn)
    rest = list(signature.parameters.values())[len(first) :]
    bound.__signature__ = signature.replace(parameters=rest)  # what Gradio reads
    return bound


def _unpacked(answer):
    if isinstance(answer, tuple) and hasattr(answer, "_fields") and len(answer) == 1:
        return answer[0]
    return answer


_PLOT = gr.Plot(render=False)  # its postprocess is what gr.Plot sends for a figure


def plot_data(fig: go.Figure) -> PlotData:
    """A plotly figure as `gr.Plot` sends it to the browser, which draws it: serialized once.

    Return this instead of the figure where the same figure serves many visitors (a first view
    made at import): `gr.Plot` passes it through, so no visitor pays for serializing it again.
    """
    return _PLOT.postprocess(fig)
