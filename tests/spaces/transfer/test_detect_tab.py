"""The transfer app's Detect tab: its handlers, and its endpoints over HTTP, hostile input too."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil

import gradio as gr
import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import handle_file
from PIL import Image

from shared.app.outputs import handler
from shared.detect import scenes
from tests.detect.test_coco import coco_zip, scenes_zip


def low_threshold_model(tmp_path_factory):
    """The quick detector with a default score threshold low enough to show its boxes."""
    folder = tmp_path_factory.mktemp("detector") / "model"
    shutil.copytree(quick_model("detect"), folder)
    config = json.loads((folder / "config.json").read_text())
    config["score_threshold"] = 0.05
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def load_tab(name: str, model):
    """The Detect tab of the app imported afresh with $DETECT_MODEL pointing at `model` (and
    no classifier, which the tab does not need)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DETECT_MODEL", str(model))
        return load_app("transfer", name).detect


def demo_of(tab) -> gr.Blocks:
    with gr.Blocks() as demo:
        tab.build()
    demo.queue()
    return demo


@pytest.fixture(scope="module")
def tab(tmp_path_factory):
    return load_tab("detect_tab_under_test", low_threshold_model(tmp_path_factory))


@pytest.fixture(scope="module")
def client(tab):
    with client_for(demo_of(tab)) as c:
        yield c


def scene_png(path, seed: int = 3, side: int = 64):
    scene = scenes.make_scenes(1, "test", seed, size=64)[0]
    scene.pil().resize((side, side), Image.NEAREST).save(path)
    return path


def digits_of(seed: int) -> str:
    return ", ".join(str(d - 1) for d in sorted(scenes.make_scenes(1, "test", seed, 64)[0].labels))


def rows(table: dict) -> list[dict]:
    return [dict(zip(table["headers"], row, strict=True)) for row in table["data"]]


def test_first_view_is_a_built_in_scene_already_detected(tab):
    from detect_tab import FIRST_SCENE  # spaces/transfer/, on sys.path once the app is loaded

    (image, boxes), table, summary, state = tab.first
    assert image.size == (64, 64) and boxes and len(table) == len(boxes)
    assert f"Scene {FIRST_SCENE} holds the digits" in summary
    assert state.found and state.image is image  # the threshold re-filters the first view too
    assert "Detector loaded from" in tab.sessions.served.status


def test_the_threshold_refilters_without_running_the_model(tab):
    *_, state = tab.detect_scene(3, 0.05)
    calls = []
    hook = tab.sessions.served.model.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        _, low, _, kept = tab.refilter(0.05, state)
        _, high, summary, _ = tab.refilter(0.95, state)
    finally:
        hook.remove()
    assert calls == [] and len(low) > len(high) and kept is state
    assert (low["score"] >= 0.05).all() and (high["score"] >= 0.95).all()


def test_how_it_works_names_the_five_objectives_for_this_detector(tab):
    text = tab.train.how_it_works()
    for step in ("pretrained CNN", "Freeze", "custom head", "Train it", "Unfreeze"):
        assert step in text
    assert "test_resnet" in text and "FCOS" in text


def test_scene_endpoint_over_http(client):
    annotated, table, summary = client.predict(3, 0.05, api_name="/detect_scene")
    found = rows(table)
    assert found and len(annotated["annotations"]) == len(found)
    assert all(0 <= r["x0"] < r["x1"] <= 64 and 0 <= r["y0"] < r["y1"] <= 64 for r in found)
    assert f"Scene 3 holds the digits {digits_of(3)}" in summary
    assert {r["label"] for r in found} <= set(scenes.CLASSES)


def test_upload_boxes_are_in_the_pixels_of_the_uploaded_image(client, tmp_path):
    """A 1024 px upload is detected at 512 px; its boxes come back in 1024 px coordinates."""
    _, small, _ = client.predict(
        handle_file(scene_png(tmp_path / "s.png", side=512)), 0.2, api_name="/detect"
    )
    _, large, _ = client.predict(
        handle_file(scene_png(tmp_path / "l.png", side=1024)), 0.2, api_name="/detect"
    )
    small, large = rows(small), rows(large)
    assert small and len(small) == len(large)
    for a, b in zip(small, large, strict=True):
        assert a["label"] == b["label"]
        assert all(abs(2 * a[k] - b[k]) <= 8 for k in ("x0", "y0", "x1", "y1")), (a, b)


def test_sketch_and_paste_endpoints_answer(client, tmp_path):
    sketch = Image.new("RGBA", (256, 256), (0, 0, 0, 0))  # strokes on a transparent layer
    ink = scenes.make_scenes(1, "test", 5, size=64)[0].pil().resize((256, 256)).convert("L")
    sketch.putalpha(ink)
    sketch.save(tmp_path / "sketch.png")
    value = {"background": None, "layers": [], "composite": handle_file(tmp_path / "sketch.png")}
    annotated, table, summary = client.predict(value, 0.05, api_name="/detect_sketch")
    assert rows(table) and "found" in summary
    pasted = client.predict(
        handle_file(scene_png(tmp_path / "p.png")), 0.05, api_name="/detect_pasted"
    )
    assert rows(pasted[1])


def test_fine_tune_on_a_coco_zip_serves_only_its_session(client, tab, tmp_path):
    zipped = scenes_zip(tmp_path / "mine.zip", n=6)
    summary = client.predict(handle_file(zipped), 1, api_name="/detect_fine_tune")
    assert "Trained a new head" in summary and "6 images" in summary
    *_, said = client.predict(3, 0.05, api_name="/detect_scene")
    assert "Your fine-tuned detector (mine.zip" in said
    assert len(tab.sessions.store) == 1


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("huge", "too large"),
        ("not_image", "is not an image PIL can read"),
        ("empty", "is not an image PIL can read"),
        ("tiny", "too small to hold objects"),
    ],
)
def test_hostile_images_get_a_named_error_and_the_app_keeps_serving(
    client, tmp_path, kind, message
):
    path = tmp_path / f"{kind}.png"
    if kind == "huge":
        Image.new("L", (5000, 4000)).save(path)  # 20 million pixels, a small file
    elif kind == "not_image":
        path.write_text("this is a text file, renamed")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "tiny":
        Image.new("L", (4, 4)).save(path)
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(path), 0.5, api_name="/detect")
    assert rows(client.predict(3, 0.05, api_name="/detect_scene")[1])


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not_zip", "not a valid zip file"),
        ("outside", "lies outside the image"),
        ("no_annotations", "no annotations.json"),
        ("101_classes", "names 101 categories; a detector trained here takes at most 100"),
    ],
)
def test_bad_fine_tune_zips_get_a_named_error(client, tmp_path, kind, message):
    path = tmp_path / f"{kind}.zip"
    if kind == "not_zip":
        path.write_text("not a zip")
    elif kind == "outside":
        coco_zip(path, [{"id": 1, "image_id": 1, "category_id": 7, "bbox": [60, 5, 20, 30]}])
    elif kind == "101_classes":  # the two boxes are cat (7) and dog (3); 99 more names
        names = [{"id": 7, "name": "cat"}, {"id": 3, "name": "dog"}]
        coco_zip(path, categories=names + [{"id": 100 + i, "name": f"c{i}"} for i in range(99)])
    else:
        import zipfile

        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.png", b"x")
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(path), 1, api_name="/detect_fine_tune")
    assert rows(client.predict(3, 0.05, api_name="/detect_scene")[1])


def test_bad_scene_numbers_are_named(client):
    with pytest.raises(Exception, match="minimum value 0"):  # Gradio checks the bound itself
        client.predict(-3, 0.5, api_name="/detect_scene")


def test_without_a_detector_the_tab_says_how_to_get_one(tmp_path):
    tab = load_tab("detect_tab_without_model", tmp_path / "nothing-here")
    status = tab.sessions.served.status
    assert "Detector not trained yet" in status and "training.detect" in status
    assert tab.first.summary == status and tab.first.boxes is None
    with pytest.raises(gr.Error, match="No detector is loaded"):
        handler(tab.detect_scene)(1, 0.5)
    demo_of(tab)  # the tab still builds


def test_an_evicted_detector_is_named_by_the_one_notice_and_the_served_one_answers(tab):
    sessions = tab.sessions
    own = dataclasses.replace(sessions.served.model)  # a session's own, of the same weights
    ticket = sessions.replace(None, own, 1, "fine-tuned detector (a.zip, 7)")
    assert "Your fine-tuned detector (a.zip, 7)." in (tab.detect_scene(3, 0.05, ticket).summary)
    sessions.store.discard(ticket)  # as the budget evicts it
    with pytest.warns(UserWarning, match=re.escape(sessions.notice(ticket))):
        summary = tab.detect_scene(3, 0.05, ticket).summary
    # the notice is a warning, not text in the summary, which names the scene as usual
    assert summary.startswith("**") and summary.endswith(
        f"Scene 3 holds the digits {digits_of(3)}."
    )
    assert "removed" not in summary and "evicted" not in summary
