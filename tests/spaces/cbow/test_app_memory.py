"""What a visitor can make the CBOW app hold in memory: the vocabulary caps and the session budget.

Numbers for the budget test (2 cores, measured with this file's own `rss_peak`): see
`test_session_vectors_stay_within_the_budget_however_many_visitors_train`.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from conftest import client_for
from gradio_client import Client, handle_file

from shared.app.store import MB
from shared.cbow.corpus import (
    MAX_CORPUS_MB,
    MAX_VOCABULARY,
)
from shared.cbow.vectors import (
    MAX_VECTOR_CELLS,
    WORD_BYTES,
)
from tests.cbow.test_corpus import made_up_words
from tests.spaces.cbow.test_app import app_with_quick_model

# --- the app: caps in its results, and one budget for all sessions -------------------------


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
def app():
    words = LARGEST[0] * (LARGEST[1] * 4 + WORD_BYTES)
    os.environ["CBOW_SESSION_BUDGET_MB"] = str(BUDGET_MODELS * words / MB)
    try:
        yield from app_with_quick_model("cbow_app_memory")
    finally:
        os.environ.pop("CBOW_SESSION_BUDGET_MB")


@pytest.fixture(scope="module")
def client(app):
    with client_for(app.demo) as c:
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
def test_prepare_and_train_show_the_cap_and_what_it_dropped(client, largest_text):
    stats, _top = client.predict(
        "my text", [handle_file(largest_text)], "", *LARGEST_SETTINGS[:4], api_name="/prepare"
    )
    assert (
        "The vocabulary cap of 50,000 words raises min_count from 2 to 3 and drops 10,000 more "
        "words." in stats
    )
    assert "at 300 dimensions, 16,666 words" in stats
    status, text, settings, _plot = Client(client.src, verbose=False).predict(
        "my text", [handle_file(largest_text)], "", *LARGEST_SETTINGS, api_name="/train"
    )
    assert "50,000 words" in status and "drops 10,000 more words" in status
    assert settings["max_final_vocab"] == MAX_VOCABULARY and settings["vector_size"] == 100
    assert "Trained in this session" in text and "Session models: " in text


@pytest.mark.slow
def test_session_vectors_stay_within_the_budget_however_many_visitors_train(
    app, client, largest_text
):
    """Five visitors each train the largest vectors the caps allow; the budget holds two.

    Measured (`pytest -s` prints it): budget 73.9 MB; RSS growth after each training 47, 103,
    108, 112 and 134 MB; peak +144 MB.
    """
    visitors = [Client(client.src, verbose=False) for _ in range(5)]
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
            assert app.SESSIONS.store.used <= app.SESSIONS.store.budget
            growth.append(rss() - start)
    assert len(app.SESSIONS.store) == 2 and app.SESSIONS.store.evictions >= 3
    print(f"budget {app.SESSIONS.store.budget / MB:.1f} MB, RSS growth after each training",
          [f"{g / MB:.0f}" for g in growth], f"MB, peak +{peak['peak'] / MB:.0f} MB")  # fmt: skip
    assert max(growth) <= app.SESSIONS.store.budget + MARGIN
    assert peak["peak"] <= app.SESSIONS.store.budget + MARGIN

    # the first visitor's vectors were evicted: told so by name, answered by the default vectors
    text, *_ = visitors[0].predict(api_name="/model")
    assert "Your vectors trained on largest.txt at " in text and "were removed" in text
    assert "Default model" in text
    default = [w for w, _ in app.SESSIONS.served.model.vectors.most_similar("police", topn=3)]
    assert [r[0] for r in visitors[0].predict("police", 3, api_name="/most_similar")["data"]] == (
        default
    )
    # the last visitor still has theirs
    text, *_ = visitors[-1].predict(api_name="/model")
    assert "Trained in this session" in text and "were removed" not in text
    word = made_up_words(1)[0]
    assert len(visitors[-1].predict(word, 3, api_name="/most_similar")["data"]) == 3


def hostile_text(folder: Path) -> Path:
    """Issue 14's text: 600,000 made-up words, each twice, 9.6 MB (under the 10 MB cap)."""
    words = made_up_words(600_000)
    lines = [" ".join(words[i : i + 1000]) for i in range(0, len(words), 1000)]
    path = folder / "hostile.txt"
    path.write_text("\n".join(lines * 2))
    return path


HOSTILE_SETTINGS = (True, False, False, 2, 300, 2, 2, 1)  # min_count 2, 300 dimensions


@pytest.mark.slow
def test_the_hostile_text_is_refused_with_the_cap_and_memory_stays_bounded(client, tmp_path):
    path = hostile_text(tmp_path)
    assert 9_500_000 < path.stat().st_size < MAX_CORPUS_MB * MB
    started = time.perf_counter()
    with rss_peak() as peak, pytest.raises(Exception) as err:
        client.predict("my text", [handle_file(path)], "", *HOSTILE_SETTINGS, api_name="/train")
    seconds = time.perf_counter() - started
    # measured: refused in 4.2 s at +125 MB of RSS; issue 14 trained it in 16 s at +1.5 GB
    print(f"hostile text: refused in {seconds:.1f} s, RSS peak +{peak['peak'] / MB:.0f} MB")
    assert (
        "The vocabulary cap of 16,666 words raised min_count from 2 to 3, which leaves 0 words"
        in str(err.value)
    )
    assert "drops 600,000" in str(err.value)
    assert peak["peak"] < HOSTILE_PEAK
    assert len(client.predict("police", 3, api_name="/most_similar")["data"]) == 3
