"""The CBOW app's How it works tab: CBOW in words, the app's limits, and a from-scratch model.

The from-scratch model is the course's drawing in PyTorch (`shared.cbow.scratch`), trained
live on a few sentences; what it predicts for each pair shows that it learned them.
"""

from __future__ import annotations

from typing import NamedTuple

import gradio as gr
import pandas as pd
from model_tab import loss_frame, loss_plot
from pairs_tab import MAX_PAIRS_CHARS
from train_tab import MAX_EPOCHS, MAX_VECTOR_SIZE

from shared.app.launch import MAX_FILE_SIZE, TRAIN_CONCURRENCY, TRAIN_SECONDS
from shared.app.outputs import handler
from shared.cbow.corpus import MAX_CORPUS_MB, MAX_VOCABULARY, MIN_TOKENS, MIN_VOCABULARY
from shared.cbow.explore import MAX_TOPK, MAX_WORD_CHARS
from shared.cbow.scratch import TOY_SENTENCES, train_scratch
from shared.cbow.vectors import MAX_VECTOR_CELLS
from shared.errors import UserInputError

MAX_SCRATCH_SENTENCES = 20


class Scratch(NamedTuple):
    loss: pd.DataFrame  # epoch, loss of the from-scratch model
    predictions: pd.DataFrame  # context, target, predicted, P(target)


def how_it_works(budget_mb: float) -> str:
    """CBOW in a paragraph, and every limit of this app (`budget_mb`: all sessions' vectors)."""
    return f"""
CBOW (continuous bag of words) learns a vector per word by predicting each word from its
neighbours. Each context word is a one-hot vector; the context vectors go through one shared
hidden layer (its weights are the word vectors), are averaged, and a softmax over the
vocabulary predicts the target. Below, a PyTorch version of under 100 lines trains live on
your sentences. gensim trains the real vectors the same way, but replaces the full softmax by
*negative sampling*: it scores the target against a few random "noise" words.

**Limits of this app:** uploads of .txt files only, at most {MAX_FILE_SIZE} per file and
{MAX_CORPUS_MB} MB of text in all; a corpus needs at least {MIN_TOKENS} tokens and
{MIN_VOCABULARY} words that pass `min_count`. One training run at a time per app
(`concurrency_limit={TRAIN_CONCURRENCY}`), stopped after the epoch that passes
{TRAIN_SECONDS} s, at most {MAX_EPOCHS} epochs and {MAX_VECTOR_SIZE} dimensions. Training keeps
at most {MAX_VOCABULARY:,} words and {MAX_VECTOR_CELLS:,} numbers (vector size x words), raising
`min_count` as gensim's `max_final_vocab` does; all visitors' trained vectors share a memory
budget of {budget_mb:,.0f} MB, and the least recently used are removed first. Query words
are at most {MAX_WORD_CHARS} characters; top-k is at most {MAX_TOPK}; the pairs panel reads
{MAX_PAIRS_CHARS} characters; the teaching model takes {MAX_SCRATCH_SENTENCES} sentences.
Nothing you upload is ever unpickled: the vectors load from word2vec binary format.
"""


def scratch_demo(text: str) -> Scratch:
    """Train the from-scratch PyTorch CBOW on a few sentences; show what it predicts."""
    sentences = [line for line in (text or "").splitlines() if line.strip()]
    if not sentences:
        raise UserInputError("Type at least one sentence of three words or more.")
    if len(sentences) > MAX_SCRATCH_SENTENCES:
        raise UserInputError(
            f"{len(sentences)} sentences; the teaching model takes {MAX_SCRATCH_SENTENCES}."
        )
    result = train_scratch(sentences)
    if not result.pairs:
        raise UserInputError("No sentence has three words, so there is no (context, target) pair.")
    rows = [
        [", ".join(context), target, best, round(p_target, 3)]
        for context, target, best, p_target in result.predictions()
    ]
    table = pd.DataFrame(rows, columns=["context", "target", "predicted", "P(target)"])
    history = [{"epoch": i + 1, "loss": v} for i, v in enumerate(result.losses)]
    return Scratch(loss_frame(history), table)


FIRST = scratch_demo("\n".join(TOY_SENTENCES))  # the view on open: 300 epochs, once


def build(budget_mb: float) -> None:
    """Lay the tab out with `FIRST` shown, and wire its button."""
    gr.Markdown(how_it_works(budget_mb))
    toy = gr.Textbox("\n".join(TOY_SENTENCES), lines=4, label="sentences, one per line")
    button = gr.Button("Train the from-scratch CBOW", elem_id="scratch-button")
    with gr.Row():
        shown = Scratch(
            loss=loss_plot(FIRST.loss, "From-scratch CBOW", "scratch-loss"),
            predictions=gr.Dataframe(FIRST.predictions, label="predictions", interactive=False),
        )
    button.click(
        handler(scratch_demo),
        toy,
        list(shown),
        api_name="scratch",
        api_visibility="undocumented",  # callable by clients, not offered as an MCP tool
    )
