"""The Train tab (spaces/cbow/train_tab.py): a visitor's vectors serve their session only and
keep every setting chosen; pushing them to the Hub; and what a visitor can make the app hold in
memory: the vocabulary caps and the session budget.

Numbers for the budget test (2 cores, measured with this file's own `rss_peak`): see
`test_session_vectors_stay_within_the_budget_however_many_visitors_train`.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr
import numpy as np
import psutil
import pytest
from conftest import client_for, load_app
from gradio_client import Client, handle_file
from huggingface_hub import ModelCard

from shared.app.outputs import handler
from shared.app.store import MB, Ticket
from shared.cbow.corpus import MAX_CORPUS_MB, MAX_VOCABULARY
from shared.cbow.vectors import MAX_VECTOR_CELLS, VECTORS_FILE, WORD_BYTES, load_model
from tests.app.test_hub_push import ALICE, TOKEN
from tests.cbow.test_corpus import made_up_words
from tests.spaces.cbow.test_app import (
    HOSTILE_SETTINGS,
    ZORBLAX,
    app_with_quick_model,
    hostile_text,
    rows,
)


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


def test_the_push_button_over_http_explains_itself(app):
    with client_for(app.demo) as client, pytest.raises(Exception, match="Sign in with Hugging"):
        client.predict("my-vectors", api_name="/push")


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


@contextmanager
def rss_peak() -> Iterator[dict]:
    """The process's highest RSS while the block runs, sampled every 5 ms, as peak - start."""
    seen = {"start": rss(), "peak": 0}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen["peak"] = max(seen["peak"], psutil.Process().memory_info().rss - seen["start"])
            time.sleep(0.005)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


# the largest session vectors the caps allow: MAX_VOCABULARY words at 100 dimensions
LARGEST = (MAX_VOCABULARY, MAX_VECTOR_CELLS // MAX_VOCABULARY)


BUDGET_MODELS = 2.5  # the test's budget holds two of the largest vectors, not three


# One training of the largest vectors peaks at +48 MB alone; glibc's free lists and the five
# visitors' clients, which run in this process, hold the rest: up to +70 MB over the budget here.
MARGIN = 150 * MB


HOSTILE_PEAK = 300 * MB  # measured +125 MB with the caps; +1.5 GB before them (issue 14)


@pytest.fixture(scope="module")
def budget_app():
    words = LARGEST[0] * (LARGEST[1] * 4 + WORD_BYTES)
    os.environ["CBOW_SESSION_BUDGET_MB"] = str(BUDGET_MODELS * words / MB)
    try:
        yield from app_with_quick_model("cbow_app_memory")
    finally:
        os.environ.pop("CBOW_SESSION_BUDGET_MB")


@pytest.fixture(scope="module")
def budget_client(budget_app):
    with client_for(budget_app.demo) as c:
        yield c


@pytest.fixture(scope="module")
def largest_text(tmp_path_factory):
    """MAX_VOCABULARY words three times and 10,000 more twice: at min_count 2, the cap keeps
    exactly the first MAX_VOCABULARY and drops the 10,000 (1.4 MB of text)."""
    words = made_up_words(MAX_VOCABULARY + 10_000)
    kept, dropped = words[:MAX_VOCABULARY], words[MAX_VOCABULARY:]
    path = tmp_path_factory.mktemp("largest") / "largest.txt"
    lines = [" ".join(kept[i : i + 20]) for i in range(0, len(kept), 20)] * 3
    lines += [" ".join(dropped[i : i + 20]) for i in range(0, len(dropped), 20)] * 2
    path.write_text("\n".join(lines))
    return path


# after source, files, pasted: lowercase, stop words, phrases, min_count; vector size, window,
# negative, epochs
LARGEST_SETTINGS = (True, False, False, 2, LARGEST[1], 2, 2, 1)


@pytest.mark.slow
def test_prepare_and_train_show_the_cap_and_what_it_dropped(budget_client, largest_text):
    stats, _top = budget_client.predict(
        "my text", [handle_file(largest_text)], "", *LARGEST_SETTINGS[:4], api_name="/prepare"
    )
    assert (
        "The vocabulary cap of 50,000 words raises min_count from 2 to 3 and drops 10,000 more "
        "words." in stats
    )
    assert "at 300 dimensions, 16,666 words" in stats
    status, text, settings, _plot = Client(budget_client.src, verbose=False).predict(
        "my text", [handle_file(largest_text)], "", *LARGEST_SETTINGS, api_name="/train"
    )
    assert "50,000 words" in status and "drops 10,000 more words" in status
    assert settings["max_final_vocab"] == MAX_VOCABULARY and settings["vector_size"] == 100
    assert "Trained in this session" in text and "Session models: " in text


@pytest.mark.slow
def test_session_vectors_stay_within_the_budget_however_many_visitors_train(
    budget_app, budget_client, largest_text
):
    """Five visitors each train the largest vectors the caps allow; the budget holds two.

    Measured (`pytest -s` prints it): budget 73.9 MB; RSS growth after each training 47, 103,
    108, 112 and 134 MB; peak +144 MB.
    """
    visitors = [Client(budget_client.src, verbose=False) for _ in range(5)]
    answered = 0
    growth = []
    start = rss()
    with rss_peak() as peak:
        for visitor in visitors:
            status, *_ = visitor.predict(
                "my text", [handle_file(largest_text)], "", *LARGEST_SETTINGS, api_name="/train"
            )
            assert "Trained on largest.txt: 50,000 words" in status
            answered += 1
            assert budget_app.SESSIONS.store.used <= budget_app.SESSIONS.store.budget
            growth.append(rss() - start)
    assert len(budget_app.SESSIONS.store) == 2 and budget_app.SESSIONS.store.evictions >= 3
    print(f"budget {budget_app.SESSIONS.store.budget / MB:.1f} MB, RSS growth after each training",
          [f"{g / MB:.0f}" for g in growth], f"MB, peak +{peak['peak'] / MB:.0f} MB")  # fmt: skip
    assert max(growth) <= budget_app.SESSIONS.store.budget + MARGIN
    assert peak["peak"] <= budget_app.SESSIONS.store.budget + MARGIN

    # the first visitor's vectors were evicted: told so by name, answered by the default vectors
    text, *_ = visitors[0].predict(api_name="/model")
    assert "Your vectors trained on largest.txt at " in text and "were removed" in text
    assert "Default model" in text
    default = [
        w for w, _ in budget_app.SESSIONS.served.model.vectors.most_similar("police", topn=3)
    ]
    assert [r[0] for r in visitors[0].predict("police", 3, api_name="/most_similar")["data"]] == (
        default
    )
    # the last visitor still has theirs
    text, *_ = visitors[-1].predict(api_name="/model")
    assert "Trained in this session" in text and "were removed" not in text
    word = made_up_words(1)[0]
    assert len(visitors[-1].predict(word, 3, api_name="/most_similar")["data"]) == 3


@pytest.mark.slow
def test_the_hostile_text_is_refused_with_the_cap_and_memory_stays_bounded(budget_client, tmp_path):
    path = hostile_text(tmp_path)
    assert 9_500_000 < path.stat().st_size < MAX_CORPUS_MB * MB
    started = time.perf_counter()
    with rss_peak() as peak, pytest.raises(Exception) as err:
        budget_client.predict(
            "my text", [handle_file(path)], "", *HOSTILE_SETTINGS, api_name="/train"
        )
    seconds = time.perf_counter() - started
    # measured: refused in 4.2 s at +125 MB of RSS; issue 14 trained it in 16 s at +1.5 GB
    print(f"hostile text: refused in {seconds:.1f} s, RSS peak +{peak['peak'] / MB:.0f} MB")
    assert (
        "The vocabulary cap of 16,666 words raised min_count from 2 to 3, which leaves 0 words"
        in str(err.value)
    )
    assert "drops 600,000" in str(err.value)
    assert peak["peak"] < HOSTILE_PEAK
    assert len(budget_client.predict("police", 3, api_name="/most_similar")["data"]) == 3
