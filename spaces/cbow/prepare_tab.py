"""The CBOW app's Prepare tab, step (a): a corpus, and what each preparation step does to it.

The corpus chosen here (the built-in one, or the visitor's text with its options) is also what
the Train tab trains on: `build` returns its inputs for that tab.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.app.outputs import handler
from shared.cbow.corpus import (
    MAX_VOCABULARY,
    Corpus,
    PrepareOptions,
    builtin_corpus,
    sources_table,
    user_corpus,
)
from shared.cbow.vectors import MAX_VECTOR_CELLS, vocabulary_cap

BUILTIN, MINE = "built-in corpus", "my text"
MIN_COUNT = 3  # the slider's start: gensim's 5 drops too much of a small corpus


class Choice(NamedTuple):
    """The corpus and its preparation, as the visitor chose them (the inputs of both tabs)."""

    source: str
    files: list[str] | None
    pasted: str
    lowercase: bool
    stopwords: bool
    phrases: bool
    min_count: float


class Prepared(NamedTuple):
    stats: str  # Markdown: sizes after each step
    top_words: pd.DataFrame  # word, count: the most frequent words


def read_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count) -> Corpus:
    """The corpus the visitor chose: the built-in one comes prepared, so only min_count applies."""
    if source == BUILTIN:
        return builtin_corpus(
            min_count=int(min_count), max_vocabulary=MAX_VOCABULARY, dictionary=True
        )
    options = PrepareOptions(
        bool(lowercase), bool(stopwords), bool(phrases), int(min_count), MAX_VOCABULARY
    )
    return user_corpus([str(f) for f in files or []], pasted, options)


def cap_note(cap: int, min_count: int, used: int, dropped: int) -> str:
    """What the vocabulary cap did, in the words of the Prepare and Train results."""
    if not dropped:
        return f"The vocabulary cap of {cap:,} words drops nothing."
    return (
        f"The vocabulary cap of {cap:,} words raises min_count from {min_count} to {used} and "
        f"drops {dropped:,} more words."
    )


def prepare_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count) -> Prepared:
    """Corpus statistics after each preparation step, and the most frequent words."""
    corpus = read_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count)
    s = corpus.stats
    lines = [
        f"**{corpus.name}**: {s.documents:,} documents, {s.tokens:,} tokens, "
        f"{s.vocabulary:,} distinct words.",
        f"`min_count={int(min_count)}` drops {s.dropped_words:,} rare words "
        f"({s.dropped_tokens:,} tokens) and keeps {s.kept_vocabulary:,}.",
        cap_note(MAX_VOCABULARY, int(min_count), s.capped_min_count, s.cap_dropped_words)
        + f" Training caps vector size x words at {MAX_VECTOR_CELLS:,}: at 300 dimensions, "
        f"{vocabulary_cap(300):,} words.",
    ]
    if s.sources:
        lines.append(sources_table([asdict(x) for x in s.sources]))
    if s.stopwords_removed:
        lines.append(f"Stop-word removal dropped {s.stopwords_removed:,} tokens.")
    if s.phrases:
        lines.append(f"Phrases joined {len(s.phrases)}: {', '.join(s.phrases[:15])}")
    lines += [f"⚠️ {note}" for note in corpus.notes]
    return Prepared("\n\n".join(lines), pd.DataFrame(s.top_words, columns=["word", "count"]))


FIRST = prepare_corpus(BUILTIN, None, "", True, False, False, MIN_COUNT)  # the view on open


def build() -> Choice:
    """Lay the tab out with `FIRST` shown; return the corpus inputs for the Train tab too."""
    source = gr.Radio([BUILTIN, MINE], value=BUILTIN, label="Corpus", elem_id="source")
    # the built-in corpus comes prepared (gensim's simple_preprocess): only min_count applies
    with gr.Column(visible=False, elem_id="my-text") as my_text:
        with gr.Row():
            files = gr.File(
                file_count="multiple", file_types=[".txt"], label=".txt files", elem_id="files"
            )
            pasted = gr.Textbox(lines=5, label="or paste text", elem_id="pasted")
        with gr.Row():
            lowercase = gr.Checkbox(True, label="lowercase")
            stopwords = gr.Checkbox(False, label="remove stop words")
            phrases = gr.Checkbox(False, label="detect phrases (gensim Phrases)")
    min_count = gr.Slider(1, 20, value=MIN_COUNT, step=1, label="min_count")
    button = gr.Button("Prepare", variant="primary", elem_id="prepare-button")
    shown = Prepared(
        stats=gr.Markdown(FIRST.stats, elem_id="stats"),
        top_words=gr.Dataframe(
            FIRST.top_words, label="most frequent words", interactive=False, elem_id="top"
        ),
    )
    source.change(
        lambda s: gr.update(visible=s == MINE),
        source,
        my_text,
        queue=False,
        api_visibility="private",
    )
    choice = Choice(source, files, pasted, lowercase, stopwords, phrases, min_count)
    button.click(
        handler(prepare_corpus),
        list(choice),
        list(shown),
        api_name="prepare",
        api_visibility="undocumented",  # callable by clients, not offered as an MCP tool
    )
    return choice
