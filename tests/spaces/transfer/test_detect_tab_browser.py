"""The Detect tab in headless Chromium: a detected scene on first view, a new scene, boxes drawn."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, serve

from tests.spaces.transfer.test_detect_tab import demo_of, load_tab, low_threshold_model


@pytest.mark.slow
@pytest.mark.browser
def test_first_view_and_a_random_scene_draw_their_boxes(page, tmp_path_factory):
    tab = load_tab("detect_tab_browser", low_threshold_model(tmp_path_factory))
    from detect_tab import FIRST_SCENE  # spaces/transfer/, on sys.path once the app is loaded

    with serve(demo_of(tab)) as url:
        page.goto(url, wait_until="load")
        page.wait_for_selector("#detect-boxes img.mask", timeout=60_000)
        assert "Detector loaded from" in page.inner_text("#detect-status")
        first = page.inner_text("#detect-summary")
        assert f"Scene {FIRST_SCENE} holds the digits" in first
        boxes = page.locator("#detect-boxes img.mask")
        assert boxes.count() > 0
        assert f"{boxes.count()} found" in first  # one drawn box per detection listed
        page.click("#detect-scene")
        page.wait_for_function(
            "old => !document.querySelector('#detect-summary').innerText.includes(old)",
            arg=first.split(" holds")[0],
            timeout=60_000,
        )
        page.wait_for_function(  # every box image arrived and decoded
            "() => { const m = [...document.querySelectorAll('#detect-boxes img.mask')];"
            " return m.length > 0 && m.every(i => i.complete && i.naturalWidth > 0); }",
            timeout=60_000,
        )
        count = page.locator("#detect-boxes img.mask").count()
        assert f"{count} found" in page.inner_text("#detect-summary")
        page.screenshot(path=str(ARTIFACTS / "detect.png"), full_page=True)
    assert page.console_errors == []
