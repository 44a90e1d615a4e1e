"""The transfer app in headless Chromium: upload an image, see the labels and the heatmap."""

from __future__ import annotations

import pytest
from conftest import ARTIFACTS, load_app, quick_model, serve
from test_transfer_app import digit_png


@pytest.mark.slow
@pytest.mark.browser
def test_upload_an_image_and_see_labels_and_heatmap(page, tmp_path, monkeypatch):
    monkeypatch.setenv("TRANSFER_MODEL", str(quick_model("transfer")))
    app = load_app("transfer", "transfer_app_browser")
    with serve(app.demo) as url:
        page.goto(url)
        page.wait_for_selector("#transfer-upload")
        assert "Model loaded from" in page.inner_text("#transfer-status")
        page.set_input_files(
            "#transfer-upload input[type=file]", str(digit_png(tmp_path / "d.png"))
        )
        page.wait_for_selector("#transfer-upload >> text=d.png")
        page.click("#transfer-classify")
        heatmap = page.wait_for_selector("#transfer-heatmap img", timeout=60_000)
        label = page.inner_text("#transfer-label")
        assert any(digit in label for digit in "56789"), label
        assert "%" in label  # the confidences are shown
        assert heatmap.evaluate("img => img.naturalWidth") == 256
        assert '"x0"' in page.inner_text("#transfer-box") or "x0" in page.inner_text(
            "#transfer-box"
        )
        page.screenshot(path=str(ARTIFACTS / "transfer.png"), full_page=True)
    assert page.console_errors == []
