"""The Training pairs tab (spaces/cbow/pairs_tab.py): the course's pairs, gensim's and
skip-gram's, at the course's window and wider ones.
"""

from __future__ import annotations

import pytest

from shared.cbow import course
from tests.cbow.test_pairs import SKIPGRAM_COURSE
from tests.spaces.cbow.test_app import COURSE_PAIRS, on_open, rows


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


def test_the_training_pairs_tab_shows_skipgram_pairs_beside_cbows(app):
    from tests.cbow.test_pairs import SKIPGRAM_COURSE

    page = on_open(app.demo)
    assert [tuple(r) for r in app.pairs_tab.FIRST.skipgram.values.tolist()] == SKIPGRAM_COURSE
    assert [tuple(r) for r in page["skipgram-pairs"]["data"]] == SKIPGRAM_COURSE
    assert page["pairs-text"] == course.SENTENCE
