"""The CBOW app's first view, exports, push to the Hub and loss curves: answers checked."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from conftest import client_for, load_app
from gensim.models import KeyedVectors
from huggingface_hub import ModelCard

from shared.app.store import Ticket
from shared.cbow.export import export_vectors, fresh_folder
from shared.cbow.vectors import VECTORS_FILE, CBOWConfig, LoadedVectors, load_model
from tests.app.test_hub_push import ALICE, TOKEN
from tests.spaces.cbow.test_app import ZORBLAX, app_with_quick_model


@pytest.fixture(scope="module")
def app():
    yield from app_with_quick_model("cbow_app_views")


@pytest.fixture(scope="module")
def trained(app):
    """A session that trained on the ZORBLAX text: its ticket, and the vectors it got."""
    status, ticket, *_ = app.train_vectors(
        "my text", None, ZORBLAX, True, False, False, 2, 20, 2, 5, 4,
        progress=lambda *args, **kwargs: None,
    )  # fmt: skip
    assert "Trained on pasted text" in status
    return ticket, app.STORE.get(ticket)


def hand_vectors(words: list[str], lowercase: bool = True) -> LoadedVectors:
    vectors = KeyedVectors(vector_size=3)
    rng = np.random.default_rng(0)
    vectors.add_vectors(words, rng.normal(size=(len(words), 3)).astype(np.float32))
    return LoadedVectors(vectors, CBOWConfig(vector_size=3, lowercase=lowercase), {}, {})


def test_the_first_view_answers_every_tab_from_the_served_vectors(app):
    first = app.first_view()
    (event,) = [fn for fn in app.demo.fns.values() if fn.name == "first_view"]
    assert len(first) == len(event.outputs)  # one value per output, or Gradio refuses the page
    shown = dict(zip([o.elem_id or o.label for o in event.outputs], first, strict=True))
    assert shown["stats"].startswith("**gensim Wikipedia sample + Lee news corpus**")
    assert list(shown["top"]["word"][:3]) == ["the", "of", "and"]
    assert shown["course-pairs"].values.tolist() == [
        ["it, a", "is"], ["is, pleasant", "a"], ["a, day", "pleasant"],
    ]  # fmt: skip
    vectors = app.DEFAULT.vectors
    # the quick model's vocabulary has "king", "man", "woman" and "war" but not "italy"
    assert shown["word"] == "king" and shown["neighbours"].values.tolist() == [
        [w, round(float(s), 4)] for w, s in vectors.most_similar("king", topn=app.explore_tab.TOP_K)
    ]
    assert (shown["word 1"], shown["word 2"]) == ("man", "woman")
    assert shown["similarity"] == round(float(vectors.similarity("man", "woman")), 4)
    expected = vectors.most_similar(positive=["king", "woman"], negative=["man"], topn=5)
    assert shown["analogies"]["word"].tolist() == [w for w, _ in expected]
    odd_words = shown["words (space separated)"].split()
    assert "italy" not in odd_words and all(w in vectors.key_to_index for w in odd_words)
    odd_table = shown["odd-table"]
    assert sorted(odd_table["word"]) == sorted(odd_words)
    assert odd_table["similarity to the group"].is_monotonic_increasing  # least alike first
    assert shown["odd-answer"] == f"The odd one out: **{odd_table['word'][0]}**"
    assert shown["map around"] == "war" and '"text":["war"' in shown["map"].plot
    assert list(shown["scratch-loss"].columns) == ["epoch", "loss"]
    loss = shown["scratch-loss"]["loss"]
    assert len(loss) == 300 and loss.iloc[-1] < loss.iloc[0] / 10  # it learned the toy pairs
    assert [row[2] for row in shown["predictions"].values.tolist()[:3]] == ["is", "a", "pleasant"]
    assert app.first_view() is first  # made once, then served to every visitor


def test_examples_are_kept_where_the_vocabulary_has_them_and_replaced_where_not(app):
    every = [w for words in app.explore_tab.EXAMPLES.values() for w in words]
    kept = app.explore_tab.examples_for(hand_vectors([*every, "other"]))
    assert kept == app.explore_tab.EXAMPLES
    # a vocabulary of other words: frequent words of 4+ letters, most frequent first
    model = hand_vectors(["the", "of", "river", "a", "mountain", "3d", "valley", "lake", "sea"])
    ex = app.explore_tab.examples_for(model)
    assert ex["word"] == ("river",) and ex["pair"] == ("river", "mountain")
    assert ex["odd"] == ("river", "mountain", "valley", "lake") and ex["map"] == ("river",)
    # case kept: "King" is not "king"
    cased = app.explore_tab.examples_for(
        hand_vectors(["King", "Queen", "Man", "Woman", "War"], False)
    )
    # ("Man" has three letters: it only fills the fourth place of the odd-one-out example)
    assert cased["word"] == ("King",) and cased["odd"] == ("King", "Queen", "Woman", "Man")


def test_a_tiny_vocabulary_still_gets_every_example_filled(app):
    ex = app.explore_tab.examples_for(hand_vectors(["a", "b", "c", "of", "to"]))
    assert ex["odd"] == ("a", "b", "c", "of") and ex["analogy"] == ("a", "b", "c")


def test_export_writes_binary_and_projector_files_that_hold_the_same_vectors(tmp_path):
    model = hand_vectors(["zebra", "apple", "new_york"])
    binary, table, words = export_vectors(model.vectors, tmp_path / "out")
    assert (binary.name, table.name, words.name) == (VECTORS_FILE, "vectors.tsv", "metadata.tsv")
    back = KeyedVectors.load_word2vec_format(str(binary), binary=True)
    assert back.index_to_key == ["zebra", "apple", "new_york"]
    np.testing.assert_array_equal(back.vectors, model.vectors.vectors)  # exact
    assert words.read_text() == "zebra\napple\nnew_york\n"  # one word a line, no header
    lines = table.read_text().splitlines()
    assert [len(line.split("\t")) for line in lines] == [3, 3, 3]
    np.testing.assert_allclose(np.loadtxt(table, delimiter="\t"), model.vectors.vectors, rtol=1e-6)


def test_the_app_exports_the_sessions_vectors_and_the_default_ones_otherwise(app, trained):
    ticket, session = trained
    mine = KeyedVectors.load_word2vec_format(app.export(ticket)[0], binary=True)
    assert "zorblax" in mine.key_to_index
    np.testing.assert_array_equal(mine.vectors, session.vectors.vectors)
    default = app.export(None)
    assert len(Path(default[2]).read_text().splitlines()) == len(app.DEFAULT.vectors)


def test_each_set_of_vectors_is_exported_once_while_its_files_last(app, trained):
    ticket, _ = trained
    mine, default = app.export(ticket), app.export(None)
    assert app.export(ticket) == mine and app.export(None) == default
    assert Path(mine[0]).parent != Path(default[0]).parent
    Path(mine[1]).unlink()  # swept: written again, elsewhere
    again = app.export(ticket)
    assert again != mine and all(Path(p).is_file() for p in again)


def test_old_export_folders_are_swept(tmp_path):
    old = fresh_folder(tmp_path, ttl_seconds=600)
    (old / "vectors.tsv").write_text("1\t2\n")
    new = fresh_folder(tmp_path, ttl_seconds=600)
    assert old.is_dir() and new != old  # young: kept
    fresh_folder(tmp_path, ttl_seconds=-1)  # everything is past a negative TTL
    assert not old.exists() and not new.exists()


def test_the_model_tab_plots_the_loss_history_the_model_carries(app, trained):
    ticket, session = trained
    _text, settings, loss = app.model_panel(ticket)
    history = session.metrics["history"]
    assert loss["epoch"].tolist() == [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert loss["loss"].tolist() == [row["loss"] for row in history]
    assert settings["epochs"] == 4
    _text, _settings, default_loss = app.model_panel(None)
    assert len(default_loss) == len(app.DEFAULT.metrics["history"])


def test_pushing_needs_sign_in_and_a_trained_model(app, trained, fake_hub):
    ticket, _ = trained
    with pytest.raises(gr.Error, match="Sign in with Hugging Face first"):
        app.push(ticket, "my-vectors", None, None)
    with pytest.raises(gr.Error, match="Train a model first"):
        app.push(None, "my-vectors", ALICE, TOKEN)
    assert fake_hub["log"] == []


def test_the_signed_in_visitor_pushes_the_clis_folder_which_loads_as_the_app_default(
    app, trained, fake_hub, tmp_path, monkeypatch
):
    ticket, session = trained
    text = app.push(ticket, "my-vectors", ALICE, TOKEN)
    assert text == "Pushed to [alice/my-vectors](https://huggingface.co/alice/my-vectors)."
    create, upload = fake_hub["create"], fake_hub["upload"]
    assert (create["repo_id"], create["repo_type"], create["token"]) == (
        "alice/my-vectors", "model", TOKEN.token,
    )  # fmt: skip
    assert (upload["repo_id"], upload["token"]) == ("alice/my-vectors", TOKEN.token)
    (_, _, files) = fake_hub["log"][-1]
    assert set(files) == {"config.json", VECTORS_FILE, "metrics.json", "README.md"}
    folder = tmp_path / "pulled"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "gensim" and "trained in the CBOW app's Train tab" in card.text
    pulled = load_model(folder)
    np.testing.assert_array_equal(pulled.vectors.vectors, session.vectors.vectors)
    assert dataclasses.asdict(pulled.config) == dataclasses.asdict(session.config)
    assert pulled.metrics["history"] == session.metrics["history"]
    # and a fresh app started on that repo serves exactly those vectors
    monkeypatch.setenv("CBOW_MODEL", str(folder))
    served = load_app("cbow", "cbow_app_pulled")
    near = json.loads(served.nearest_words("zorblax", 3))["neighbours"]
    assert [n["word"] for n in near] == [
        w for w, _ in session.vectors.most_similar("zorblax", topn=3)
    ]


def test_vectors_evicted_from_the_memory_budget_are_named_not_pushed(app, fake_hub):
    gone = Ticket("no-longer-in-the-store", "vectors trained on notes.txt at 10:00:00 UTC", 1)
    with pytest.raises(gr.Error, match="Your vectors trained on notes.txt at 10:00:00 UTC were"):
        app.push(gone, "my-vectors", ALICE, TOKEN)
    assert fake_hub["log"] == []


def test_the_push_button_over_http_explains_itself(app):
    with client_for(app.demo) as client, pytest.raises(Exception, match="Sign in with Hugging"):
        client.predict("my-vectors", api_name="/push")


def test_tools_answer_from_the_served_vectors_in_json(app):
    vectors = app.DEFAULT.vectors
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


def test_without_vectors_the_first_view_answers_every_tab_but_explore(tmp_path, monkeypatch):
    monkeypatch.setenv("CBOW_MODEL", str(tmp_path))  # an empty folder: no vectors to serve
    app = load_app("cbow", "cbow_app_views_no_model")
    first = app.first_view()
    (event,) = [fn for fn in app.demo.fns.values() if fn.name == "first_view"]
    shown = dict(zip([o.elem_id or o.label for o in event.outputs], first, strict=True))
    assert app.DEFAULT is None and shown["stats"].startswith("**gensim Wikipedia sample")
    assert shown["course-pairs"].values.tolist()[0] == ["it, a", "is"]
    assert len(shown["scratch-loss"]) == 300
    explore = [o.elem_id or o.label for o in app.explore_outputs]
    assert all(isinstance(shown[k], type(gr.skip())) for k in explore)  # boxes left as they are
