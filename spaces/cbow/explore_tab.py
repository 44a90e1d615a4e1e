"""The CBOW app's Explore tab, step (d): what the vectors say about words.

Each handler takes the vectors to ask (the session's own or the served ones) and returns what
the page shows; the app's MCP tools call the same handlers with the served vectors. `build`
lays the tab out with `first_view`'s queries already answered, and asks `Sessions` which
vectors answer each click.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import gradio as gr
import pandas as pd
import plotly.express as px
from gradio.components.plot import PlotData

from shared.app.outputs import handler, plot_data
from shared.app.sessions import Sessions
from shared.cbow import course, explore
from shared.cbow.explore import MAX_TOPK
from shared.cbow.vectors import LoadedVectors

HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
TOP_K, MAP_K = 10, 25
EXAMPLES = course.EXAMPLES  # each panel's first query; words the vocabulary lacks are replaced


class OddOne(NamedTuple):
    answer: str  # Markdown: the odd one out
    table: pd.DataFrame  # each word's similarity to the group, least alike first


class Explored(NamedTuple):
    """The tab on open: every query box, and the answers (none without vectors)."""

    word: str
    pair_a: str
    pair_b: str
    analogy_a: str
    analogy_b: str
    analogy_c: str
    odd_words: str
    map_word: str
    neighbours: pd.DataFrame | None = None
    similarity: float | None = None
    analogies: pd.DataFrame | None = None
    odd_answer: str = ""
    odd_table: pd.DataFrame | None = None
    map_plot: PlotData | None = None
    course_note: str = ""  # the course's "virus" beside what these vectors answer


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


def odd_one(model: LoadedVectors, words: str) -> OddOne:
    odd, scores = explore.odd_one_out(model.vectors, words, model.config.lowercase)
    table = pd.DataFrame(scores, columns=["word", "similarity to the group"]).round(4)
    return OddOne(f"The odd one out: **{odd}**", table)


def word_map(model: LoadedVectors, word: str, topk: float, method: str):
    """A plotly scatter of `word` and its neighbours: the browser draws it (hover, zoom)."""
    points = pd.DataFrame(
        explore.neighbourhood(model.vectors, word, int(topk), method, model.config.lowercase)
    )
    fig = px.scatter(
        points,
        x="x",
        y="y",
        text="word",
        color="similarity",
        hover_name="word",
        hover_data={"similarity": ":.3f", "x": False, "y": False, "query": False},
        title=f"{points.word[0]!r} and its {len(points) - 1} nearest words ({method})",
    )
    fig.update_traces(textposition="top center")
    return fig


def course_note(model: LoadedVectors | None) -> str:
    """The course's sentence about "virus", and where these vectors put its two neighbours."""
    said = f"**The course:** {course.COURSE_SENTENCE}"
    if model is None:
        return said
    vectors, query = model.vectors, course.QUERY
    ours = f"{query!r} is not in this vocabulary."
    if query in vectors.key_to_index:
        nearest = ", ".join(w for w, _ in explore.most_similar(vectors, query, 5))
        ranks = explore.neighbour_ranks(vectors, query, course.COURSE_NEIGHBOURS)
        where = [
            f"{w!r} is its neighbour number {ranks[w]:,}" if w in ranks else f"no {w!r}"
            for w in course.COURSE_NEIGHBOURS
        ]
        ours = f"{query!r} is nearest to {nearest}; {'; '.join(where)}."
    return f"{said}\n\n**Ours:** {ours}"


def first_view(model: LoadedVectors | None) -> Explored:
    """The tab before any click: example queries the vocabulary has, and their answers.

    Without vectors the queries stay unanswered (the page's status line says why).
    """
    ex = explore.examples(model.vectors, EXAMPLES, model.config.lowercase) if model else EXAMPLES
    q = Explored(*ex["word"], *ex["pair"], *ex["analogy"], " ".join(ex["odd"]), *ex["map"])
    q = q._replace(course_note=course_note(model))
    if model is None:
        return q
    odd = odd_one(model, q.odd_words)
    return q._replace(
        neighbours=similar(model, q.word, TOP_K),
        similarity=pair_similarity(model, q.pair_a, q.pair_b),
        analogies=analogy(model, q.analogy_a, q.analogy_b, q.analogy_c),
        odd_answer=odd.answer,
        odd_table=odd.table,
        map_plot=plot_data(word_map(model, q.map_word, MAP_K, "pca")),
    )


def build(sessions: Sessions[LoadedVectors], session: gr.State, first: Explored) -> None:
    """Lay the tab out showing `first`; each button asks the session's vectors."""

    def ask(question: Callable) -> Callable:
        """`question(vectors, *inputs)` as the handler of an event of `(*inputs, ticket)`."""

        def answer(*args):
            *inputs, ticket = args
            return question(sessions.current(ticket), *inputs)

        answer.__name__ = question.__name__
        return handler(answer)

    with gr.Row():
        word = gr.Textbox(first.word, label="word", elem_id="word")
        topk = gr.Slider(1, MAX_TOPK, TOP_K, step=1, label="top k")
    similar_button = gr.Button("Most similar", variant="primary", elem_id="similar-button")
    with gr.Row():
        neighbours = gr.Dataframe(
            first.neighbours, label="nearest words", interactive=False, elem_id="neighbours"
        )
        gr.Markdown(first.course_note, elem_id="course-note")
    # "virus" is the course's example; the others show topical and named neighbours
    gr.Examples([[w] for w in course.WORDS], [word])
    with gr.Row():
        pair_a = gr.Textbox(first.pair_a, label="word 1")
        pair_b = gr.Textbox(first.pair_b, label="word 2")
        similarity = gr.Number(first.similarity, label="cosine similarity", elem_id="similarity")
    similarity_button = gr.Button("Similarity")
    with gr.Row():
        an_a = gr.Textbox(first.analogy_a, label="a")
        an_b = gr.Textbox(first.analogy_b, label="minus b")
        an_c = gr.Textbox(first.analogy_c, label="plus c")
    analogies = gr.Dataframe(
        first.analogies, label="a - b + c", interactive=False, elem_id="analogies"
    )
    analogy_button = gr.Button("Analogy")
    odd_words = gr.Textbox(first.odd_words, label="words (space separated)")
    odd = OddOne(
        answer=gr.Markdown(first.odd_answer, elem_id="odd-answer"),
        table=gr.Dataframe(first.odd_table, interactive=False, elem_id="odd-table"),
    )
    odd_button = gr.Button("Odd one out")
    with gr.Row():
        map_word = gr.Textbox(first.map_word, label="map around")
        map_k = gr.Slider(5, MAX_TOPK, MAP_K, step=1, label="neighbours")
        map_method = gr.Radio([("PCA", "pca"), ("t-SNE", "tsne")], value="pca", label="projection")
    map_plot = gr.Plot(
        first.map_plot, label="2-D map (hover for words; drag to zoom)", elem_id="map"
    )
    map_button = gr.Button("Map")

    for button, question, inputs, outputs, api_name in [
        (similar_button, similar, [word, topk], neighbours, "most_similar"),
        (similarity_button, pair_similarity, [pair_a, pair_b], similarity, "similarity"),
        (analogy_button, analogy, [an_a, an_b, an_c], analogies, "analogy"),
        (odd_button, odd_one, [odd_words], list(odd), "odd_one_out"),
        (map_button, word_map, [map_word, map_k, map_method], map_plot, "map"),
    ]:
        button.click(ask(question), [*inputs, session], outputs, api_name=api_name, **HIDDEN)
