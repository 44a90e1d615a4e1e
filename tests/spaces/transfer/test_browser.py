"""The transfer app in headless Chromium: upload an image, see the labels and the heatmap."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, load_app, quick_model, serve
from PIL import Image

from shared.transfer.cam import classify
from tests.spaces.transfer.test_app import digit_png, held_out


@pytest.mark.slow
@pytest.mark.browser
def test_upload_an_image_and_see_labels_and_heatmap(page, tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFER_MODEL", str(quick_model("transfer")))
    app = load_app("transfer", "transfer_app_browser")
    served = app.SESSIONS.served.model
    with serve(app.demo) as url:
        page.goto(url)
        page.wait_for_selector("#transfer-image")
        assert "Model loaded from" in page.inner_text("#transfer-status")
        # the first view is already answered: the first example digit, classified
        page.wait_for_selector("#transfer-heatmap img")
        assert any(d in page.inner_text("#transfer-label") for d in "0123456789")
        # a held-out digit the quick model reads right (it reads about 4 in 5): the page must
        # show that answer on top, not another class or an old answer
        path, truth = next(
            (path, truth)
            for index in held_out()
            for path, truth in [digit_png(tmp_path / f"d{index}.png", index, size=(64, 64))]
            if next(iter(classify(served, Image.open(path), cam=False).scores)) == truth
            and truth
            != next(iter(classify(served, Image.open(app.classify.examples[0]), cam=False).scores))
        )
        page.set_input_files("#transfer-image input[type=file]", str(path))
        # an upload is classified at once, no click needed
        page.wait_for_function(  # the label's heading line, then the top class in large type
            """truth => document.querySelector('#transfer-label').innerText.split('\\n')
                .map(line => line.trim()).filter(Boolean)[1] === truth""",
            arg=truth,
            timeout=60_000,
        )
        label = page.inner_text("#transfer-label")
        assert "%" in label  # the confidences are shown
        # the upload's heatmap (64x64 shown 4x), not the first view's: it has loaded
        page.wait_for_function(
            "document.querySelector('#transfer-heatmap img')?.naturalWidth === 256"
        )
        assert '"x0"' in page.inner_text("#transfer-box") or "x0" in page.inner_text(
            "#transfer-box"
        )
        page.screenshot(path=str(ARTIFACTS / "transfer.png"), full_page=True)

        # the course's figure is drawn in the browser (Vega): the mouse over it reads a value
        page.get_by_role("tab", name="Model").click()
        plot = page.locator("#transfer-curve canvas, #transfer-curve svg").first
        plot.wait_for(timeout=30_000)
        plot.scroll_into_view_if_needed()
        box = plot.bounding_box()
        tooltip = page.locator("#vg-tooltip-element")
        for step in range(1, 40):  # sweep across the plot until a point is under the mouse
            page.mouse.move(box["x"] + box["width"] * step / 40, box["y"] + box["height"] / 2)
            if tooltip.count() and "visible" in (tooltip.get_attribute("class") or ""):
                break
        assert "visible" in (tooltip.get_attribute("class") or "")
        assert "labels_per_class" in tooltip.inner_text() or "accuracy" in tooltip.inner_text()
    assert page.console_errors == []
