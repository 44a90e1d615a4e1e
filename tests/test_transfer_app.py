"""The transfer app over real HTTP: classify with heatmap and box, examples, session fine-tune."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import handle_file
from PIL import Image

from shared.transfer import data


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = quick_model("transfer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRANSFER_MODEL", str(folder))
        app = load_app("transfer")
    with client_for(app.demo) as c:
        yield c


def digit_png(path, index=-1):
    image = data.digits(data.TARGET_DIGITS)[0][index]
    image.resize((64, 48)).save(path)  # not square: the box maps back to these pixels
    return path


def class_zip(path, classes=("dark", "bright"), per_class=6):
    with zipfile.ZipFile(path, "w") as zf:
        for c, value in zip(classes, (20, 230), strict=False):
            for i in range(per_class):
                tile = Image.fromarray(np.full((16, 16), value + i, np.uint8))
                tmp = path.parent / f"{c}{i}.png"
                tile.save(tmp)
                zf.write(tmp, f"{c}/{i}.png")
    return path


def test_model_info_names_the_loaded_model(client):
    assert "Model loaded from" in client.predict(api_name="/model_info")


def test_classify_returns_labels_heatmap_and_box(client, tmp_path):
    scores, heatmap, box = client.predict(
        handle_file(str(digit_png(tmp_path / "d.png"))), api_name="/classify"
    )
    names = [c["label"] for c in scores["confidences"]]
    assert scores["label"] in list("56789") and sorted(names) == list("56789")
    assert sum(c["confidence"] for c in scores["confidences"]) == pytest.approx(1, abs=1e-3)
    assert Image.open(heatmap).size == (256, 256)
    assert set(box) == {"x0", "y0", "x1", "y1"}
    # the box lies inside the uploaded 64x48 image, in its own pixels (centre square 8..56)
    assert 8 <= box["x0"] < box["x1"] <= 56 and 0 <= box["y0"] < box["y1"] <= 48


def test_classify_example(client):
    image, scores, heatmap, box = client.predict(3, api_name="/classify_example")
    assert Image.open(image).size == (128, 128) and scores["label"] in list("56789")
    assert Image.open(heatmap).size == (256, 256) and box["x1"] > box["x0"]


@pytest.mark.slow
def test_fine_tune_serves_only_its_session(client, tmp_path):
    status, plot, *_ = client.predict(
        handle_file(str(class_zip(tmp_path / "c.zip"))), 3, api_name="/fine_tune"
    )
    assert "Trained a new head for **bright, dark**" in status
    scores, _, _ = client.predict(
        handle_file(str(digit_png(tmp_path / "d.png"))), api_name="/classify"
    )
    assert sorted(c["label"] for c in scores["confidences"]) == ["bright", "dark"]
    other = type(client)(client.src, verbose=False)  # a second visitor still has the digits
    scores, _, _ = other.predict(
        handle_file(str(digit_png(tmp_path / "e.png"))), api_name="/classify"
    )
    assert sorted(c["label"] for c in scores["confidences"]) == list("56789")


def test_app_without_a_model_starts_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSFER_MODEL", str(tmp_path / "nothing-here"))
    app = load_app("transfer", "transfer_app_without_model")
    assert "not trained yet" in app.model_info()
    with pytest.raises(Exception, match="No model is loaded"):
        app.classify_example(0)
