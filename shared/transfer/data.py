"""Images in, tensors out: the offline digits target, image folders and zip uploads.

Every image goes through the model's own eval transform (timm's data config), so training,
the app and a stock `transformers` pipeline all see the same pixels.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from timm.data import create_transform

from shared.errors import UserInputError

DIGITS = tuple(range(10))  # the offline target: all ten handwritten digits
MAX_PIXELS = 4096 * 4096  # larger images are refused before decoding (decompression bombs)
MAX_IMAGES = 2000  # per uploaded data set: keeps in-app training inside its time cap
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # zip bombs: refuse before extracting
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class TransferInputError(UserInputError):
    """Bad data from a person; the message names the file or folder and the problem."""


def digits(classes: Sequence[int]) -> tuple[list[Image.Image], np.ndarray, list[str]]:
    """scikit-learn's 8x8 digits of `classes` as grey PIL images, labels 0..k-1, names."""
    data = load_digits()
    keep = np.isin(data.target, classes)
    pixels = (data.images[keep] * (255 / 16)).round().astype(np.uint8)  # digits range 0..16
    images = [Image.fromarray(p, mode="L") for p in pixels]
    labels = np.searchsorted(np.array(sorted(classes)), data.target[keep])
    return images, labels, [str(c) for c in sorted(classes)]


View = tuple[int, int, int]  # left, top, side: the square of a person's image the model sees
DIGIT_SIZE = 8  # scikit-learn's digits are 8x8
INK = 0.1  # of the brightest pixel (after the paper's level is taken off): ink, not noise
PASTED_INK = 40  # grey levels (of 255): bilinear enlarging leaves fainter halos around strokes


def model_view(image: Image.Image, style: str | None = None) -> tuple[Image.Image, View]:
    """The part of a person's image the model sees, and where it lies in that image.

    For most models, timm's eval transform keeps the centre square (crop_pct 1.0). A model
    trained on scikit-learn's digits (`style` "digits") saw white strokes on black, filling the
    height of an 8x8 frame: a drawing or photo of a digit is turned into the same (light
    background inverted, cropped to its ink, made square, shrunk to 8x8), or it would look
    like nothing the model has seen.
    """
    if style == "digits" and image.size == (DIGIT_SIZE, DIGIT_SIZE) and image.mode == "L":
        return image, (0, 0, DIGIT_SIZE)  # already a scikit-learn digit: leave it as it is
    if style != "digits":
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        return image.crop((left, top, left + side, top + side)), (left, top, side)
    return digit_view(image)


def on_paper(image: Image.Image) -> Image.Image:
    """The image with its transparent pixels white: a sketch's strokes on an empty layer."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, image.convert("RGBA"))
    return image


def digit_view(image: Image.Image) -> tuple[Image.Image, View]:
    """A drawn or photographed digit as an 8x8 scikit-learn digit, and the square it came from."""
    grey = np.asarray(on_paper(image).convert("L"), dtype=np.float32)
    if np.median(grey) > 127:  # dark ink on light paper: make the ink the bright part
        grey = 255 - grey
    grey = grey - np.median(grey)
    if grey.max() <= 0:
        raise TransferInputError("The image is blank: draw a digit or upload a picture of one.")
    rows, cols = np.nonzero(grey >= INK * grey.max())
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    # the ink's longer side fills the frame, as the digits' height fills their 8 rows
    side = int(max(bottom - top, right - left))
    left = int((left + right - side) // 2)
    top = int((top + bottom - side) // 2)
    ink = Image.fromarray(grey.clip(0, 255).astype(np.uint8))
    square = ink.crop((left, top, left + side, top + side))  # outside the image: black
    small = np.asarray(square.resize((DIGIT_SIZE, DIGIT_SIZE), Image.BOX), dtype=np.float32)
    small = (small * (255 / max(small.max(), 1))).round().astype(np.uint8)
    return Image.fromarray(small), (left, top, side)


def pasted(
    digits: Sequence[Image.Image], rng: np.random.Generator, canvas: int = 128, sizes=(24, 40)
) -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Digits enlarged to random sides in `sizes` and pasted at random places of a dark
    `canvas`, apart from each other, and the box of each one's ink (x1 y1 exclusive): where a
    box that finds it should be.

    Ink is grey >= PASTED_INK, the detection scenes' rule for their boxes, kept apart from the
    INK share that views and boxes find ink by, so a box is not scored by its own rule."""
    pixels = np.zeros((canvas, canvas), np.uint8)
    taken, boxes = np.zeros_like(pixels, bool), []
    for digit in digits:
        side = int(rng.integers(sizes[0], sizes[1] + 1))
        tile = np.asarray(digit.convert("L").resize((side, side), Image.BILINEAR))
        for _attempt in range(100):  # a free place is found within a few tries on 128 px
            x, y = (int(v) for v in rng.integers(0, canvas - side + 1, 2))
            if not taken[y : y + side, x : x + side].any():
                break
        else:
            raise ValueError(f"no room for {len(digits)} digits on a {canvas} px canvas")
        pixels[y : y + side, x : x + side] = tile
        taken[y : y + side, x : x + side] = True
        ys, xs = np.nonzero(tile >= PASTED_INK)
        boxes.append(
            (x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1)
        )
    return Image.fromarray(pixels), boxes


def encode(images: Sequence[Image.Image], data_config: dict) -> torch.Tensor:
    """Stack images through the model's eval transform; grey and RGBA become RGB."""
    transform = create_transform(**data_config, is_training=False)
    return torch.stack([transform(image.convert("RGB")) for image in images])


def split(labels: np.ndarray, val: float, test: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified train / val / test indices."""
    index = np.arange(len(labels))
    if test > 0:
        rest, test_idx = train_test_split(index, test_size=test, stratify=labels, random_state=seed)
    else:
        rest, test_idx = index, index[:0]
    train_idx, val_idx = train_test_split(
        rest, test_size=val / (1 - test), stratify=labels[rest], random_state=seed
    )
    return train_idx, val_idx, test_idx


def held_out_digits(
    test_index: Sequence[int] | None, count: int
) -> list[tuple[int, int, Image.Image]]:
    """The first digit of each class 0, 1, ... in `test_index` (a model's metrics.json names
    the digits it never saw; without one, the default split's test digits): up to `count` of
    them as (index into scikit-learn's digits, label, 8x8 image)."""
    images, labels, _ = digits(DIGITS)
    test_index = test_index or split(labels, 0.2, 0.2, seed=0)[2]
    picked = [next(int(i) for i in test_index if labels[i] == d) for d in DIGITS][:count]
    return [(i, int(labels[i]), images[i]) for i in picked]


def few_labels(labels: np.ndarray, index: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """`per_class` indices of each class drawn from `index`: the few-label setting."""
    rng = np.random.default_rng(seed)
    picked = [
        rng.choice(index[labels[index] == c], per_class, replace=False) for c in np.unique(labels)
    ]
    return np.concatenate(picked)


def open_image(path: str | Path, name: str | None = None) -> Image.Image:
    """Open and fully decode one image, refusing non-images, corrupt files and bombs."""
    name = name or Path(path).name
    try:
        image = Image.open(path)  # reads the header only, so the size check below is cheap
    except UnidentifiedImageError:
        raise TransferInputError(f"{name!r} is not an image PIL can read.") from None
    except Image.DecompressionBombError:
        raise TransferInputError(
            f"{name!r} is too large to decode safely (limit {MAX_PIXELS:,} pixels)."
        ) from None
    except OSError as err:
        raise TransferInputError(f"{name!r} could not be opened: {err}.") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise TransferInputError(
            f"{name!r} is {width}x{height} pixels: too large to decode safely "
            f"(limit {MAX_PIXELS:,} pixels). Resize it first."
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as err:
        raise TransferInputError(f"{name!r} is corrupted or truncated ({err}).") from None
    return image


def _hidden(path: Path) -> bool:
    """Dot files and folders, and zip tools' own (``__MACOSX``): never a class or an image."""
    return path.name.startswith((".", "__"))


def image_folder(root: Path, max_images: int = MAX_IMAGES) -> tuple[list, np.ndarray, list[str]]:
    """Read ``root/<class>/<image>``: images, labels, class names (sorted folder names)."""
    classes = sorted(p for p in Path(root).iterdir() if p.is_dir() and not _hidden(p))
    if len(classes) < 2:
        found = ", ".join(p.name for p in classes) or "none"
        raise TransferInputError(
            f"Need at least two class folders (one subfolder per class); found: {found}."
        )
    images, labels = [], []
    for label, folder in enumerate(classes):
        files = sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p))
        if not files:
            raise TransferInputError(f"Class folder {folder.name!r} holds no images.")
        for file in files:
            if len(images) >= max_images:
                raise TransferInputError(f"Too many images: the limit is {max_images}.")
            images.append(open_image(file, f"{folder.name}/{file.name}"))
            labels.append(label)
    return images, np.array(labels), [p.name for p in classes]


def extract_zip(archive: Path, dest: Path, max_bytes: int = MAX_UNZIPPED_BYTES) -> Path:
    """Safely extract a zip of class folders; return the folder that holds the classes."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()  # folders too: an empty class folder must be seen as one
            for member in members:
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                if member.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    raise TransferInputError(
                        f"The zip holds an unsafe path {member.filename!r}; refusing to extract."
                    )
            if sum(m.file_size for m in members) > max_bytes:
                raise TransferInputError(
                    f"The zip unpacks to more than {max_bytes // 2**20} MB; refusing to extract."
                )
            zf.extractall(dest, members)
    except zipfile.BadZipFile:
        raise TransferInputError("The upload is not a valid zip file.") from None
    root = Path(dest)
    entries = [p for p in root.iterdir() if not _hidden(p)]
    if len(entries) == 1 and entries[0].is_dir() and any(p.is_dir() for p in entries[0].iterdir()):
        root = entries[0]  # a zip of one folder that holds the class folders
    if not any(p.is_dir() and not _hidden(p) for p in root.iterdir()):
        raise TransferInputError("The zip has no class folders: put each class in its own folder.")
    return root


def hub_dataset(
    name: str, split_name: str = "train", image_column: str = "image", label_column: str = "label"
) -> tuple[list, np.ndarray, list[str]]:
    """An image-classification dataset from the Hub via `datasets` (online only)."""
    from datasets import load_dataset  # imported here: only this online path needs it

    return from_dataset(load_dataset(name, split=split_name), image_column, label_column)


def from_dataset(
    dataset, image_column: str, label_column: str
) -> tuple[list, np.ndarray, list[str]]:
    """Images, labels and class names from a `datasets.Dataset` with a ClassLabel column."""
    missing = [c for c in (image_column, label_column) if c not in dataset.column_names]
    if missing:
        raise TransferInputError(
            f"Column(s) {', '.join(missing)} not found; columns are: "
            f"{', '.join(dataset.column_names)}."
        )
    if len(dataset) > MAX_IMAGES:
        dataset = dataset.shuffle(seed=0).select(range(MAX_IMAGES))
    feature = dataset.features[label_column]
    labels = np.array(dataset[label_column])
    names = getattr(feature, "names", None)
    if not names:  # plain values, not a ClassLabel: the classes are the values, sorted as such
        values, labels = np.unique(labels, return_inverse=True)
        names = list(values)
    return list(dataset[image_column]), labels, [str(n) for n in names]
