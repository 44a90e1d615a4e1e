"""The tab "What else an autoencoder does": its handlers called directly, its first view, and
the tab served over HTTP and in a browser.

The tab module is loaded by its path beside the app (as app.py imports it), with the quick
models of `training.anomaly_uses` and `training.anomaly` as the models it serves.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import gradio as gr
import numpy as np
import pytest
from conftest import REPO, client_for, load_app, quick_model, serve
from PIL import Image

from shared.anomaly.model import load_autoencoder
from shared.app.served import DefaultModel
from shared.uses import explore
from shared.uses.data import load_split

APP_DIR = REPO / "spaces" / "anomaly"


def load_tab(name: str):
    """spaces/anomaly/uses_tab.py imported afresh by its path, as app.py imports it."""
    sys.path.insert(0, str(APP_DIR))  # where app.py finds it, and it finds uses_charts
    try:
        spec = importlib.util.spec_from_file_location(name, APP_DIR / "uses_tab.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(APP_DIR))


def found(tab, model_folder):
    """The tab's `Uses` as app.py loads it, with $ANOMALY_USES_MODEL = `model_folder`."""
    os.environ["ANOMALY_USES_MODEL"] = str(model_folder)
    try:
        return tab.load(APP_DIR)
    finally:
        del os.environ["ANOMALY_USES_MODEL"]


@pytest.fixture(scope="module")
def tab():
    return load_tab("uses_tab_under_test")


@pytest.fixture(scope="module")
def uses(tab):
    return found(tab, quick_model("anomaly_uses"))


@pytest.fixture(scope="module")
def first(tab, uses):
    return tab.first_view(uses)


@pytest.fixture(scope="module")
def anomaly() -> DefaultModel:
    folder = quick_model("anomaly")
    return DefaultModel(load_autoencoder(folder), {}, f"Model loaded from `{folder}`.")


@pytest.fixture(scope="module")
def demo(tab, uses, first, anomaly):
    with gr.Blocks() as blocks:
        tab.build(uses, first, anomaly)
    return blocks


def grey(path: str) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"))


def traces(plot) -> list[dict]:
    return json.loads(plot.plot)["data"]


def test_the_first_view_is_made_from_the_models(tab, uses, first):
    digits = load_split(0)
    maps = traces(first.maps)
    assert len(maps) == 20  # ten classes on each of the two maps
    for trace in maps:  # every point carries its true label
        rows = np.array([int(row) for row, _ in trace["customdata"]])
        assert np.all(digits.test_y[rows] == int(trace["name"]))
    assert sum(len(t["customdata"]) for t in maps) == 2 * len(digits.test_y)
    accuracy = uses.found.metrics["reduction"]["autoencoder_knn"]
    assert f"5-NN accuracy {accuracy:.3f}" in first.maps.plot
    curve = traces(first.curve)
    rows = uses.found.metrics["compression"]
    assert [t["name"] for t in curve] == ["autoencoder", "PCA"]
    assert curve[0]["y"] == [r["autoencoder_mse"] for r in rows]
    again = tab.denoise_digit(uses, 0, tab.NOISE)
    assert all(np.array_equal(a, b) for a, b in zip(first.denoised, again, strict=True))
    assert first.samples.samples.shape == (6 * 17, 6 * 71) and first.samples.seed == 1


def test_denoise_shows_the_library_answer_enlarged(tab, uses):
    answer = tab.denoise_digit(uses, 7, 0.5)
    expected = explore.denoise(uses.found.model, load_split(0).test_x[7].reshape(8, 8), 0.5)
    assert answer.clean.shape == (112, 112) and answer.clean.dtype == np.uint8
    assert np.array_equal(answer.noisy[::14, ::14], (expected.noisy * 255).round())
    assert f"denoising autoencoder **{expected.denoised_psnr:.1f} dB**" in answer.psnr
    assert "∞ dB (no noise)" in tab.denoise_digit(uses, 7, 0).psnr
    assert np.array_equal(
        tab.denoise_digit(uses, 10_000, 0.5).clean, tab.denoise_digit(uses, 539, 0.5).clean
    )


def test_a_drawing_is_denoised_and_a_blank_one_is_named(tab, uses):
    canvas = np.full((280, 280, 4), 255, dtype=np.uint8)
    canvas[40:240, 120:160, :3] = 0  # a black "1" on white paper
    drawn = tab.denoise_drawing(uses, {"composite": canvas}, 0.2)
    assert drawn.clean[:, 56 : 56 + 14].min() > 200  # its ink, bright, in the middle columns
    for blank in (None, {"composite": None}, {"composite": np.full((280, 280, 4), 255, np.uint8)}):
        with pytest.raises(gr.Error, match="No image|blank"):
            tab.handler(tab.denoise_drawing, uses)(blank, 0.2)


def test_samples_follow_their_seed_and_the_path_ends_at_its_digits(tab, uses):
    one, again = tab.new_samples(uses, 5), tab.new_samples(uses, 5)
    assert np.array_equal(one.samples, again.samples) and one.seed == 6
    assert not np.array_equal(one.samples, tab.new_samples(uses, 6).samples)
    path = tab.interpolate(uses, 3, 9).path
    digits = load_split(0).test_x
    ends = explore.interpolate(
        uses.found.model, digits[3].reshape(8, 8), digits[9].reshape(8, 8), 2
    )
    assert path.shape == (48, 6 * (9 * 10 - 1))
    # a batch of 10 and one of 2 may round their last bits apart: a grey level at most
    for frame, end in ((path[:, :48], ends[0]), (path[:, -48:], ends[1])):
        assert np.abs(frame.astype(int) - tab.charts.picture(end, 6)).max() <= 1


def test_the_bottleneck_of_the_served_model(tab, anomaly):
    figure, text = tab.bottleneck(anomaly)
    names = [t["name"] for t in traces(figure)]
    assert names == ["normal", "anomaly"] and "PC 1 of the codes" in figure.plot
    assert "PCA of the codes" in text  # the quick ECG model's latent is 11 wide
    none = DefaultModel(None, {}, "⚠️ **Model not trained yet.**")
    assert tab.bottleneck(none) == (None, none.status)


def test_without_digit_models_the_tab_says_how_to_get_them(tab, tmp_path, anomaly):
    empty = found(tab, tmp_path / "nothing")
    assert tab.first_view(empty) is None
    assert "python -m training.anomaly_uses" in empty.found.status
    with gr.Blocks() as blocks:
        tab.build(empty, None, anomaly)
    texts = [c.value for c in blocks.blocks.values() if isinstance(c, gr.Markdown)]
    assert any("python -m training.anomaly_uses" in t for t in texts)
    assert any(isinstance(c, gr.Plot) for c in blocks.blocks.values())  # section 6 still there


def test_the_tab_states_the_numbers_it_was_given(tab, uses, demo):
    texts = [c.value for c in demo.blocks.values() if isinstance(c, gr.Markdown)]
    metrics = uses.found.metrics
    assert explore.compression_summary(metrics["compression"]) in texts
    assert explore.features_summary(metrics["features"], 8) in texts
    assert any(f"**{metrics['generation']['elbo']:.1f} nats**" in t for t in texts)
    tables = [c.value for c in demo.blocks.values() if isinstance(c, gr.Dataframe)]
    assert [len(t["data"]) for t in tables] == [4, 4, 3]  # noise levels, code sizes, labels
    noise = tables[0]
    assert noise["headers"] == ["noise std", "noisy dB", "median 3x3 dB", "denoising AE dB"]
    at_3 = next(r for r in metrics["denoising"] if r["noise_std"] == 0.3)
    assert [0.3, round(at_3["noisy_psnr"], 1)] == noise["data"][2][:2]


def test_the_tab_answers_over_http(tab, uses, demo):
    with client_for(demo) as client:
        *pictures, psnr = client.predict(7, 0.5, api_name="/uses_denoise")
        assert psnr == tab.denoise_digit(uses, 7, 0.5).psnr
        assert np.array_equal(grey(pictures[3]), tab.denoise_digit(uses, 7, 0.5).denoised)
        # the seed lives in the visitor's session: each click draws the next seed's digits
        for seed in (1, 2):
            samples = client.predict(api_name="/uses_samples")
            assert np.array_equal(grey(samples), tab.new_samples(uses, seed).samples), seed
        path = client.predict(3, 9, api_name="/uses_path")
        assert np.array_equal(grey(path), tab.interpolate(uses, 3, 9).path)
        with pytest.raises(Exception, match="No image: pick a digit or draw one"):
            client.predict(None, 0.3, api_name="/uses_denoise_drawing")


def test_the_anomaly_app_serves_the_tab(tab, uses):
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    os.environ["ANOMALY_USES_MODEL"] = str(quick_model("anomaly_uses"))
    try:
        app = load_app("anomaly", "anomaly_app_uses")
    finally:
        del os.environ["ANOMALY_MODEL"], os.environ["ANOMALY_USES_MODEL"]
    assert app.FIRST_USES is not None  # filled at import: no click needed
    labels = [c.get("props", {}).get("label") for c in app.demo.config["components"]]
    assert "What else an autoencoder does" in labels
    with client_for(app.demo) as client:
        *_, psnr = client.predict(7, 0.5, api_name="/uses_denoise")
        assert psnr == tab.denoise_digit(uses, 7, 0.5).psnr
    figure, _ = app.uses_tab.bottleneck(app.SESSIONS.served)  # the model the app serves
    assert figure is not None


@pytest.mark.slow
@pytest.mark.browser
def test_the_tab_in_a_browser(tab, uses, demo, page):
    with serve(demo) as url:
        page.goto(url, wait_until="load")
        for plot in ("#uses-maps", "#uses-curve", "#uses-bottleneck"):  # drawn by plotly
            page.locator(f"{plot} .main-svg").first.wait_for(timeout=60_000)
        assert "PSNR against the clean digit" in page.locator("#uses-psnr").inner_text()
        before = page.locator("#uses-psnr").inner_text()
        page.locator("#uses-row input[type=number]").fill("12")
        page.locator("#uses-row input[type=number]").press("Enter")
        page.wait_for_function(
            f"!document.querySelector('#uses-psnr').innerText.includes({json.dumps(before)})",
            timeout=60_000,
        )
        expected = tab.denoise_digit(uses, 12, tab.NOISE).psnr.replace("**", "")
        assert page.locator("#uses-psnr").inner_text() == expected
        # draw a "1" with the mouse: the page answers for the drawing, not the picked digit
        page.locator("#uses-sketch button[title='Brush']").click()
        box = page.locator("#uses-sketch canvas").first.bounding_box()
        x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
        page.mouse.move(x, top)
        page.mouse.down()
        for step in range(1, 20):
            page.mouse.move(x, top + box["height"] * 0.6 * step / 19)
        page.mouse.up()
        page.locator("#uses-draw").click()
        page.wait_for_function(
            f"!document.querySelector('#uses-psnr').innerText.includes({json.dumps(expected)})",
            timeout=60_000,
        )
        assert "denoising autoencoder" in page.locator("#uses-psnr").inner_text()
    assert page.console_errors == []
