"""COCO zips: the format people have, read with a named error for every way it goes wrong."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from PIL import Image

from shared.detect.coco import CocoInputError, load_zip, write_scenes_zip
from shared.detect.scenes import make_scenes


def png(size=(64, 48), value=0) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, value).save(buffer, format="PNG")
    return buffer.getvalue()


def coco_zip(path, annotations=None, files=None, folder="", **sections):
    """A zip with ``annotations.json`` (default: two images, two boxes) and its images."""
    coco = {
        "images": [{"id": 1, "file_name": "a.png"}, {"id": 2, "file_name": "b.png"}],
        "categories": [{"id": 7, "name": "cat"}, {"id": 3, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 5, 20, 30]},
            {"id": 2, "image_id": 2, "category_id": 3, "bbox": [0, 0, 64, 48]},
        ],
        **sections,
    }
    if annotations is not None:
        coco["annotations"] = annotations
    files = {"a.png": png(), "b.png": png()} if files is None else files
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{folder}annotations.json", json.dumps(coco))
        for name, body in files.items():
            zf.writestr(f"{folder}{name}", body)
    return path


def scenes_zip(path, n: int = 6, seed: int = 0):
    """Built-in digit scenes written as a COCO zip: the format round trip."""
    return write_scenes_zip(path, n, seed)


def test_a_valid_zip_loads_boxes_as_corners_and_classes_in_id_order(tmp_path):
    data = load_zip(coco_zip(tmp_path / "ok.zip", folder="set/"))
    assert data.classes == ["dog", "cat"]  # category ids 3, 7
    assert data.targets[0] == {"boxes": [[10.0, 5.0, 30.0, 35.0]], "labels": [2]}
    assert data.targets[1] == {"boxes": [[0.0, 0.0, 64.0, 48.0]], "labels": [1]}
    assert [im.size for im in data.images] == [(64, 48), (64, 48)]


def test_scenes_survive_the_coco_round_trip(tmp_path):
    data = load_zip(scenes_zip(tmp_path / "scenes.zip"))
    for scene, target in zip(make_scenes(6), data.targets, strict=True):
        assert target["boxes"] == scene.boxes.tolist()  # whole pixels: exact in float
        assert [data.classes[label - 1] for label in target["labels"]] == [
            str(label - 1) for label in scene.labels
        ]


def test_large_images_shrink_with_their_boxes(tmp_path):
    data = load_zip(coco_zip(tmp_path / "ok.zip"), max_side=32)
    assert data.images[0].size == (32, 24)
    assert data.targets[0]["boxes"] == [[5.0, 2.5, 15.0, 17.5]]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not_zip", "not a valid zip file"),
        ("empty", "The zip is empty"),
        ("no_annotations", "no annotations.json.*a.png"),
        ("bad_json", "annotations.json is not valid JSON"),
        ("no_sections", "no annotations list"),
        ("unknown_category", "annotation 1 has category_id 99, which is not among the categories"),
        ("unknown_image", "annotation 1 refers to image_id 42"),
        ("outside", r"annotation 1 \(image 'a.png'\): bbox \[50, 5, 20, 30\] lies outside"),
        ("no_area", "bbox .* has no area"),
        ("bad_bbox", "bbox must be \\[x, y, width, height\\]"),
        ("unreadable", "'b.png' is not an image"),
        ("missing_image", "Image 'b.png' \\(image id 2\\) is not in the zip"),
        ("nothing_annotated", "has no annotations: there is nothing to learn"),
    ],
)
def test_each_problem_is_named(tmp_path, kind, message):
    path = tmp_path / f"{kind}.zip"
    box = {"id": 1, "image_id": 1, "category_id": 7, "bbox": [10, 5, 20, 30]}
    if kind == "not_zip":
        path.write_text("just text")
    elif kind == "empty":
        zipfile.ZipFile(path, "w").close()
    elif kind == "no_annotations":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("a.png", png())
    elif kind == "bad_json":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("annotations.json", "{not json")
    elif kind == "no_sections":
        coco_zip(path, annotations="oops")
    elif kind == "unknown_category":
        coco_zip(path, [{**box, "category_id": 99}])
    elif kind == "unknown_image":
        coco_zip(path, [{**box, "image_id": 42}])
    elif kind == "outside":
        coco_zip(path, [{**box, "bbox": [50, 5, 20, 30]}])
    elif kind == "no_area":
        coco_zip(path, [{**box, "bbox": [10, 5, 0, 30]}])
    elif kind == "bad_bbox":
        coco_zip(path, [{**box, "bbox": [10, 5, "wide", 30]}])
    elif kind == "unreadable":
        coco_zip(path, files={"a.png": png(), "b.png": b"not an image at all"})
    elif kind == "missing_image":
        coco_zip(path, files={"a.png": png()})
    elif kind == "nothing_annotated":
        coco_zip(path, [])
    with pytest.raises(CocoInputError if kind != "unreadable" else ValueError, match=message):
        load_zip(path)


def test_too_many_images_are_refused_before_decoding(tmp_path):
    with pytest.raises(CocoInputError, match="lists 2 images; the limit is 1"):
        load_zip(coco_zip(tmp_path / "ok.zip"), max_images=1)
