"""The CBOW app's first view, exports, push to the Hub and loss curves: answers checked."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from conftest import client_for, load_app
from gensim.models import KeyedVectors
from huggingface_hub import ModelCard

from shared.app.outputs import handler
from shared.app.store import Ticket
from shared.cbow import course, explore, gcide
from shared.cbow.corpus import BUILTIN_NAME
from shared.cbow.export import export_vectors, fresh_folder
from shared.cbow.vectors import VECTORS_FILE, CBOWConfig, LoadedVectors, load_model
from tests.app.test_hub_push import ALICE, TOKEN
from tests.spaces.cbow.test_app import COURSE_PAIRS, ZORBLAX, app_with_quick_model


@pytest.fixture(scope="module")
def app():
    yield from app_with_quick_model("cbow_app_views")


@pytest.fixture(scope="module")
def trained(app):
    """A session that trained on the ZORBLAX text: its ticket, and the vectors it got."""
    status, ticket, *_ = app.train_tab.train_vectors(
        app.SESSIONS, "my text", None, ZORBLAX, True, False, False, 2, 20, 2, 5, 4,
        progress=lambda *args, **kwargs: None,
    )  # fmt: skip
    assert "Trained on pasted text" in status
    return ticket, app.SESSIONS.store.get(ticket)


def hand_vectors(words: list[str], lowercase: bool = True) -> LoadedVectors:
    vectors = KeyedVectors(vector_size=3)
    rng = np.random.default_rng(0)
    vectors.add_vectors(words, rng.normal(size=(len(words), 3)).astype(np.float32))
    return LoadedVectors(vectors, CBOWConfig(vector_size=3, lowercase=lowercase), {}, {})


def on_open(demo: gr.Blocks) -> dict:
    """What each component shows when the page opens, by label and by elem_id (which wins)."""
    shown = [b for b in demo.blocks.values() if isinstance(b, gr.components.Component)]
    return {b.label: b.value for b in shown if b.label} | {
        b.elem_id: b.value for b in shown if b.elem_id
    }


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
    export = functools.partial(app.model_tab.export, app.SESSIONS)
    mine = KeyedVectors.load_word2vec_format(export(ticket)[0], binary=True)
    assert "zorblax" in mine.key_to_index
    np.testing.assert_array_equal(mine.vectors, session.vectors.vectors)
    default = export(None)
    assert len(Path(default[2]).read_text().splitlines()) == len(app.SESSIONS.served.model.vectors)


def test_each_set_of_vectors_is_exported_once_while_its_files_last(app, trained):
    ticket, _ = trained
    export = functools.partial(app.model_tab.export, app.SESSIONS)
    mine, default = export(ticket), export(None)
    assert export(ticket) == mine and export(None) == default
    assert Path(mine[0]).parent != Path(default[0]).parent
    Path(mine[1]).unlink()  # swept: written again, elsewhere
    again = export(ticket)
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
    _text, settings, loss = app.model_tab.model_panel(app.SESSIONS, ticket)
    history = session.metrics["history"]
    assert loss["epoch"].tolist() == [row["epoch"] for row in history] == [1, 2, 3, 4]
    assert loss["loss"].tolist() == [row["loss"] for row in history]
    assert settings["epochs"] == 4
    _text, _settings, default_loss = app.model_tab.model_panel(app.SESSIONS, None)
    assert len(default_loss) == len(app.SESSIONS.served.metrics["history"])


def test_pushing_needs_sign_in_and_a_trained_model(app, trained, fake_hub):
    ticket, _ = trained
    push = handler(app.train_tab.push, app.SESSIONS)  # as the page calls it
    with pytest.raises(gr.Error, match="Sign in with Hugging Face first"):
        push(ticket, "my-vectors", None, None)
    with pytest.raises(gr.Error, match="Train a model first"):
        push(None, "my-vectors", ALICE, TOKEN)
    assert fake_hub["log"] == []


def test_the_signed_in_visitor_pushes_the_clis_folder_which_loads_as_the_app_default(
    app, trained, fake_hub, tmp_path, monkeypatch
):
    ticket, session = trained
    text = app.train_tab.push(app.SESSIONS, ticket, "my-vectors", ALICE, TOKEN)
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
    push = handler(app.train_tab.push, app.SESSIONS)
    with pytest.raises(gr.Error, match="Your vectors trained on notes.txt at 10:00:00 UTC were"):
        push(gone, "my-vectors", ALICE, TOKEN)
    assert fake_hub["log"] == []


def test_an_evicted_session_is_warned_once_and_the_model_tab_names_what_answers(app, monkeypatch):
    warned = []
    monkeypatch.setattr(gr, "Warning", warned.append)
    gone = Ticket("no-longer-in-the-store", "vectors trained on notes.txt at 10:00:00 UTC", 1)
    text, settings, loss = app.model_tab.model_panel(app.SESSIONS, gone)
    assert text.startswith("⚠️ Your vectors trained on notes.txt at 10:00:00 UTC were removed")
    assert len(warned) == 1 and warned[0] in text  # the one notice, also as a warning
    served = app.SESSIONS.served.model
    assert "**Default model**" in text and settings == dataclasses.asdict(served.config)
    assert len(loss) == len(served.metrics["history"])


def test_the_push_button_over_http_explains_itself(app):
    with client_for(app.demo) as client, pytest.raises(Exception, match="Sign in with Hugging"):
        client.predict("my-vectors", api_name="/push")


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


def test_explore_opens_on_virus_with_the_courses_sentence_beside_our_answer(app):
    vectors = app.SESSIONS.served.model.vectors  # the quick model: Lee's news knows "virus"
    page = on_open(app.demo)
    note = app.EXPLORED.course_note
    assert page["course-note"] == note and page["word"] == course.QUERY == "virus"
    assert note.startswith(f"**The course:** {course.COURSE_SENTENCE}\n\n**Ours:** 'virus'")
    nearest = ", ".join(w for w, _ in vectors.most_similar("virus", topn=5))
    assert f"'virus' is nearest to {nearest};" in note
    ranks = explore.neighbour_ranks(vectors, "virus", course.COURSE_NEIGHBOURS)
    for word in course.COURSE_NEIGHBOURS:  # each ranked among virus's neighbours, or missing
        rank = f"is its neighbour number {ranks[word]:,}" if word in ranks else None
        assert (f"{word!r} {rank}" if rank else f"no {word!r}") in note
    examples = [b for b in app.demo.blocks.values() if isinstance(b, gr.Dataset)]
    assert [["virus"], ["king"], ["war"], ["music"], ["france"]] in [e.samples for e in examples]


def test_the_model_tab_compares_cbow_with_skipgram_from_metrics(app):
    served = app.SESSIONS.served
    metrics, sg = served.metrics, served.metrics["skipgram"]
    text = on_open(app.demo)["model-text"]
    assert "**CBOW and skip-gram**, trained on the same corpus by the default run:" in text
    for name, m in [("CBOW (these vectors)", metrics), ("skip-gram", sg)]:
        assert (
            f"| {name} | {m['train_seconds']:.0f} s, {m['epochs_run']} epochs | "
            f"{m['wordsim353_spearman']:.3f} ({m['wordsim353_oov_percent']:.1f}%) "
            f"| {m['analogy_accuracy']:.3f} |"
        ) in text
    assert sg["epochs_run"] == 3 and metrics["epochs_run"] == 10  # --quick's settings
    assert set(sg["neighbours"]) == set(metrics["neighbours"]) >= {"virus", "king", "war"}
    for word, cbow in metrics["neighbours"].items():
        assert f"| {word} | {', '.join(cbow)} | {', '.join(sg['neighbours'][word])} |" in text
    # vectors trained in a session have no skip-gram beside them: no comparison
    assert app.model_tab.skipgram_comparison({"wordsim353_spearman": 0.5}) == []


def test_the_training_pairs_tab_shows_skipgram_pairs_beside_cbows(app):
    from tests.cbow.test_pairs import SKIPGRAM_COURSE

    page = on_open(app.demo)
    assert [tuple(r) for r in app.pairs_tab.FIRST.skipgram.values.tolist()] == SKIPGRAM_COURSE
    assert [tuple(r) for r in page["skipgram-pairs"]["data"]] == SKIPGRAM_COURSE
    assert page["pairs-text"] == course.SENTENCE
