"""The CBOW app's Training pairs tab, step (b): the (context -> target) pairs a text gives.

The course counts its window in words in all and takes only words with a full context as
targets; gensim counts `window` per side and makes every word a target. Both are shown.
"""

from __future__ import annotations

from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.app.outputs import handler
from shared.cbow.corpus import tokenize_text
from shared.cbow.pairs import course_pairs, gensim_pairs, pairs_table
from shared.errors import UserInputError

MAX_PAIRS_CHARS = 2_000  # the pairs panel is for reading, not for whole books
EXAMPLE_SENTENCE = "It is a pleasant day"  # the course's own example
HEADERS = ["context", "target"]


class Pairs(NamedTuple):
    note: str  # Markdown: what the two windows mean for this text
    course: pd.DataFrame  # the course's pairs
    gensim: pd.DataFrame  # gensim's pairs (per-side window)


def show_pairs(text: str, window: float) -> Pairs:
    """The (context -> target) pairs in the course's convention and in gensim's."""
    if not (text or "").strip():
        raise UserInputError("The sentence is empty: type a few words.")
    if len(text) > MAX_PAIRS_CHARS:
        raise UserInputError(f"The text is {len(text)} characters; the limit is {MAX_PAIRS_CHARS}.")
    tokens = tokenize_text(text)
    window = int(window)
    course = pairs_table(course_pairs(tokens, window))
    per_side = pairs_table(gensim_pairs(tokens, window // 2))
    note = (
        f"{len(tokens)} tokens. The course's window of {window} means {window} context words "
        f"in all, {window // 2} on each side; only words with a full context are targets. "
        f"The same context in gensim is `window={window // 2}`, counted per side: every word "
        f"is a target, and the {window // 2} word(s) at each edge get partial contexts."
    )
    return Pairs(
        note, pd.DataFrame(course, columns=HEADERS), pd.DataFrame(per_side, columns=HEADERS)
    )


FIRST = show_pairs(EXAMPLE_SENTENCE, 2)  # the view on open


def build() -> None:
    """Lay the tab out with `FIRST` shown, and wire its button."""
    sentence = gr.Textbox(EXAMPLE_SENTENCE, label="text", elem_id="pairs-text")
    window = gr.Slider(2, 10, value=2, step=2, label="course window (words in all)")
    button = gr.Button("Show pairs", variant="primary", elem_id="pairs-button")
    note = gr.Markdown(FIRST.note, elem_id="pairs-note")
    with gr.Row():
        shown = Pairs(
            note=note,
            course=gr.Dataframe(
                FIRST.course, label="the course's pairs", interactive=False, elem_id="course-pairs"
            ),
            gensim=gr.Dataframe(
                FIRST.gensim, label="gensim's pairs (per-side window)", interactive=False
            ),
        )
    button.click(
        handler(show_pairs),
        [sentence, window],
        list(shown),
        api_name="pairs",
        api_visibility="undocumented",  # callable by clients, not offered as an MCP tool
    )
