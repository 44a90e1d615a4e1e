"""The Model tab (spaces/cbow/model_tab.py): exports of the session's or the default vectors,
the loss history, CBOW beside skip-gram, and the one notice for evicted vectors.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import gradio as gr
import numpy as np
from gensim.models import KeyedVectors

from shared.app.store import Ticket
from shared.cbow.export import export_vectors, fresh_folder
from shared.cbow.vectors import VECTORS_FILE, CBOWConfig, LoadedVectors
from tests.spaces.cbow.test_app import on_open


def hand_vectors(words: list[str], lowercase: bool = True) -> LoadedVectors:
    vectors = KeyedVectors(vector_size=3)
    rng = np.random.default_rng(0)
    vectors.add_vectors(words, rng.normal(size=(len(words), 3)).astype(np.float32))
    return LoadedVectors(vectors, CBOWConfig(vector_size=3, lowercase=lowercase), {}, {})


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
