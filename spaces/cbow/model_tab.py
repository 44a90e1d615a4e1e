"""The CBOW app's Model tab: which vectors answer this session, how good they are, and exports.

`view` makes the tab's outputs before the tab is laid out, because the Train tab (built
first) shows its result there too; `build` then places them.
"""

from __future__ import annotations

import tempfile
import weakref
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.app.launch import TRAIN_CONCURRENCY
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.cbow.evaluate import ANALOGY_VOCAB
from shared.cbow.export import export_vectors, fresh_folder
from shared.cbow.vectors import LoadedVectors

EXPORTS = Path(tempfile.gettempdir()) / "cbow-exports"  # one folder per download, kept 10 min
EXPORT_TTL = 600
HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool


class ModelView(NamedTuple):
    text: str  # Markdown: which vectors, their scores, the memory budget
    settings: dict | None  # the CBOWConfig they were trained with
    loss: pd.DataFrame  # epoch, loss


def score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def loss_frame(history: list[dict]) -> pd.DataFrame:
    """Loss per epoch as rows for `gr.LinePlot` (the browser draws it; hover reads values)."""
    rows = [(row["epoch"], row["loss"]) for row in history if "loss" in row]
    return pd.DataFrame(rows, columns=["epoch", "loss"])


def loss_plot(loss: pd.DataFrame, title: str, elem_id: str, **kwargs) -> gr.LinePlot:
    """A loss curve that the browser draws; hovering shows each epoch's loss."""
    return gr.LinePlot(
        loss, x="epoch", y="loss", title=title, tooltip="all", elem_id=elem_id, **kwargs
    )


def model_panel(sessions: Sessions[LoadedVectors], ticket: Ticket | None) -> ModelView:
    """Settings, metrics and loss curve of the vectors this session uses; the memory budget."""
    own = sessions.own(ticket)
    model = own or sessions.served.model
    notice = [f"⚠️ {sessions.notice(ticket)}"] if sessions.evicted(ticket) else []
    budget = f"Memory: {sessions.usage()}"
    if model is None:
        return ModelView(
            "\n\n".join([*notice, sessions.served.status, budget]), None, loss_frame([])
        )
    m = model.metrics
    which = "Trained in this session" if own else "Default model"
    rows = [
        *notice,
        f"**{which}** on {model.corpus.get('name', '?')}: {len(model.vectors):,} words, "
        f"{model.vectors.vector_size} dimensions.",
        f"WordSim353 Spearman **{score(m.get('wordsim353_spearman'))}** "
        f"({m.get('wordsim353_oov_percent', 100):.1f}% of pairs out of vocabulary); "
        f"Google analogy accuracy **{score(m.get('analogy_accuracy'))}** on "
        f"{m.get('analogy_questions', 0)} questions within the {ANALOGY_VOCAB:,} "
        "most frequent words.",
        *skipgram_comparison(m),
        budget,
    ]
    return ModelView("\n\n".join(rows), asdict(model.config), loss_frame(m.get("history", [])))


def skipgram_comparison(metrics: dict) -> list[str]:
    """CBOW against the skip-gram vectors trained beside it (metrics.json's `skipgram`), as
    Markdown: training time and scores, then the same query words' neighbours side by side."""
    sg = metrics.get("skipgram")
    if not sg:
        return []
    runs = [("CBOW (these vectors)", metrics), ("skip-gram", sg)]
    table = ["| | training | WordSim353 Spearman (OOV) | analogies |", "|---|---|---|---|"] + [
        f"| {name} | {m.get('train_seconds', 0):.0f} s, {m.get('epochs_run', 0)} epochs | "
        f"{score(m.get('wordsim353_spearman'))} ({m.get('wordsim353_oov_percent', 100):.1f}%) "
        f"| {score(m.get('analogy_accuracy'))} |"
        for name, m in runs
    ]
    cbow, other = metrics.get("neighbours", {}), sg.get("neighbours", {})
    words = ["| query | CBOW | skip-gram |", "|---|---|---|"] + [
        f"| {w} | {', '.join(cbow[w])} | {', '.join(other.get(w, []))} |" for w in cbow
    ]
    return [
        "**CBOW and skip-gram**, trained on the same corpus by the default run:",
        "\n".join(table),
        "\n".join(words),
    ]


def export(sessions: Sessions[LoadedVectors], ticket: Ticket | None) -> list[str]:
    """This session's vectors (or the default ones) as word2vec binary and Projector TSVs.

    Written once per set of vectors while the files last: the largest session vectors (16,666
    words x 300 dimensions) make 68 MB of files in 3.7-4.2 s (2 cores, load 8.8), and a visitor
    clicking again must not make another 68 MB each time.
    """
    model = sessions.current(ticket)
    paths = EXPORTED.get(model, [])
    if not paths or not all(Path(p).is_file() for p in paths):
        paths = [str(p) for p in export_vectors(model.vectors, fresh_folder(EXPORTS, EXPORT_TTL))]
        EXPORTED[model] = paths
    return paths


# each set of vectors' export files, forgotten with the vectors; one export runs at a time
EXPORTED: weakref.WeakKeyDictionary[LoadedVectors, list[str]] = weakref.WeakKeyDictionary()


def view(sessions: Sessions[LoadedVectors]) -> ModelView:
    """The tab's outputs, showing the served vectors, made but not yet placed (`build` does)."""
    first = model_panel(sessions, None)
    return ModelView(
        text=gr.Markdown(first.text, elem_id="model-text", render=False),
        settings=gr.JSON(first.settings, label="settings", render=False),
        loss=loss_plot(first.loss, "Training loss per epoch", "loss-plot", render=False),
    )


def build(sessions: Sessions[LoadedVectors], session: gr.State, shown: ModelView) -> None:
    """Place `view`'s outputs, and wire the refresh and the export."""
    for component in shown:
        component.render()
    refresh = gr.Button("Refresh")
    refresh.click(handler(model_panel, sessions), session, list(shown), api_name="model", **HIDDEN)
    gr.Markdown(
        "**Take the vectors with you:** word2vec binary (`KeyedVectors.load_word2vec_format("
        "path, binary=True)`), and `vectors.tsv` + `metadata.tsv` for the "
        "[Embedding Projector](https://projector.tensorflow.org) (Load, then pick both)."
    )
    export_button = gr.Button("Export the vectors", elem_id="export-button")
    files = gr.File(label="downloads", file_count="multiple", elem_id="exports")
    export_button.click(
        handler(export, sessions),
        session,
        files,
        api_name="export",
        concurrency_limit=TRAIN_CONCURRENCY,
        **HIDDEN,
    )
