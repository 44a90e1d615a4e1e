"""The Explore tab (spaces/cbow/explore_tab.py): its endpoints answer from the served vectors,
and it opens on 'virus' with the course's sentence beside our answer.
"""

from __future__ import annotations

import gradio as gr
import pytest

from shared.cbow import course, explore
from tests.spaces.cbow.test_app import on_open, rows


def test_most_similar_over_http(client, app):
    table = client.predict("police", 5, api_name="/most_similar")
    assert table["headers"] == ["word", "similarity"]
    expected = app.SESSIONS.served.model.vectors.most_similar("police", topn=5)
    assert [r[0] for r in rows(table)] == [w for w, _ in expected]


def test_other_explore_endpoints_answer(client):
    assert client.predict("police", "police", api_name="/similarity") == pytest.approx(1.0)
    assert len(rows(client.predict("police", "man", "woman", api_name="/analogy"))) == 5
    answer, table = client.predict("police officers arrested cricket", api_name="/odd_one_out")
    assert "odd one out" in answer and len(rows(table)) == 4
    plot = client.predict("police", 10, "pca", api_name="/map")
    assert "police" in str(plot)


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
