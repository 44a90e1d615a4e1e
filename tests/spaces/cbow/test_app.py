"""The CBOW app's own wiring (spaces/cbow/app.py): its model loader (a local folder, the offline
Hub cache, none, a pickle), the page's first view across every tab, the MCP tools, and bad input
to every endpoint answered by name. Helpers the tab tests share live here too.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from conftest import load_app, quick_model
from gradio_client import handle_file

from shared.cbow import course, gcide
from shared.cbow.corpus import BUILTIN_NAME
from shared.cbow.vectors import FULL_MODEL_FILE, VECTORS_FILE, load_model
from tests.cbow.test_corpus import made_up_words
from tests.test_hub import cache_repo

COURSE_PAIRS = [["it, a", "is"], ["is, pleasant", "a"], ["a, day", "pleasant"]]


# a text whose words the default vectors have never seen: training on it must change answers
ZORBLAX = "\n\n".join(
    f"the zorblax {verb} the quibbit near the {place} while the frindle sleeps"
    for verb in ("chases", "follows", "watches", "greets", "feeds")
    for place in ("river", "hill", "tower", "field")
)


def app_with_quick_model(module_name: str):
    """The app, imported with the `--quick` model as its default (a generator for fixtures)."""
    os.environ["CBOW_MODEL"] = str(quick_model("cbow"))
    try:
        yield load_app("cbow", module_name)
    finally:
        os.environ.pop("CBOW_MODEL")


def rows(table: dict) -> list[list]:
    return table["data"]


def on_open(demo: gr.Blocks) -> dict:
    """What each component shows when the page opens, by label and by elem_id (which wins)."""
    shown = [b for b in demo.blocks.values() if isinstance(b, gr.components.Component)]
    return {b.label: b.value for b in shown if b.label} | {
        b.elem_id: b.value for b in shown if b.elem_id
    }


CORPUS = ("my text", True, False, False, 3)  # after source, files, pasted: lowercase ... min_count


SETTINGS = (20, 2, 5, 2)  # vector size, window, negative, epochs


class Payload:
    """Unpickling this creates `marker`: proof that someone unpickled it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    if content == b"SPARSE":
        with open(path, "wb") as f:
            f.truncate(50 * 2**20)  # 50 MB, no time spent writing it
    else:
        path.write_bytes(content)
    return path


def train_call(files=(), pasted=""):
    return ("my text", [handle_file(p) for p in files], pasted, *CORPUS[1:], *SETTINGS)


def hostile_text(folder: Path) -> Path:
    """Issue 14's text: 600,000 made-up words, each twice, 9.6 MB (under the 10 MB cap)."""
    words = made_up_words(600_000)
    lines = [" ".join(words[i : i + 1000]) for i in range(0, len(words), 1000)]
    path = folder / "hostile.txt"
    path.write_text("\n".join(lines * 2))
    return path


HOSTILE_SETTINGS = (True, False, False, 2, 300, 2, 2, 1)  # min_count 2, 300 dimensions


# (id, endpoint, args built from a temp folder, part of the message the user must see)
ROWS = [
    ("no text", "/train", lambda d: train_call(), "There is no text"),
    ("empty file", "/train", lambda d: train_call([write(d, "e.txt", b"")]), "is empty"),
    (
        "not utf-8",
        "/prepare",
        lambda d: (
            "my text",
            [handle_file(write(d, "l.txt", "déjà vu café ".encode("cp1252") * 30))],
            "",
            *CORPUS[1:],
        ),
        "not UTF-8 (byte 1); read it as cp1252",
    ),
    (
        "Notepad's Unicode (UTF-16 with a BOM)",
        "/prepare",
        lambda d: (
            "my text",
            [
                handle_file(
                    write(d, "u.txt", ("déjà vu, the king and the queen " * 30).encode("utf-16"))
                )
            ],
            "",
            *CORPUS[1:],
        ),
        "'u.txt' is UTF-16 text (it starts with a byte-order mark).",
    ),
    (
        "Chinese, no spaces between words",
        "/train",
        lambda d: train_call(
            [write(d, "zh.txt", "我们一起去公园散步，公园里有很多人。\n".encode() * 40)]
        ),
        "In zh.txt, words are not separated by spaces (Chinese, Japanese or Thai text?). The "
        "tokenizer splits words at spaces, digits and punctuation",
    ),
    (
        "binary junk",
        "/train",
        lambda d: train_call([write(d, "j.txt", os.urandom(4096))]),
        "looks like a binary file",
    ),
    ("one word", "/train", lambda d: train_call(pasted="hello"), "training needs at least 50"),
    (
        "600,000 words twice, 9.6 MB",  # issue 14: +1.5 GB of RSS before the vocabulary cap
        "/train",
        lambda d: ("my text", [handle_file(hostile_text(d))], "", *HOSTILE_SETTINGS),
        "The vocabulary cap of 16,666 words raised min_count from 2 to 3, which leaves 0 words",
    ),
    (
        "50 MB file",
        "/train",
        lambda d: train_call([write(d, "big.txt", b"SPARSE")]),
        "exceeds the maximum file size",  # gradio_client checks the server's limit first
    ),
    ("unknown word", "/most_similar", lambda d: ("qwertyuiop", 5), "not in the vocabulary"),
    ("empty query", "/most_similar", lambda d: ("   ", 5), "The word is empty"),
    ("very long query", "/most_similar", lambda d: ("a" * 10_000, 5), "the limit is 50"),
    ("analogy word missing", "/analogy", lambda d: ("police", "", "woman"), "word b is empty"),
    ("analogy word unknown", "/analogy", lambda d: ("police", "zzqx", "woman"), "'zzqx' is not"),
    ("odd one of two", "/odd_one_out", lambda d: ("police officers",), "at least 3 different"),
    ("odd course window", "/pairs", lambda d: ("It is a pleasant day", 3), "even number"),
    ("empty sentence", "/pairs", lambda d: ("", 2), "The sentence is empty"),
    ("unknown map method", "/map", lambda d: ("police", 10, "umap"), "not in the list of choices"),
    ("empty scratch text", "/scratch", lambda d: ("",), "Type at least one sentence"),
]


def answer(client, endpoint, args) -> str:
    """The user-visible text of the answer: the error message, or the output."""
    try:
        return str(client.predict(*args, api_name=endpoint))
    except Exception as err:  # noqa: BLE001 - the error text is what we test
        return f"ERROR {err}"


def test_model_info_names_the_model(client):
    assert "Model loaded from" in client.predict(api_name="/model_info")


def test_app_loader_reads_a_repo_id_from_the_offline_cache(app, monkeypatch):
    repo = "someorg/cbow-app-cached"
    snapshot = cache_repo(repo)  # test_hub's offline cache layout, then our files in it
    shutil.copytree(quick_model("cbow"), snapshot, dirs_exist_ok=True)
    monkeypatch.setenv("CBOW_MODEL", repo)
    loaded, _, status = app.served_model()
    assert repo in status and loaded.folder == snapshot
    assert np.array_equal(loaded.vectors.vectors, load_model(quick_model("cbow")).vectors.vectors)


def test_app_starts_without_a_model_and_says_how_to_get_one(app, monkeypatch, tmp_path):
    monkeypatch.setenv("CBOW_MODEL", str(tmp_path))  # an empty folder
    loaded, _, status = app.served_model()
    assert loaded is None and "python -m training.cbow" in status and VECTORS_FILE in status


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_pickles_in_a_model_folder_never_run(app, tmp_path, monkeypatch, protocol):
    marker = tmp_path / "pwned"
    folder = tmp_path / "model"
    shutil.copytree(quick_model("cbow"), folder)
    payload = pickle.dumps(Payload(marker), protocol=protocol)
    (folder / VECTORS_FILE).write_bytes(payload)  # where the vectors should be
    (folder / FULL_MODEL_FILE).write_bytes(payload)  # gensim's own pickle name, for good measure
    monkeypatch.setenv("CBOW_MODEL", str(folder))
    loaded, _, status = app.served_model()
    assert loaded is None
    assert f"{VECTORS_FILE} is not a word2vec binary file" in status
    assert not marker.exists()


def test_the_first_view_answers_every_tab_from_the_served_vectors(app):
    page = on_open(app.demo)
    # made at import and given as initial values: no page-load event fills the tabs
    loads = [fn.name for fn in app.demo.fns.values() if any(e == "load" for _, e in fn.targets)]
    assert sorted(loads) == ["model_info", "model_panel"]  # the status and the memory line
    prepared, pairs = app.prepare_tab.FIRST, app.pairs_tab.FIRST
    assert prepared.stats.startswith(f"**{BUILTIN_NAME}**: 172,292 documents, 3,185,545 tokens")
    # the three sources with their token counts, and the dictionary's licence
    for source in (
        "gensim Wikipedia sample | 106 | 452,944 | - |",
        "Lee news corpus | 300 | 58,152 | - |",
        f"GCIDE dictionary definitions | 171,886 | 2,674,449 | {gcide.LICENCE} |",
    ):
        assert f"| {source}" in prepared.stats
    assert page["stats"] == prepared.stats
    assert list(prepared.top_words["word"][:3]) == ["the", "of", "to"]
    assert [row[0] for row in page["top"]["data"][:3]] == ["the", "of", "to"]
    assert pairs.course.values.tolist() == page["course-pairs"]["data"] == COURSE_PAIRS
    vectors = app.SESSIONS.served.model.vectors
    shown = app.EXPLORED
    # the quick model's vocabulary has "virus", "man", "woman" and "war" but not "italy"
    expected = [
        [w, round(float(s), 4)]
        for w, s in vectors.most_similar("virus", topn=app.explore_tab.TOP_K)
    ]
    assert shown.word == page["word"] == "virus" and shown.neighbours.values.tolist() == expected
    assert page["neighbours"]["data"] == expected
    assert (shown.pair_a, shown.pair_b) == (page["word 1"], page["word 2"]) == ("man", "woman")
    assert (
        shown.similarity
        == page["similarity"]
        == round(float(vectors.similarity("man", "woman")), 4)
    )
    best = vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=5)
    assert shown.analogies["word"].tolist() == [w for w, _ in best]
    assert [row[0] for row in page["analogies"]["data"]] == [w for w, _ in best]
    odd_words = shown.odd_words.split()
    assert page["words (space separated)"] == shown.odd_words
    assert "italy" not in odd_words and all(w in vectors.key_to_index for w in odd_words)
    odd_table = shown.odd_table
    assert sorted(odd_table["word"]) == sorted(odd_words)
    assert odd_table["similarity to the group"].is_monotonic_increasing  # least alike first
    assert shown.odd_answer == page["odd-answer"] == f"The odd one out: **{odd_table['word'][0]}**"
    assert shown.map_word == page["map around"] == "war" and '"text":["war"' in shown.map_plot.plot
    assert page["map"]["plot"] == shown.map_plot.plot
    scratch = app.how_it_works_tab.FIRST
    assert list(scratch.loss.columns) == ["epoch", "loss"]
    loss = scratch.loss["loss"]
    assert len(loss) == 300 and loss.iloc[-1] < loss.iloc[0] / 10  # it learned the toy pairs
    assert len(page["scratch-loss"]["data"]) == 300
    assert [row[2] for row in scratch.predictions.values.tolist()[:3]] == ["is", "a", "pleasant"]
    assert [row[2] for row in page["predictions"]["data"][:3]] == ["is", "a", "pleasant"]
    # the Model tab shows the served vectors' settings and loss curve
    history = app.SESSIONS.served.metrics["history"]
    assert page["settings"]["vector_size"] == vectors.vector_size
    assert [row[1] for row in page["loss-plot"]["data"]] == pytest.approx(
        [row["loss"] for row in history], rel=1e-9
    )  # the plot sends 10 decimals
    assert page["model-text"].startswith("**Default model**")


def test_without_vectors_the_first_view_answers_every_tab_but_explore(tmp_path, monkeypatch):
    monkeypatch.setenv("CBOW_MODEL", str(tmp_path))  # an empty folder: no vectors to serve
    app = load_app("cbow", "cbow_app_views_no_model")
    page = on_open(app.demo)
    assert app.SESSIONS.served.model is None and page["stats"].startswith(f"**{BUILTIN_NAME}**")
    assert page["course-pairs"]["data"][0] == ["it, a", "is"]
    assert len(page["scratch-loss"]["data"]) == 300
    # the Explore tab's boxes hold the example queries, unanswered; the status line says why
    assert (page["word"], page["map around"]) == ("virus", "war")
    assert page["course-note"] == f"**The course:** {course.COURSE_SENTENCE}"  # no answer
    assert page["neighbours"]["data"] == page["analogies"]["data"] == []
    assert page["similarity"] is None and page["map"] is None and page["odd-answer"] == ""
    assert "Model not trained yet" in page["model-text"] and page["settings"] is None


def test_tools_answer_from_the_served_vectors_in_json(app):
    vectors = app.SESSIONS.served.model.vectors
    near = json.loads(app.nearest_words("King", 3))  # lower-cased as the corpus was
    assert near["neighbours"] == [
        {"word": w, "similarity": round(float(s), 4)}
        for w, s in vectors.most_similar("king", topn=3)
    ]
    answers = json.loads(app.word_analogy("king", "man", "woman", 2))["answers"]
    best = vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=2)
    assert [a["word"] for a in answers] == [w for w, _ in best]
    assert app.word_similarity("man", "woman") == round(
        float(vectors.similarity("man", "woman")), 4
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("endpoint", "make_args", "message"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_bad_input_gets_a_clear_message(client, tmp_path, endpoint, make_args, message):
    text = answer(client, endpoint, make_args(tmp_path))
    assert message in text, text
    if endpoint != "/prepare":  # /prepare reports the fallback encoding as a note
        assert text.startswith("ERROR")
    assert "Traceback" not in text and "Something went wrong" not in text
    assert len(client.predict("police", 3, api_name="/most_similar")["data"]) == 3
