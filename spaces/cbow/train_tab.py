"""The CBOW app's Train tab, step (c): train vectors on the prepared corpus, for this session.

A visitor's vectors answer their own Explore and Model tabs until the session ends or the
memory budget for every visitor's vectors removes them (`Sessions`); they can push them to
their own Hugging Face account in the folder the training CLI writes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import pandas as pd
from model_tab import ModelView, model_panel, score
from prepare_tab import BUILTIN, Choice, cap_note, read_corpus

from shared.app.hub_push import push_trained, sign_in
from shared.app.launch import TRAIN_CONCURRENCY, TRAIN_SECONDS
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.cbow.evaluate import evaluate
from shared.cbow.vectors import (
    CBOWConfig,
    LoadedVectors,
    footprint,
    save_model,
    train,
    vocabulary_cap,
)

MAX_EPOCHS, MAX_VECTOR_SIZE = 50, 300  # with the time cap, they bound one in-app training run
HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool


class Trained(NamedTuple):
    status: str  # Markdown: what was trained, how long it took, how good it is
    ticket: Ticket  # the session's new vectors (its gr.State)
    text: str  # the Model tab, now showing them (ModelView's fields)
    settings: dict | None
    loss: pd.DataFrame


def train_vectors(
    sessions: Sessions[LoadedVectors],
    source,
    files,
    pasted,
    lowercase,
    stopwords,
    phrases,
    min_count,
    vector_size,
    window,
    negative,
    epochs,
    ticket: Ticket | None = None,
    progress=gr.Progress(),  # noqa: B008 - how Gradio asks for a progress bar
) -> Trained:
    """Train CBOW vectors for this session, within the time and memory caps; evaluate them."""
    corpus = read_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count)
    vector_size = int(min(vector_size, MAX_VECTOR_SIZE))
    config = CBOWConfig(
        vector_size=vector_size,
        window=int(window),
        negative=int(negative),
        min_count=int(min_count),
        epochs=int(min(epochs, MAX_EPOCHS)),
        max_final_vocab=vocabulary_cap(vector_size),
        lowercase=bool(lowercase) or source == BUILTIN,
    )

    def report(row):
        progress(
            (row["epoch"], config.epochs), desc=f"epoch {row['epoch']}: loss {row['loss']:,.0f}"
        )

    result = train(corpus.sentences, config, max_seconds=TRAIN_SECONDS, on_epoch=report)
    metrics = evaluate(result.vectors) | result.summary() | {"history": result.history}
    corpus_info = {"name": corpus.name, "tokens": corpus.stats.tokens}
    vectors = LoadedVectors(result.vectors, config, metrics, corpus_info)
    name = f"vectors trained on {corpus.name} at {time.strftime('%H:%M:%S UTC', time.gmtime())}"
    ticket = sessions.replace(ticket, vectors, footprint(result.vectors), name)
    cap = cap_note(
        config.max_final_vocab, config.min_count, result.min_count_used, result.cap_dropped_words
    )
    status = (
        f"Trained on {corpus.name}: {len(result.vectors):,} words, "
        f"{len(result.history)} epochs in {metrics['train_seconds']:.1f} s "
        f"({result.stop_reason}). WordSim353 Spearman {score(metrics['wordsim353_spearman'])}. "
        f"{cap} These vectors now answer the Explore tab in this browser session only."
    )
    return Trained(status, ticket, *model_panel(sessions, ticket))


def push(
    sessions: Sessions[LoadedVectors],
    ticket: Ticket | None,
    name: str,
    profile: gr.OAuthProfile | None,
    token: gr.OAuthToken | None,
) -> str:
    """Push this session's vectors to `<visitor>/<name>`: the folder and card the CLI writes."""
    model = sessions.trained(ticket)  # an evicted session is told so, not given the default

    def save(folder: Path) -> None:
        save_model(
            folder,
            model.vectors,
            model.config,
            corpus=model.corpus,
            metrics=model.metrics,
            command="# trained in the CBOW app's Train tab",
        )

    return push_trained(save if model else None, name, profile, token)


def build(
    sessions: Sessions[LoadedVectors], session: gr.State, corpus: Choice, model: ModelView
) -> None:
    """Lay the tab out; training answers here, in the session state and in the Model tab."""
    gr.Markdown("Trains on the corpus chosen in the Prepare tab, with its preparation.")
    defaults = CBOWConfig()
    with gr.Row():
        vector_size = gr.Slider(
            10, MAX_VECTOR_SIZE, defaults.vector_size, step=10, label="vector size"
        )
        window = gr.Slider(1, 15, defaults.window, step=1, label="window (per side)")
        negative = gr.Slider(1, 20, defaults.negative, step=1, label="negative samples")
        epochs = gr.Slider(1, MAX_EPOCHS, defaults.epochs, step=1, label="epochs")
    button = gr.Button("Train", variant="primary", elem_id="train-button")
    shown = Trained(gr.Markdown(elem_id="train-status"), session, *model)
    button.click(
        handler(train_vectors, sessions),
        [*corpus, vector_size, window, negative, epochs, session],
        list(shown),
        api_name="train",
        concurrency_limit=TRAIN_CONCURRENCY,
        **HIDDEN,
    )
    with gr.Accordion("Push your trained vectors to the Hugging Face Hub", open=False):
        sign_in()
        with gr.Row():
            repo_name = gr.Textbox(
                value="cbow-word2vec",
                label="Repo name (in your account)",
                elem_id="repo-name",
                scale=3,
            )
            push_button = gr.Button("Push to the Hub", elem_id="push", scale=1)
        pushed = gr.Markdown(elem_id="push-text")
    push_button.click(
        handler(push, sessions), [session, repo_name], pushed, api_name="push", **HIDDEN
    )
