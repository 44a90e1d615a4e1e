"""The CBOW app's Training pairs tab, step (b): the (context -> target) pairs a text gives.

The course counts its window in words in all and takes only words with a full context as
targets; gensim counts `window` per side and makes every word a target. Both are shown, and
beside them skip-gram's (target -> context word) pairs for the course's windows.
"""

from __future__ import annotations

from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.app.outputs import handler
from shared.cbow import course
from shared.cbow.corpus import tokenize_text
from shared.cbow.pairs import course_pairs, gensim_pairs, pairs_table, skipgram_pairs
from shared.errors import UserInputError

MAX_PAIRS_CHARS = 2_000  # the pairs panel is for reading, not for whole books
HEADERS = ["context", "target"]
SKIPGRAM_HEADERS = ["target (input)", "context word (predicted)"]


class Pairs(NamedTuple):
    note: str  # Markdown: what the two windows mean for this text
    course: pd.DataFrame  # the course's pairs
    gensim: pd.DataFrame  # gensim's pairs (per-side window)
    skipgram: pd.DataFrame  # skip-gram's (target, context word) pairs, the course's windows


def show_pairs(text: str, window: float) -> Pairs:
    """The (context -> target) pairs in the course's convention and in gensim's."""
    if not (text or "").strip():
        raise UserInputError("The sentence is empty: type a few words.")
    if len(text) > MAX_PAIRS_CHARS:
        raise UserInputError(f"The text is {len(text)} characters; the limit is {MAX_PAIRS_CHARS}.")
    tokens = tokenize_text(text)
    window = int(window)
    windows = course_pairs(tokens, window)
    course = pairs_table(windows)
    per_side = pairs_table(gensim_pairs(tokens, window // 2))
    note = (
        f"{len(tokens)} tokens. The course's window of {window} means {window} context words "
        f"in all, {window // 2} on each side; only words with a full context are targets. "
        f"The same context in gensim is `window={window // 2}`, counted per side: every word "
        f"is a target, and the {window // 2} word(s) at each edge get partial contexts. "
        "Skip-gram reads the course's windows the other way: CBOW predicts each target from "
        "its averaged context, skip-gram predicts each context word from the target, one pair "
        "per context word."
    )
    return Pairs(
        note,
        pd.DataFrame(course, columns=HEADERS),
        pd.DataFrame(per_side, columns=HEADERS),
        pd.DataFrame(skipgram_pairs(windows), columns=SKIPGRAM_HEADERS),
    )


FIRST = show_pairs(course.SENTENCE, course.WINDOW)  # the view on open


def build() -> None:
    """Lay the tab out with `FIRST` shown, and wire its button."""
    sentence = gr.Textbox(course.SENTENCE, label="text", elem_id="pairs-text")
    window = gr.Slider(2, 10, value=course.WINDOW, step=2, label="course window (words in all)")
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
            skipgram=gr.Dataframe(
                FIRST.skipgram,
                label="skip-gram's pairs (the course's window)",
                interactive=False,
                elem_id="skipgram-pairs",
            ),
        )
    button.click(
        handler(show_pairs),
        [sentence, window],
        list(shown),
        api_name="pairs",
        api_visibility="undocumented",  # callable by clients, not offered as an MCP tool
    )
