"""Your own detection data: a zip of images with COCO annotations, read without extracting.

    photos.zip
    ├── annotations.json   {"images": [{"id", "file_name"}], "categories": [{"id", "name"}],
    │                       "annotations": [{"image_id", "category_id", "bbox": [x, y, w, h]}]}
    └── images/1.jpg ...   file_name is relative to annotations.json (a bare name also works)

Every problem is named for the person who made the zip: no annotations file, a box outside its
image, an unknown category or image id, an unreadable image, an empty zip. The CLI and the app
share this loader.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from shared.detect.model import DetectInputError
from shared.transfer.data import MAX_UNZIPPED_BYTES, open_image

ANNOTATIONS = "annotations.json"
MAX_IMAGES = 2000  # per zip; the app asks for fewer
EDGE_SLACK = 1.0  # pixels a box may overshoot its image (rounding in annotation tools); clipped


class CocoInputError(DetectInputError):
    """A COCO zip that cannot be used; the message names the file, id or box."""


@dataclass
class CocoData:
    images: list[Image.Image]
    targets: list[dict]  # {"boxes": [[x0, y0, x1, y1], ...], "labels": [1..K, ...]}
    classes: list[str]  # category names, in category-id order; label i + 1 is classes[i]


def load_zip(
    path: str | Path, max_images: int = MAX_IMAGES, max_side: int | None = None
) -> CocoData:
    """Read a COCO zip. Images larger than `max_side` are shrunk, their boxes with them."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _read(zf, max_images, max_side)
    except zipfile.BadZipFile:
        raise CocoInputError("The upload is not a valid zip file.") from None


def _read(zf: zipfile.ZipFile, max_images: int, max_side: int | None) -> CocoData:
    files = {
        m.filename: m
        for m in zf.infolist()
        if not m.is_dir() and not PurePosixPath(m.filename).name.startswith((".", "__"))
    }
    if not files:
        raise CocoInputError(f"The zip is empty: it needs {ANNOTATIONS} and the images.")
    if sum(m.file_size for m in files.values()) > MAX_UNZIPPED_BYTES:
        raise CocoInputError(
            f"The zip unpacks to more than {MAX_UNZIPPED_BYTES // 2**20} MB; refusing to read it."
        )
    found = sorted((n for n in files if PurePosixPath(n).name == ANNOTATIONS), key=len)
    if not found:
        listing = ", ".join(sorted(files)[:8]) + (", ..." if len(files) > 8 else "")
        raise CocoInputError(f"The zip has no {ANNOTATIONS} (COCO format); it holds: {listing}.")
    try:
        coco = json.loads(zf.read(found[0]))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CocoInputError(f"{found[0]} is not valid JSON: {err}.") from None
    root = PurePosixPath(found[0]).parent
    images, categories, annotations = _sections(coco)
    classes = [str(c["name"]) for c in categories]
    label_of = {c["id"]: i + 1 for i, c in enumerate(categories)}
    if len(images) > max_images:
        raise CocoInputError(
            f"{ANNOTATIONS} lists {len(images)} images; the limit is {max_images}."
        )
    by_id, pictures = {}, []
    for entry in images:
        name = _member(files, root, entry)
        picture = open_image(io.BytesIO(zf.read(files[name])), name)
        by_id[entry["id"]] = (len(pictures), name, picture.size)
        pictures.append(picture)
    boxes = [[] for _ in pictures]
    labels = [[] for _ in pictures]
    for n, ann in enumerate(annotations):
        if ann.get("iscrowd"):
            continue  # COCO's crowd regions are not single objects
        where = f"annotation {ann.get('id', n)}"
        if ann.get("image_id") not in by_id:
            raise CocoInputError(f"{where} refers to image_id {ann.get('image_id')!r}, not listed.")
        if ann.get("category_id") not in label_of:
            known = ", ".join(f"{c['id']}: {c['name']}" for c in categories)
            raise CocoInputError(
                f"{where} has category_id {ann.get('category_id')!r}, which is not among the "
                f"categories ({known})."
            )
        index, name, size = by_id[ann["image_id"]]
        boxes[index].append(_box(ann.get("bbox"), size, f"{where} (image {name!r})"))
        labels[index].append(label_of[ann["category_id"]])
    if not any(labels):
        raise CocoInputError(f"{ANNOTATIONS} has no annotations: there is nothing to learn.")
    targets = [{"boxes": b, "labels": lab} for b, lab in zip(boxes, labels, strict=True)]
    if max_side:
        shrunk = [_shrink(p, t, max_side) for p, t in zip(pictures, targets, strict=True)]
        pictures, targets = [p for p, _ in shrunk], [t for _, t in shrunk]
    return CocoData(pictures, targets, classes)


def _sections(coco) -> tuple[list, list, list]:
    if not isinstance(coco, dict):
        raise CocoInputError(f"{ANNOTATIONS} must hold one JSON object with COCO's sections.")
    missing = [
        k for k in ("images", "annotations", "categories") if not isinstance(coco.get(k), list)
    ]
    if missing:
        raise CocoInputError(f"{ANNOTATIONS} has no {', '.join(missing)} list (COCO format).")
    for key, fields in (("images", ("id", "file_name")), ("categories", ("id", "name"))):
        for entry in coco[key]:
            if not isinstance(entry, dict) or any(f not in entry for f in fields):
                raise CocoInputError(
                    f"Each of {key} needs {' and '.join(fields)}: got {entry!r:.80}."
                )
    if not coco["categories"]:
        raise CocoInputError(f"{ANNOTATIONS} lists no categories.")
    if not all(isinstance(a, dict) for a in coco["annotations"]):
        raise CocoInputError("Each annotation must be an object with image_id, category_id, bbox.")
    return (
        coco["images"],
        sorted(coco["categories"], key=lambda c: str(c["id"])),
        coco["annotations"],
    )


def _member(files: dict, root: PurePosixPath, entry: dict) -> str:
    """The zip member of an image entry: relative to annotations.json, else by its bare name."""
    file_name = str(entry["file_name"])
    candidate = str(root / file_name) if str(root) != "." else file_name
    if candidate in files:
        return candidate
    bare = [n for n in files if PurePosixPath(n).name == PurePosixPath(file_name).name]
    if len(bare) == 1:
        return bare[0]
    raise CocoInputError(f"Image {file_name!r} (image id {entry['id']!r}) is not in the zip.")


def _box(bbox, size: tuple[int, int], where: str) -> list[float]:
    """COCO's [x, y, width, height] as [x0, y0, x1, y1], checked against the image."""
    if (
        not isinstance(bbox, list)
        or len(bbox) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
    ):
        raise CocoInputError(f"{where}: bbox must be [x, y, width, height], got {bbox!r:.60}.")
    x, y, w, h = (float(v) for v in bbox)
    width, height = size
    if w <= 0 or h <= 0:
        raise CocoInputError(f"{where}: bbox {bbox} has no area (width and height must be > 0).")
    if (
        x < -EDGE_SLACK
        or y < -EDGE_SLACK
        or x + w > width + EDGE_SLACK
        or y + h > height + EDGE_SLACK
    ):
        raise CocoInputError(
            f"{where}: bbox {bbox} lies outside the image ({width}x{height} pixels)."
        )
    return [max(x, 0.0), max(y, 0.0), min(x + w, width), min(y + h, height)]


def _shrink(picture: Image.Image, target: dict, max_side: int) -> tuple[Image.Image, dict]:
    scale = max_side / max(picture.size)
    if scale >= 1:
        return picture, target
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    boxes = [[v * scale for v in box] for box in target["boxes"]]
    return picture.resize(size, Image.BILINEAR), {**target, "boxes": boxes}


def write_scenes_zip(path: str | Path, n: int = 6, seed: int = 0) -> Path:
    """`n` built-in digit scenes written as a COCO zip that `load_zip` reads: the round trip the
    tests check, and a fine-tune upload for the load benchmark."""
    from shared.detect.scenes import make_scenes

    coco: dict = {"images": [], "annotations": [], "categories": []}
    coco["categories"] = [{"id": d, "name": str(d)} for d in range(10)]
    with zipfile.ZipFile(path, "w") as zf:
        for i, scene in enumerate(make_scenes(n, seed=seed)):
            buffer = io.BytesIO()
            scene.pil().save(buffer, format="PNG")
            zf.writestr(f"images/{i}.png", buffer.getvalue())
            coco["images"].append({"id": i, "file_name": f"images/{i}.png"})
            for (x0, y0, x1, y1), label in zip(scene.boxes, scene.labels, strict=True):
                bbox = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
                coco["annotations"].append(
                    {"id": len(coco["annotations"]), "image_id": i, "category_id": int(label) - 1,
                     "bbox": bbox}
                )  # fmt: skip
        zf.writestr("annotations.json", json.dumps(coco))
    return Path(path)
