"""The CBOW app over real HTTP, and its model loader (local folder, offline Hub cache)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import Client, handle_file

from shared.cbow.vectors import VECTORS_FILE, load_model
from tests.cbow.test_pairs import SKIPGRAM_COURSE
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


@pytest.fixture(scope="module")
def app():
    yield from app_with_quick_model("cbow_app_http")


@pytest.fixture(scope="module")
def client(app):
    with client_for(app.demo) as c:
        yield c


def rows(table: dict) -> list[list]:
    return table["data"]


def test_model_info_names_the_model(client):
    assert "Model loaded from" in client.predict(api_name="/model_info")


def test_most_similar_over_http(client, app):
    table = client.predict("police", 5, api_name="/most_similar")
    assert table["headers"] == ["word", "similarity"]
    expected = app.SESSIONS.served.model.vectors.most_similar("police", topn=5)
    assert [r[0] for r in rows(table)] == [w for w, _ in expected]


def test_pairs_panel_shows_the_course_pairs_and_gensims(client):
    note, course, per_side, skipgram = client.predict("It is a pleasant day", 2, api_name="/pairs")
    assert rows(course) == COURSE_PAIRS
    assert rows(per_side)[0] == ["is", "it"] and len(rows(per_side)) == 5
    assert "window=1" in note
    # skip-gram reads the course's windows the other way: target -> each context word
    assert [tuple(row) for row in rows(skipgram)] == SKIPGRAM_COURSE
    assert skipgram["headers"] == ["target (input)", "context word (predicted)"]
    assert "skip-gram predicts each context word from the target" in note


@pytest.mark.parametrize(
    ("window", "course", "per_side"),
    [
        (
            4,
            [["it, is, pleasant, day", "a"]],
            [["is, a", "it"], ["it, a, pleasant", "is"], ["it, is, pleasant, day", "a"]],
        ),
        (6, [], [["is, a, pleasant", "it"], ["it, a, pleasant, day", "is"]]),
    ],
)
def test_pairs_panel_at_wider_windows(client, window, course, per_side):
    note, course_table, gensim_table, skipgram = client.predict(
        "It is a pleasant day", window, api_name="/pairs"
    )
    assert rows(course_table) == course
    assert len(rows(skipgram)) == window * len(course)  # one pair per context word
    assert rows(gensim_table)[: len(per_side)] == per_side and len(rows(gensim_table)) == 5
    assert f"window={window // 2}" in note and f"{window // 2} on each side" in note


def test_prepare_shows_statistics(client, tmp_path):
    path = tmp_path / "zorblax.txt"
    path.write_text(ZORBLAX)
    stats, top = client.predict(
        "my text", [handle_file(path)], "", True, False, False, 3, api_name="/prepare"
    )
    assert "20 documents, 240 tokens, 16 distinct words" in stats
    assert rows(top)[0] == ["the", 80]


def test_training_on_an_uploaded_text_serves_that_session_only(client, tmp_path):
    path = tmp_path / "zorblax.txt"
    path.write_text(ZORBLAX)
    trainer = Client(client.src, verbose=False)  # a visitor of their own, with their own session
    status, _settings, *_ = trainer.predict(
        "my text",
        [handle_file(path)],
        "",
        True,
        False,
        False,
        3,
        20,
        2,
        5,
        5,
        api_name="/train",
    )
    assert "Trained on zorblax.txt" in status and "5 epochs" in status
    neighbours = rows(trainer.predict("zorblax", 3, api_name="/most_similar"))
    assert len(neighbours) == 3
    # everyone else still gets the default vectors, which never saw the word
    with pytest.raises(Exception, match="'zorblax' is not in the vocabulary"):
        client.predict("zorblax", 3, api_name="/most_similar")


def test_training_honours_every_setting_the_visitor_chose(client, tmp_path):
    path = tmp_path / "Zorblax.txt"
    path.write_text(ZORBLAX.title())  # "The Zorblax Chases The Quibbit Near The River ..."
    visitor = Client(client.src, verbose=False)
    # lowercase off, stop words removed, no phrases, min_count 2; vector size 30, window 3,
    # negative 4, epochs 7: none of them the app's defaults
    status, text, settings, _plot = visitor.predict(
        "my text", [handle_file(path)], "", False, True, False, 2, 30, 3, 4, 7, api_name="/train"
    )
    assert "Trained on Zorblax.txt" in status and "7 epochs" in status
    assert {k: settings[k] for k in ("vector_size", "window", "negative", "min_count")} == {
        "vector_size": 30,
        "window": 3,
        "negative": 4,
        "min_count": 2,
    }
    assert settings["epochs"] == 7 and settings["lowercase"] is False
    assert settings["max_final_vocab"] == 50_000  # the cap at 30 dimensions is the word cap
    assert "30 dimensions" in text and "Trained in this session" in text
    # case kept: "Zorblax" is a word and "zorblax" is not; "The" went with the stop words
    assert len(rows(visitor.predict("Zorblax", 3, api_name="/most_similar"))) == 3
    for word in ("zorblax", "The"):
        with pytest.raises(Exception, match=f"'{word}' is not in the vocabulary"):
            visitor.predict(word, 3, api_name="/most_similar")


def test_other_explore_endpoints_answer(client):
    assert client.predict("police", "police", api_name="/similarity") == pytest.approx(1.0)
    assert len(rows(client.predict("police", "man", "woman", api_name="/analogy"))) == 5
    answer, table = client.predict("police officers arrested cricket", api_name="/odd_one_out")
    assert "odd one out" in answer and len(rows(table)) == 4
    plot = client.predict("police", 10, "pca", api_name="/map")
    assert "police" in str(plot)


def test_from_scratch_cbow_panel(client):
    _plot, table = client.predict("It is a pleasant day", api_name="/scratch")
    assert [r[:3] for r in rows(table)] == [[c, t, t] for c, t in COURSE_PAIRS]


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
