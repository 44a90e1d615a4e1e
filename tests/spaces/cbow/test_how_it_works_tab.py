"""The How it works tab (spaces/cbow/how_it_works_tab.py): the from-scratch CBOW panel, and the
limits it states.
"""

from __future__ import annotations

from shared.app.launch import MAX_FILE_SIZE
from shared.cbow.corpus import MAX_CORPUS_MB, MAX_VOCABULARY
from shared.cbow.vectors import MAX_VECTOR_CELLS
from tests.spaces.cbow.test_app import COURSE_PAIRS, rows


def test_from_scratch_cbow_panel(client):
    _plot, table = client.predict("It is a pleasant day", api_name="/scratch")
    assert [r[:3] for r in rows(table)] == [[c, t, t] for c, t in COURSE_PAIRS]


def test_limits_are_documented_in_the_app(app):
    text = " ".join(app.how_it_works_tab.how_it_works(app.SESSIONS.budget_mb).lower().split())
    for limit in (
        MAX_FILE_SIZE,
        f"{MAX_CORPUS_MB} MB",
        "60 s",
        "one training run at a time",
        f"at most {MAX_VOCABULARY:,} words and {MAX_VECTOR_CELLS:,} numbers",
        "share a memory budget of 1,024 mb",
    ):
        assert " ".join(limit.lower().split()) in text, limit
