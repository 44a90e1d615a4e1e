"""The CBOW app in a real headless Chromium, used the way a person would."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, serve

from tests.cbow.test_pairs import SKIPGRAM_COURSE
from tests.spaces.cbow.test_app import app_with_quick_model


@pytest.fixture(scope="module")
def app():
    yield from app_with_quick_model("cbow_app_browser")


def table_rows(page, elem_id: str, rows: int, columns: int = 2) -> list[list[str]]:
    """The cells a Gradio 6 Dataframe shows, once its last expected cell has appeared."""
    last = page.locator(f"#{elem_id} [data-testid=cell-{rows - 1}-{columns - 1}]")
    last.wait_for(timeout=30_000)
    return [
        [
            page.locator(f"#{elem_id} [data-testid=cell-{r}-{c}]").inner_text()
            for c in range(columns)
        ]
        for r in range(rows)
    ]


def settle(page) -> None:
    """Wait until every event has finished and its plots are drawn."""
    page.wait_for_function(
        "document.querySelectorAll('.eta-bar, .meta-text, .meta-text-center').length === 0",
        timeout=60_000,
    )


@pytest.mark.slow
@pytest.mark.browser
def test_every_tab_is_answered_on_load_and_the_map_answers_the_mouse(app, page):
    vectors = app.SESSIONS.served.model.vectors
    expected = [w for w, _ in vectors.most_similar("virus", topn=app.explore_tab.TOP_K)]
    with serve(app.demo) as url:
        page.goto(url, wait_until="load")
        # no click anywhere: the built-in corpus is already prepared...
        page.locator("#stats").get_by_text("3,185,545 tokens").wait_for(timeout=60_000)
        assert table_rows(page, "top", rows=2) == [["the", "192363"], ["of", "164565"]]
        assert "GCIDE dictionary definitions" in page.locator("#stats").inner_text()
        # ...and only min_count applies to it: upload, paste and case options appear for "my text"
        assert not page.locator("#my-text").is_visible()
        page.get_by_label("my text").check()
        page.locator("#my-text").wait_for(state="visible", timeout=10_000)
        page.get_by_label("built-in corpus").check()
        page.locator("#my-text").wait_for(state="hidden", timeout=10_000)

        page.get_by_role("tab", name="2. Training pairs").click()
        assert table_rows(page, "course-pairs", rows=3) == [
            ["it, a", "is"], ["is, pleasant", "a"], ["a, day", "pleasant"],
        ]  # fmt: skip
        assert table_rows(page, "skipgram-pairs", rows=6) == [list(p) for p in SKIPGRAM_COURSE]

        page.get_by_role("tab", name="4. Explore").click()
        assert [word for word, _ in table_rows(page, "neighbours", rows=10)] == expected
        assert "The course:" in page.locator("#course-note").inner_text()
        assert (
            table_rows(page, "analogies", rows=1, columns=1)[0][0]
            == (vectors.most_similar(positive=["king", "woman"], negative=["man"])[0][0])
        )
        assert "The odd one out" in page.locator("#odd-answer").inner_text()
        settle(page)
        # the map is drawn by plotly in the browser: hover names a word, a drag zooms in
        point = page.locator("#map .scatterlayer .point").first
        point.wait_for(timeout=30_000)
        point.scroll_into_view_if_needed()
        assert page.locator("#map .hoverlayer .hovertext").count() == 0
        box = point.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "document.querySelectorAll('#map .hoverlayer .hovertext').length > 0", timeout=10_000
        )
        hover = page.locator("#map .hoverlayer .hovertext").first.text_content()
        assert "similarity" in hover
        page.screenshot(path=str(ARTIFACTS / "cbow.png"), full_page=True)  # the README's
        ticks = "[...document.querySelectorAll('#map .xtick')].map(t => t.textContent).join()"
        before = page.evaluate(ticks)
        area = page.locator("#map .nsewdrag").first.bounding_box()
        page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2)
        page.mouse.down()
        page.mouse.move(area["x"] + area["width"] * 0.5, area["y"] + area["height"] * 0.6, steps=5)
        page.mouse.up()
        page.wait_for_function(f"before => ({ticks}) !== before", arg=before, timeout=10_000)

        # the loss curves are drawn in the browser too (Vega), without a click
        page.get_by_role("tab", name="5. Model").click()
        page.locator("#loss-plot canvas, #loss-plot svg").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="How it works").click()
        page.locator("#scratch-loss canvas, #scratch-loss svg").first.wait_for(timeout=30_000)
    assert page.console_errors == []


@pytest.mark.slow
@pytest.mark.browser
def test_type_a_word_see_neighbours_then_the_course_pairs(app, page):
    expected = [w for w, _ in app.SESSIONS.served.model.vectors.most_similar("police", topn=10)]
    with serve(app.demo) as url:
        page.goto(url)
        page.locator("#stats").get_by_text("3,185,545 tokens").wait_for(timeout=60_000)
        settle(page)  # the first view is in: what follows replaces it
        page.get_by_role("tab", name="4. Explore").click()
        page.locator("#word textarea, #word input").first.fill("police")
        page.locator("#similar-button").click()
        page.wait_for_function(
            "w => document.querySelector('#neighbours [data-testid=cell-0-0]')?.innerText === w",
            arg=expected[0],
            timeout=30_000,
        )
        shown = table_rows(page, "neighbours", rows=10)
        assert [word for word, _ in shown] == expected
        assert all(0 < float(score) <= 1 for _, score in shown)

        page.get_by_role("tab", name="2. Training pairs").click()
        page.locator("#pairs-text textarea, #pairs-text input").first.fill("A cat sat on the mat")
        page.locator("#pairs-button").click()
        assert table_rows(page, "course-pairs", rows=4) == [  # 3 rows before the click
            ["a, sat", "cat"],
            ["cat, on", "sat"],
            ["sat, the", "on"],
            ["on, mat", "the"],
        ]

        # the Model tab says which vectors answer and how much of the memory budget is used
        page.get_by_role("tab", name="5. Model").click()
        model_text = page.locator("#model-text")
        model_text.get_by_text("MB budget").wait_for(timeout=30_000)
        text = model_text.inner_text()
        assert "Default model" in text
        assert "Session models: 0, holding 0.0 MB of this app's 1,024 MB budget" in text
    assert page.console_errors == []
