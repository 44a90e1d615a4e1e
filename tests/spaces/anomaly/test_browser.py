"""The anomaly app in a real headless Chromium, used the way a person would."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import ARTIFACTS, load_app, quick_model, serve


@pytest.fixture(scope="module")
def app():
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    try:
        yield load_app("anomaly", "anomaly_app_browser")
    finally:
        del os.environ["ANOMALY_MODEL"]


def flagged_text(page) -> str:
    return page.locator("#flagged-count").inner_text()


def settle(page) -> None:
    """Wait until every event has finished and its plots are drawn."""
    page.wait_for_function(
        "document.querySelectorAll('.eta-bar, .meta-text, .meta-text-center').length === 0",
        timeout=60_000,
    )


def hover_texts(page, plot: str) -> list[str]:
    return page.locator(f"{plot} .hoverlayer .hovertext").all_text_contents()


@pytest.mark.slow
@pytest.mark.browser
def test_the_first_view_is_ecg_scored_and_its_plots_answer_the_mouse(app, page):
    with serve(app.demo) as url:
        page.goto(url, wait_until="load")
        # no click: the Detect tab opens with ECG scored at the model's threshold
        page.wait_for_function(
            "document.querySelector('#flagged-count')?.innerText.includes('flagged above')",
            timeout=60_000,
        )
        threshold = app.SESSIONS.served.model.config.threshold
        assert "Scored ecg" in page.locator("#summary").inner_text()
        assert f"above {threshold:.4g}" in flagged_text(page)
        assert "actual anomaly" in page.locator("#confusion").inner_text()  # no "1 2 3" headers
        settle(page)
        for plot in ("#series", "#histogram", "#curves"):  # drawn by plotly in the browser
            page.locator(f"{plot} .main-svg").first.wait_for(timeout=30_000)
        assert "threshold" in page.locator("#histogram .annotation-text").first.text_content()
        page.locator("#viewer canvas, #viewer svg").first.wait_for(timeout=30_000)  # Vega

        # relevant controls only: ECG is a series (window and stride), no digit, no CSV options
        assert page.locator("#window").is_visible() and page.locator("#stride").is_visible()
        assert not page.locator("#digit").is_visible()
        assert not page.locator("#layout").is_visible()
        assert not page.locator("#label-col").is_visible()
        page.screenshot(path=str(ARTIFACTS / "anomaly.png"), full_page=True)  # the README's

        # hover on the series: plotly shows the point under the mouse
        series = page.locator("#series .nsewdrag").first
        series.scroll_into_view_if_needed()
        assert hover_texts(page, "#series") == []
        box = series.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
        page.wait_for_function(
            "document.querySelectorAll('#series .hoverlayer .hovertext').length > 0",
            timeout=10_000,
        )
        assert any(text.strip() for text in hover_texts(page, "#series"))
        # zoom: drag across a tenth of the x axis, and the axis range shrinks to it
        ticks = "[...document.querySelectorAll('#series .xtick')].map(t => t.textContent).join()"
        ticks_before = page.evaluate(ticks)
        page.mouse.move(box["x"] + box["width"] * 0.40, box["y"] + box["height"] * 0.5)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.50, box["y"] + box["height"] * 0.5, steps=5)
        page.mouse.up()
        page.wait_for_function(f"before => ({ticks}) !== before", arg=ticks_before, timeout=10_000)

        # the other controls appear when they apply
        page.locator("#dataset input").click()
        page.get_by_role("option", name="digits", exact=True).click()
        page.locator("#digit").wait_for(state="visible", timeout=10_000)
        page.locator("#window").wait_for(state="hidden", timeout=10_000)
        page.get_by_role("tab", name="Train").click()
        assert not page.locator("#param").is_visible()  # the default rule takes no parameter
        page.locator("#train-plot").wait_for(state="visible", timeout=10_000)
    assert page.console_errors == []


@pytest.mark.slow
@pytest.mark.browser
def test_move_the_threshold_then_upload_a_csv(app, page, tmp_path):
    series = tmp_path / "my-series.csv"
    series.write_text("v\n" + "\n".join(f"{np.sin(i / 3):.4f}" for i in range(600)))
    with serve(app.demo) as url:
        page.goto(url, wait_until="load")
        page.wait_for_function(
            "document.querySelector('#flagged-count')?.innerText.includes('flagged above')",
            timeout=60_000,
        )
        before = flagged_text(page)
        settle(page)
        # drag the threshold to its top: nothing is above it any more
        number = page.locator("#threshold input[type=number]")
        number.fill(number.get_attribute("max"))
        number.press("Enter")
        page.wait_for_function(
            "document.querySelector('#flagged-count').innerText.startsWith('0 of')",
            timeout=30_000,
        )
        assert flagged_text(page) != before and not before.startswith("0 of")
        page.wait_for_function(
            "document.querySelector('#series .gtitle')?.textContent.includes(': 0 points')",
            timeout=30_000,
        )

        page.locator("#upload input[type=file]").set_input_files(str(series))
        page.locator("#layout").wait_for(state="visible", timeout=10_000)  # CSV options appear
        page.locator("#score").click()
        page.wait_for_function(
            "document.querySelector('#summary').innerText.includes('my-series.csv')",
            timeout=60_000,
        )
        # (600 - 200) / 4 + 1 = 101 windows: the quick model reads 200 points, 4 apart
        page.wait_for_function(
            "document.querySelector('#flagged-count').innerText.includes(' of 101')",
            timeout=60_000,
        )
        settle(page)
        assert page.locator("#histogram .main-svg").first.is_visible()
        assert not page.locator("#curves").is_visible()  # no labels: no ROC or PR to draw
        page.screenshot(path=str(ARTIFACTS / "anomaly-upload.png"), full_page=True)
    assert page.console_errors == []


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_served_by_make_demo_logs_no_errors(page, monkeypatch):
    """spaces/serve.py mounts the app at /anomaly/: its page once logged a favicon 404."""
    from tests.spaces.test_mcp import serve_py

    monkeypatch.setenv("ANOMALY_MODEL", str(quick_model("anomaly")))
    with serve_py(["anomaly"]) as base:
        page.goto(f"{base}/anomaly/", wait_until="load")
        page.wait_for_function(
            "document.querySelector('#flagged-count')?.innerText.includes('flagged above')",
            timeout=60_000,
        )
        settle(page)
        page.wait_for_timeout(1_000)  # the browser asks for the icon after the page loads
    assert page.console_errors == []
