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
    """Wait until every event has finished and its figures are drawn."""
    page.wait_for_function(
        "document.querySelectorAll('.eta-bar, .meta-text, .meta-text-center').length === 0",
        timeout=60_000,
    )


@pytest.mark.slow
@pytest.mark.browser
def test_pick_ecg_move_the_threshold_then_upload_a_csv(app, page, tmp_path):
    series = tmp_path / "my-series.csv"
    series.write_text("v\n" + "\n".join(f"{np.sin(i / 3):.4f}" for i in range(600)))
    with serve(app.demo) as url:
        page.goto(url)
        page.locator("#dataset input").wait_for(timeout=30_000)
        page.locator("#dataset input").click()
        page.get_by_role("option", name="ecg", exact=True).click()
        page.locator("#score").click()
        page.wait_for_function(
            "document.querySelector('#flagged-count')?.innerText.includes('flagged')",
            timeout=60_000,
        )
        before = flagged_text(page)
        assert "Scored ecg" in page.locator("#summary").inner_text()
        settle(page)
        page.screenshot(path=str(ARTIFACTS / "anomaly-ecg.png"), full_page=True)  # the README's

        # drag the threshold to its top: nothing is above it any more
        number = page.locator("#threshold input[type=number]")
        top = number.get_attribute("max")
        number.fill(top)
        number.press("Enter")
        page.wait_for_function(
            "document.querySelector('#flagged-count').innerText.startsWith('0 of')",
            timeout=30_000,
        )
        assert flagged_text(page) != before and not before.startswith("0 of")

        page.locator("#upload input[type=file]").set_input_files(str(series))
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
        assert page.locator("#histogram img").is_visible()
        page.screenshot(path=str(ARTIFACTS / "anomaly.png"), full_page=True)
    assert page.console_errors == []
