"""The CBOW app in a real headless Chromium, used the way a person would."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, serve
from test_cbow_app import app_with_quick_model


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


@pytest.mark.slow
@pytest.mark.browser
def test_type_a_word_see_neighbours_then_the_course_pairs(app, page):
    expected = [w for w, _ in app.DEFAULT.vectors.most_similar("police", topn=10)]
    with serve(app.demo) as url:
        page.goto(url)
        explore = page.get_by_role("tab", name="4. Explore")
        explore.wait_for(timeout=30_000)
        explore.click()
        page.locator("#word textarea, #word input").first.fill("police")
        page.locator("#similar-button").click()
        shown = table_rows(page, "neighbours", rows=10)
        assert [word for word, _ in shown] == expected
        assert all(0 < float(score) <= 1 for _, score in shown)

        page.get_by_role("tab", name="2. Training pairs").click()
        page.locator("#pairs-text textarea, #pairs-text input").first.fill("It is a pleasant day")
        page.locator("#pairs-button").click()
        assert table_rows(page, "course-pairs", rows=3) == [
            ["it, a", "is"],
            ["is, pleasant", "a"],
            ["a, day", "pleasant"],
        ]
        page.screenshot(path=str(ARTIFACTS / "cbow.png"), full_page=True)

        # the Model tab says which vectors answer and how much of the memory budget is used
        page.get_by_role("tab", name="5. Model").click()
        model_text = page.locator("#model-text")
        model_text.get_by_text("MB budget").wait_for(timeout=30_000)
        text = model_text.inner_text()
        assert "Default model" in text
        assert "Session models: 0, holding 0.0 MB of this app's 1,024 MB budget" in text
    assert page.console_errors == []
