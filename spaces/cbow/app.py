"""Word2Vec CBOW, step by step: prepare a corpus, see the training pairs, train, explore.

    python spaces/cbow/app.py          # serves on http://127.0.0.1:7860

The served vectors come from $CBOW_MODEL, the repo a Space bundle names in models.json,
artifacts/cbow/ or the Hub (`shared.hub`); vectors trained in the Train tab serve only the
session that trained them, and all sessions' vectors share one memory budget
($CBOW_SESSION_BUDGET_MB, default 1024): the least recently used go first, and their visitor
is told so and gets the served vectors again.
"""

from __future__ import annotations

import json
from pathlib import Path

import explore_tab
import gradio as gr
import how_it_works_tab
import model_tab
import pairs_tab
import prepare_tab
import train_tab

from shared.app.launch import QUEUE_CONCURRENCY, delete_cache, launch_kwargs, prepare_to_serve
from shared.app.outputs import handler
from shared.app.served import DefaultModel, load_default
from shared.app.sessions import Sessions
from shared.cbow.vectors import VECTORS_FILE, LoadedVectors, load_model

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json


def served_model() -> DefaultModel[LoadedVectors]:
    """The vectors every visitor gets until they train their own, with their metrics."""
    return load_default("cbow", ("config.json", VECTORS_FILE), load_model, app_dir=HERE)


# One session's vectors are at most ~30 MB (MAX_VECTOR_CELLS), so the default budget of 1 GB
# keeps ~35 visitors' vectors at their largest.
SESSIONS = Sessions(served_model(), "CBOW_SESSION_BUDGET_MB", what="vectors")
EXPLORED = explore_tab.first_view(SESSIONS.served.model)  # the Explore tab on open, once


def model_info() -> str:
    """Which vectors are served, or how to get some."""
    return SESSIONS.served.status


# Tools for agents (MCP) and API clients: the served vectors, answers in JSON.


def nearest_words(word: str, topk: int = 10) -> str:
    """The words whose CBOW vectors are nearest to a word, by cosine similarity.

    Args:
        word: one word of the vocabulary (lower-cased as the training corpus was; phrases use _)
        topk: how many neighbours to return, from 1 to 50

    Returns:
        JSON: the query word and its neighbours ({"word", "similarity"}), most similar first.
    """
    rows = explore_tab.similar(SESSIONS.current(None), word, topk)
    return json.dumps({"word": word, "neighbours": rows.to_dict("records")})


def word_analogy(a: str, b: str, c: str, topk: int = 5) -> str:
    """Solve "b is to a as c is to ?" with word vectors: the words nearest to a - b + c.

    With a = king, b = man, c = woman the answer should be queen. The three inputs are never
    answers.

    Args:
        a: the word to start from (king)
        b: the word to subtract (man)
        c: the word to add (woman)
        topk: how many answers to return, from 1 to 50

    Returns:
        JSON: the answers ({"word", "similarity"} to a - b + c), best first.
    """
    rows = explore_tab.analogy(SESSIONS.current(None), a, b, c, topk)
    return json.dumps({"query": f"{a} - {b} + {c}", "answers": rows.to_dict("records")})


def word_similarity(a: str, b: str) -> float:
    """Cosine similarity of two words' CBOW vectors, from -1 (opposite) to 1 (same direction).

    Args:
        a: the first word
        b: the second word
    """
    return explore_tab.pair_similarity(SESSIONS.current(None), a, b)


with gr.Blocks(title="Word2Vec CBOW", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Word2Vec CBOW\nPrepare a corpus, see CBOW's training pairs, train, explore.")
    info = gr.Markdown(SESSIONS.served.status)
    demo.load(
        handler(model_info),
        outputs=info,
        api_name="model_info",
        api_visibility="undocumented",  # a no-op for clients and benchmarks, not an MCP tool
    )
    session = SESSIONS.state()
    model_view = model_tab.view(SESSIONS)  # placed in the Model tab; the Train tab shows there too
    with gr.Tab("1. Prepare"):
        corpus = prepare_tab.build()
    with gr.Tab("2. Training pairs"):
        pairs_tab.build()
    with gr.Tab("3. Train"):
        train_tab.build(SESSIONS, session, corpus, model_view)
    with gr.Tab("4. Explore"):
        explore_tab.build(SESSIONS, session, EXPLORED)
    with gr.Tab("5. Model"):
        model_tab.build(SESSIONS, session, model_view)
    with gr.Tab("How it works"):
        how_it_works_tab.build(SESSIONS.budget_mb)
    # the Model tab's memory line counts every visitor's vectors: as they are when a page opens
    demo.load(
        handler(model_tab.model_panel, SESSIONS),
        session,
        list(model_view),
        api_visibility="private",
    )
    for tool in (nearest_words, word_analogy, word_similarity):
        gr.api(handler(tool), api_name=tool.__name__)  # the MCP tools and API endpoints, no UI

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()
    demo.launch(**launch_kwargs())
