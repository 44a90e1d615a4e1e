"""The CBOW app's Explore tab: step (d), what the vectors say about words.

Each handler takes the vectors to ask (the session's own or the default ones, chosen by the
app) and returns what the page shows. `build` lays the tab out and wires it to `current`, the
app's function from a session's ticket to its vectors.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr
import pandas as pd
import plotly.express as px

from shared.app.errors import friendly
from shared.app.outputs import plot_data
from shared.cbow import explore
from shared.cbow.explore import MAX_TOPK
from shared.cbow.vectors import LoadedVectors

HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
TOP_K, MAP_K = 10, 25
EXAMPLES = {  # each panel's first query; words the served vocabulary lacks are replaced
    "word": ("king",),
    "pair": ("man", "woman"),
    "analogy": ("king", "man", "woman"),
    "odd": ("france", "germany", "italy", "music"),
    "map": ("war",),
}


def examples_for(model: LoadedVectors) -> dict[str, tuple[str, ...]]:
    """`EXAMPLES`, each kept when all its words are in `model`'s vocabulary, else made of its
    most frequent words of four letters or more (mostly not stop words): any vectors a Space
    serves get a first view that answers."""
    vocab = model.vectors.key_to_index
    frequent = [w for w in model.vectors.index_to_key[:5000] if len(w) >= 4 and w.isalpha()]
    frequent += [w for w in model.vectors.index_to_key if w not in frequent][: 4 - len(frequent)]

    def known(words: tuple[str, ...]) -> bool:
        return all((w.lower() if model.config.lowercase else w) in vocab for w in words)

    return {k: v if known(v) else tuple(frequent[: len(v)]) for k, v in EXAMPLES.items()}


def similar(model: LoadedVectors, word: str, topk: float) -> pd.DataFrame:
    rows = explore.most_similar(model.vectors, word, int(topk), model.config.lowercase)
    return similarity_frame(rows)


def pair_similarity(model: LoadedVectors, a: str, b: str) -> float:
    return round(explore.similarity(model.vectors, a, b, model.config.lowercase), 4)


def analogy(model: LoadedVectors, a: str, b: str, c: str, topk: float = 5) -> pd.DataFrame:
    topk = int(min(max(topk, 1), MAX_TOPK))
    rows = explore.analogy(model.vectors, a, b, c, topk, model.config.lowercase)
    return similarity_frame(rows)


def similarity_frame(rows: list[tuple[str, float]]) -> pd.DataFrame:
    """Words and cosine similarities, to 4 decimals (the table is for reading)."""
    return pd.DataFrame(rows, columns=["word", "similarity"]).round({"similarity": 4})


def odd_one(model: LoadedVectors, words: str) -> tuple[str, pd.DataFrame]:
    odd, scores = explore.odd_one_out(model.vectors, words, model.config.lowercase)
    table = pd.DataFrame(scores, columns=["word", "similarity to the group"]).round(4)
    return f"The odd one out: **{odd}**", table


def word_map(model: LoadedVectors, word: str, topk: float, method: str):
    """A plotly scatter of `word` and its neighbours: the browser draws it (hover, zoom)."""
    points = pd.DataFrame(
        explore.neighbourhood(model.vectors, word, int(topk), method, model.config.lowercase)
    )
    fig = px.scatter(
        points, x="x", y="y", text="word", color="similarity", hover_name="word",
        hover_data={"similarity": ":.3f", "x": False, "y": False, "query": False},
        title=f"{points.word[0]!r} and its {len(points) - 1} nearest words ({method})",
    )  # fmt: skip
    fig.update_traces(textposition="top center")
    return fig


def first_view(model: LoadedVectors) -> tuple:
    """The tab's query boxes and answers before any click, in `build`'s output order."""
    ex = examples_for(model)
    odd = " ".join(ex["odd"])
    return (
        *ex["word"], similar(model, *ex["word"], TOP_K),
        *ex["pair"], pair_similarity(model, *ex["pair"]),
        *ex["analogy"], analogy(model, *ex["analogy"]),
        odd, *odd_one(model, odd),
        *ex["map"], plot_data(word_map(model, *ex["map"], MAP_K, "pca")),
    )  # fmt: skip


def build(current: Callable[[object], LoadedVectors], session: gr.State) -> list:
    """Lay the tab out; return the components `first_view` fills, in its order."""

    def ask(handler: Callable) -> Callable:
        """`handler(model, *inputs)` as an event handler of `(*inputs, session)`."""

        def handle(*args):
            return handler(current(args[-1]), *args[:-1])

        handle.__name__ = handler.__name__
        return friendly(handle)

    with gr.Row():
        word = gr.Textbox(EXAMPLES["word"][0], label="word", elem_id="word")
        topk = gr.Slider(1, MAX_TOPK, TOP_K, step=1, label="top k")
    similar_button = gr.Button("Most similar", variant="primary", elem_id="similar-button")
    neighbours = gr.Dataframe(label="nearest words", interactive=False, elem_id="neighbours")
    similar_button.click(ask(similar), [word, topk, session], neighbours,
                         api_name="most_similar", **HIDDEN)  # fmt: skip
    # "day" is from the course's sentence; the others show topical and named neighbours
    gr.Examples([["day"], ["king"], ["music"], ["einstein"], ["france"]], [word])
    with gr.Row():
        word_a = gr.Textbox(EXAMPLES["pair"][0], label="word 1")
        word_b = gr.Textbox(EXAMPLES["pair"][1], label="word 2")
        sim_value = gr.Number(label="cosine similarity", elem_id="similarity")
    gr.Button("Similarity").click(ask(pair_similarity), [word_a, word_b, session], sim_value,
                                  api_name="similarity", **HIDDEN)  # fmt: skip
    with gr.Row():
        an_a = gr.Textbox(EXAMPLES["analogy"][0], label="a")
        an_b = gr.Textbox(EXAMPLES["analogy"][1], label="minus b")
        an_c = gr.Textbox(EXAMPLES["analogy"][2], label="plus c")
    analogies = gr.Dataframe(label="a - b + c", interactive=False, elem_id="analogies")
    gr.Button("Analogy").click(ask(analogy), [an_a, an_b, an_c, session], analogies,
                               api_name="analogy", **HIDDEN)  # fmt: skip
    odd_words = gr.Textbox(" ".join(EXAMPLES["odd"]), label="words (space separated)")
    odd_answer = gr.Markdown(elem_id="odd-answer")
    odd_table = gr.Dataframe(interactive=False, elem_id="odd-table")
    gr.Button("Odd one out").click(ask(odd_one), [odd_words, session], [odd_answer, odd_table],
                                   api_name="odd_one_out", **HIDDEN)  # fmt: skip
    with gr.Row():
        map_word = gr.Textbox(EXAMPLES["map"][0], label="map around")
        map_k = gr.Slider(5, MAX_TOPK, MAP_K, step=1, label="neighbours")
        map_method = gr.Radio([("PCA", "pca"), ("t-SNE", "tsne")], value="pca", label="projection")
    map_plot = gr.Plot(label="2-D map (hover for words; drag to zoom)", elem_id="map")
    gr.Button("Map").click(ask(word_map), [map_word, map_k, map_method, session], map_plot,
                           api_name="map", **HIDDEN)  # fmt: skip
    return [word, neighbours, word_a, word_b, sim_value, an_a, an_b, an_c, analogies,
            odd_words, odd_answer, odd_table, map_word, map_plot]  # fmt: skip
