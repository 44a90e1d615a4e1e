"""Transfer data: exact pixels of a person's digit, the eval transform, splits and uploads."""

from __future__ import annotations

import struct
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from sklearn.datasets import load_digits

from shared.transfer import data
from shared.transfer.data import TransferInputError

# --- a person's digit as an 8x8 scikit-learn digit ---------------------------------------------

# a 4-wide, 8-high stroke at rows 4..11, columns 6..9 of a 16x16 image: its square is rows and
# columns 4..11, where the stroke is columns 2..5, at full brightness
STROKE = (slice(4, 12), slice(6, 10))
SEEN = np.zeros((8, 8), np.uint8)
SEEN[:, 2:6] = 255


def canvas(background, ink):
    """A 16x16 grey image of `background` with the stroke drawn in `ink`."""
    pixels = np.full((16, 16), background, np.uint8)
    pixels[STROKE] = ink
    return Image.fromarray(pixels)


@pytest.mark.parametrize(
    ("background", "ink"),
    [
        (0, 200),  # light ink on black, as the digits are
        (30, 230),  # ... on a dark grey: the paper's level is taken off
        (127, 255),  # a median of 127 is dark paper: not inverted
        (128, 0),  # a median of 128 is light paper: inverted
        (255, 55),  # dark ink on white paper
    ],
)
def test_a_stroke_becomes_the_same_digit_on_any_paper(background, ink):
    seen, view = data.model_view(canvas(background, ink), "digits")
    assert view == (4, 4, 8)
    assert seen.mode == "L" and np.array_equal(np.asarray(seen), SEEN)


def test_pixels_darker_than_the_paper_are_black_not_wrapped():
    pixels = np.full((16, 16), 100, np.uint8)
    pixels[STROKE] = 250
    pixels[4:12, 4] = 40  # inside the square, darker than the paper
    seen, view = data.model_view(Image.fromarray(pixels), "digits")
    assert view == (4, 4, 8) and np.array_equal(np.asarray(seen), SEEN)


def test_faint_specks_under_a_tenth_of_the_ink_are_not_part_of_the_digit():
    pixels = np.zeros((16, 16), np.uint8)
    pixels[STROKE] = 200
    pixels[2, 7] = 20  # exactly a tenth of the brightest: ink
    pixels[14, 7] = 19  # just under: noise
    _, view = data.model_view(Image.fromarray(pixels), "digits")
    # rows 2..11 (10 high), columns 6..9: a 10-pixel square centred on them
    assert view == (3, 2, 10)


def test_a_wide_stroke_is_centred_in_a_square_that_overhangs_the_image():
    pixels = np.zeros((16, 16), np.uint8)
    pixels[2:5, 1:11] = 100  # 3 high, 10 wide
    seen, view = data.model_view(Image.fromarray(pixels), "digits")
    assert view == (1, -2, 10)  # top (2 + 5 - 10) // 2: rounded down, above the image
    # the square's rows 4..6 hold the stroke; shrunk 10 -> 8, each row averages the square's rows
    # whose centres lie in its 1.25-row span: rows 3 and 4 all stroke, row 5 half of it
    expected = np.zeros((8, 8), np.uint8)
    expected[3], expected[4], expected[5] = 255, 255, 128
    assert np.array_equal(np.asarray(seen), expected)


def test_a_tall_stroke_at_the_left_edge_overhangs_to_the_left():
    pixels = np.zeros((16, 16), np.uint8)
    pixels[2:12, 0] = 200  # 10 high, 1 wide, in column 0
    seen, view = data.model_view(Image.fromarray(pixels), "digits")
    assert view == (-5, 2, 10)  # left (0 + 1 - 10) // 2: rounded down, not towards zero
    expected = np.zeros((8, 8), np.uint8)
    expected[:, 4] = 255
    assert np.array_equal(np.asarray(seen), expected)


def test_shrinking_averages_blocks_into_grey_levels_before_brightening():
    pixels = np.zeros((16, 16), np.uint8)
    pixels[0, 0] = pixels[15, 15] = 255  # the ink spans the image: 2x2 blocks become pixels
    pixels[6, 6] = 6  # a block averaging 1.5: grey level 2
    pixels[9, 0], pixels[9, 1] = 100, 50  # a block averaging 37.5: grey level 38
    seen, view = data.model_view(Image.fromarray(pixels), "digits")
    assert view == (0, 0, 16)
    # the corners average 63.75, level 64, the brightest: each level is scaled by 255 / 64
    expected = np.zeros((8, 8), np.uint8)
    expected[0, 0] = expected[7, 7] = 255
    expected[3, 3] = 8  # 2 * 255 / 64 = 7.97
    expected[4, 0] = 151  # 38 * 255 / 64 = 151.4
    assert np.array_equal(np.asarray(seen), expected)


def test_the_faintest_ink_is_still_a_digit():
    pixels = np.zeros((16, 16), np.uint8)
    pixels[5, 9] = 1
    seen, view = data.model_view(Image.fromarray(pixels), "digits")
    assert view == (9, 5, 1) and np.array_equal(np.asarray(seen), np.full((8, 8), 255))


@pytest.mark.parametrize("level", [0, 90, 255])
def test_a_blank_image_is_refused_by_name(level):
    with pytest.raises(TransferInputError) as info:
        data.model_view(Image.new("L", (16, 16), level), "digits")
    assert str(info.value) == "The image is blank: draw a digit or upload a picture of one."


@pytest.mark.parametrize(
    ("mode", "clear", "ink"),
    [("RGBA", (0, 0, 0, 0), (0, 0, 0, 255)), ("LA", (0, 0), (0, 255)), ("PA", (1, 0), (0, 255))],
)
def test_transparent_pixels_are_paper(mode, clear, ink):
    image = Image.new(mode, (16, 16), clear)  # transparent black: paper, not ink
    if mode == "PA":
        image.putpalette([0, 0, 0] * 256)  # every palette colour black: only alpha tells
    for y in range(4, 12):
        for x in range(6, 10):
            image.putpixel((x, y), ink)
    seen, view = data.model_view(image, "digits")
    assert view == (4, 4, 8) and np.array_equal(np.asarray(seen), SEEN)


def test_a_transparent_colour_index_is_paper_too():
    pixels = np.zeros((16, 16), np.uint8)  # 0 is the transparent value: white paper
    pixels[4:12, 6:8] = 50  # dark ink
    pixels[4:12, 8:10] = 150  # lighter ink
    image = Image.fromarray(pixels)
    image.info["transparency"] = 0
    seen, view = data.model_view(image, "digits")
    expected = np.zeros((8, 8), np.uint8)
    expected[:, 2:4] = 255  # 255 - 50 = 205, the brightest
    expected[:, 4:6] = 131  # 255 - 150 = 105; 105 * 255 / 205 = 130.6
    assert view == (4, 4, 8) and np.array_equal(np.asarray(seen), expected)


def test_only_a_grey_8x8_image_counts_as_a_ready_digit():
    one = np.zeros((8, 8), np.uint8)
    one[:, 3:5] = 255
    ready = Image.fromarray(one)
    assert data.model_view(ready, "digits") == (ready, (0, 0, 8))
    colour = ready.convert("RGB")  # 8x8 but RGB: prepared like any drawing, to the same pixels
    seen, view = data.model_view(colour, "digits")
    assert seen is not colour and seen.mode == "L" and view == (0, 0, 8)
    assert np.array_equal(np.asarray(seen), one)
    wide = Image.fromarray(np.pad(one, ((0, 0), (0, 8))))  # grey but 8x16: also prepared
    seen, view = data.model_view(wide, "digits")
    assert view == (0, 0, 8) and np.array_equal(np.asarray(seen), one)


@pytest.mark.parametrize(
    ("size", "view"),
    [
        ((60, 40), (10, 0, 40)),
        ((61, 40), (10, 0, 40)),
        ((41, 60), (0, 9, 41)),
        ((16, 16), (0, 0, 16)),
        ((8, 8), (0, 0, 8)),
    ],
)
def test_other_models_see_the_centre_square_of_the_image(size, view):
    pixels = np.arange(size[0] * size[1], dtype=np.int32).reshape(size[1], size[0]) % 251
    image = Image.fromarray(pixels.astype(np.uint8))
    seen, got = data.model_view(image, None)
    left, top, side = view
    assert got == view
    assert np.array_equal(np.asarray(seen), pixels[top : top + side, left : left + side])


# --- scikit-learn's digits, encoding, splits --------------------------------------------------


def test_digits_of_some_classes_are_relabelled_in_sorted_order():
    images, labels, names = data.digits((7, 3))
    target = load_digits().target
    assert names == ["3", "7"]
    assert labels.tolist() == [0 if t == 3 else 1 for t in target if t in (3, 7)]
    assert len(images) == len(labels) == 183 + 179
    first = load_digits().images[np.flatnonzero(np.isin(target, (3, 7)))[0]]
    pixels = np.asarray(images[0])
    assert images[0].mode == "L" and pixels.dtype == np.uint8
    # 0..16 becomes 0..255, rounded: 16 -> 255, 12 -> 191, 8 -> 128 (127.5), 1 -> 16
    for level, value in [(0, 0), (16, 255), (12, 191), (8, 128), (1, 16)]:
        assert np.all(pixels[first == level] == value)
    assert np.array_equal(pixels, np.round(first * 255 / 16).astype(np.uint8))


def test_encode_applies_the_eval_transform_to_rgb(tmp_path):
    grey = np.array([[0, 51], [102, 255]], np.uint8).repeat(2, 0).repeat(2, 1)  # 4x4
    rgba = Image.new("RGBA", (4, 4), (255, 0, 51, 0))  # alpha is dropped, not blended
    config = {
        "input_size": (3, 4, 4),
        "interpolation": "bilinear",
        "mean": (0.0, 0.0, 0.0),
        "std": (1.0, 1.0, 1.0),
        "crop_pct": 1.0,
        "crop_mode": "center",
    }
    x = data.encode([Image.fromarray(grey), rgba], config)
    assert x.shape == (2, 3, 4, 4) and x.dtype == torch.float32
    for channel in range(3):
        assert torch.allclose(x[0, channel], torch.tensor(grey / 255, dtype=torch.float32))
    assert torch.allclose(x[1, :, 0, 0], torch.tensor([1.0, 0.0, 0.2]))
    again = data.encode([Image.fromarray(grey)], {**config, "mean": (0.5,) * 3, "std": (0.5,) * 3})
    assert torch.allclose(again[0], x[0] * 2 - 1)  # the model's own normalisation


def test_split_is_stratified_disjoint_and_sized_by_fraction():
    labels = np.array([0] * 80 + [1] * 20)
    train, val, test = data.split(labels, val=0.2, test=0.1, seed=0)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(100))
    assert [np.bincount(labels[part]).tolist() for part in (train, val, test)] == [
        [56, 14],
        [16, 4],
        [8, 2],
    ]
    again = data.split(labels, val=0.2, test=0.1, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val, test), strict=True))
    other = data.split(labels, val=0.2, test=0.1, seed=1)
    assert not np.array_equal(other[2], test)


def test_split_without_a_test_set():
    labels = np.array([0, 1] * 10)
    train, val, test = data.split(labels, val=0.2, test=0.0, seed=0)
    assert len(test) == 0 and test.dtype == train.dtype
    assert [np.bincount(labels[p]).tolist() for p in (train, val)] == [[8, 8], [2, 2]]


def test_few_labels_draws_that_many_of_each_class_from_the_index():
    labels = np.repeat([0, 1, 2], 10)
    index = np.arange(1, 30)  # sample 0 (a class 0) is not in the training index
    few = data.few_labels(labels, index, 3, seed=0)
    assert labels[few].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert len(set(few.tolist())) == 9 and set(few.tolist()) <= set(index.tolist())
    assert np.array_equal(data.few_labels(labels, index, 3, seed=0), few)
    assert not np.array_equal(data.few_labels(labels, index, 3, seed=1), few)
    every = data.few_labels(labels, index, 9, seed=0)  # all of class 0 that the index holds
    assert sorted(every[:9].tolist()) == list(range(1, 10))
    odd = np.arange(1, 30, 2)  # 5 of each class: drawing all 5 gives exactly these
    assert sorted(data.few_labels(labels, odd, 5, seed=0).tolist()) == odd.tolist()


# --- opening images ------------------------------------------------------------------------------


def png_header(path, width, height):
    """A PNG whose header claims width x height pixels (the pixels are never written)."""

    def chunk(kind, body):
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def png(path, value=0, size=(3, 2)):
    Image.new("L", size, value).save(path)
    return path


def test_a_good_image_is_decoded(tmp_path):
    image = data.open_image(png(tmp_path / "a.png", 77))
    assert image.size == (3, 2) and np.all(np.asarray(image) == 77)


@pytest.mark.parametrize(
    ("width", "height", "message"),
    [
        (20_000, 20_000, "'b.png' is too large to decode safely (limit 16,777,216 pixels)."),
        (
            4096,
            4097,
            "'b.png' is 4096x4097 pixels: too large to decode safely "
            "(limit 16,777,216 pixels). Resize it first.",
        ),
    ],
)
def test_huge_images_are_refused_before_decoding(tmp_path, monkeypatch, width, height, message):
    # PIL's own bomb limit at its default: the apps lower it for Gradio's decoding, and which
    # check fires first would then depend on which test modules imported them
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)
    with pytest.raises(TransferInputError) as info:
        data.open_image(png_header(tmp_path / "b.png", width, height))
    assert str(info.value) == message


def test_the_largest_allowed_image_is_decoded(tmp_path):
    # 4096 x 4096 passes the size check; its missing pixels then fail to decode
    with pytest.raises(TransferInputError) as info:
        data.open_image(png_header(tmp_path / "b.png", 4096, 4096), "cats/b.png")
    assert str(info.value).startswith("'cats/b.png' is corrupted or truncated (")


def test_open_image_messages_name_the_file(tmp_path):
    (tmp_path / "x.png").write_text("hello")
    with pytest.raises(TransferInputError) as info:
        data.open_image(tmp_path / "x.png")
    assert str(info.value) == "'x.png' is not an image PIL can read."
    with pytest.raises(TransferInputError) as info:
        data.open_image(str(tmp_path / "x.png"), "cats/x.png")
    assert str(info.value) == "'cats/x.png' is not an image PIL can read."
    with pytest.raises(TransferInputError) as info:
        data.open_image(tmp_path / "gone.png")
    assert str(info.value) == (
        f"'gone.png' could not be opened: [Errno 2] No such file or directory: "
        f"'{tmp_path / 'gone.png'}'."
    )
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "t.png")
    (tmp_path / "t.png").write_bytes((tmp_path / "t.png").read_bytes()[:2000])
    with pytest.raises(TransferInputError) as info:
        data.open_image(tmp_path / "t.png")
    assert str(info.value).startswith("'t.png' is corrupted or truncated (")
    assert str(info.value).endswith(").")


# --- image folders and zips ----------------------------------------------------------------------


def test_image_folder_reads_sorted_classes_and_skips_hidden_files(tmp_path):
    png(tmp_path / "readme.png")  # not in a class folder: not a class
    (tmp_path / ".git").mkdir()  # hidden: not a class
    for name, value in [("dog/b.png", 30), ("dog/a.png", 20), ("cat/z.png", 10)]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        png(tmp_path / name, value)
    (tmp_path / "cat" / "inner").mkdir()
    png(tmp_path / "cat" / "inner" / "y.png", 15)  # nested: still this class
    (tmp_path / "cat" / ".DS_Store").write_text("junk")
    (tmp_path / "dog" / "__thumb.png").write_text("junk")
    images, labels, names = data.image_folder(tmp_path)
    assert names == ["cat", "dog"] and labels.tolist() == [0, 0, 1, 1]
    assert [int(np.asarray(im)[0, 0]) for im in images] == [15, 10, 20, 30]


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ((), "Need at least two class folders (one subfolder per class); found: none."),
        (("cat",), "Need at least two class folders (one subfolder per class); found: cat."),
    ],
)
def test_too_few_classes_are_named(tmp_path, classes, message):
    (tmp_path / ".hidden").mkdir()
    for name in classes:
        (tmp_path / name).mkdir()
        png(tmp_path / name / "a.png")
    with pytest.raises(TransferInputError) as info:
        data.image_folder(tmp_path)
    assert str(info.value) == message


def test_a_class_of_hidden_files_only_holds_no_images(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
    png(tmp_path / "cat" / "a.png")
    (tmp_path / "dog" / ".a.png").write_text("")
    with pytest.raises(TransferInputError) as info:
        data.image_folder(tmp_path)
    assert str(info.value) == "Class folder 'dog' holds no images."


def test_a_zip_made_by_macos_finder_reads_as_its_classes(tmp_path):
    archive = tmp_path / "pets.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, value in (("cat/a.png", 10), ("dog/b.png", 20)):
            png(tmp_path / "tmp.png", value)
            zf.write(tmp_path / "tmp.png", name)
        zf.writestr("__MACOSX/cat/._a.png", b"\x00\x05\x16\x07 resource fork")
        zf.writestr(".DS_Store", b"junk")
    root = data.extract_zip(archive, tmp_path / "out")
    images, labels, names = data.image_folder(root)
    assert names == ["cat", "dog"] and labels.tolist() == [0, 1]
    assert [int(np.asarray(im)[0, 0]) for im in images] == [10, 20]


def test_a_bad_image_in_a_class_is_named_with_its_class(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        png(tmp_path / name / "a.png")
    (tmp_path / "dog" / "b.png").write_text("not a picture")
    with pytest.raises(TransferInputError) as info:
        data.image_folder(tmp_path)
    assert str(info.value) == "'dog/b.png' is not an image PIL can read."


def test_image_folder_allows_exactly_the_limit(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(2):
            png(tmp_path / name / f"{i}.png")
    assert len(data.image_folder(tmp_path, max_images=4)[0]) == 4
    with pytest.raises(TransferInputError) as info:
        data.image_folder(tmp_path, max_images=3)
    assert str(info.value) == "Too many images: the limit is 3."


def test_the_default_limit_is_2000_images(tmp_path):
    png(tmp_path / "tiny.png", size=(1, 1))
    tiny = (tmp_path / "tiny.png").read_bytes()
    for name, count in (("a", 1000), ("b", 1001)):
        (tmp_path / "set" / name).mkdir(parents=True)
        for i in range(count):
            (tmp_path / "set" / name / f"{i}.png").write_bytes(tiny)
    with pytest.raises(TransferInputError) as info:
        data.image_folder(tmp_path / "set")
    assert str(info.value) == "Too many images: the limit is 2000."


def zip_of(path, names):
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.writestr(name, b"" if name.endswith("/") else b"x")
    return path


@pytest.mark.parametrize(
    "name", ["/etc/x", "\\evil.png", "cat/../../x", "cat\\..\\..\\x", "C:/x.png", "c:x"]
)
def test_unsafe_zip_paths_are_refused_before_extracting(tmp_path, name):
    archive = zip_of(tmp_path / "a.zip", ["cat/a.png", name])
    with pytest.raises(TransferInputError) as info:
        data.extract_zip(archive, tmp_path / "out")
    assert str(info.value) == f"The zip holds an unsafe path {name!r}; refusing to extract."
    assert not (tmp_path / "out").exists()


def test_zip_size_limit_counts_the_unpacked_bytes(tmp_path):
    archive = tmp_path / "big.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cat/a.bin", bytes(2**20 // 2))
        zf.writestr("dog/b.bin", bytes(2**20 // 2 + 1))  # 1 MiB and a byte in all
    with pytest.raises(TransferInputError) as info:
        data.extract_zip(archive, tmp_path / "out", max_bytes=2**20)
    assert str(info.value) == "The zip unpacks to more than 1 MB; refusing to extract."
    assert not (tmp_path / "out").exists()
    root = data.extract_zip(archive, tmp_path / "ok", max_bytes=2**20 + 1)
    assert (root / "dog" / "b.bin").stat().st_size == 2**20 // 2 + 1


def test_the_default_zip_limit_is_200_mb(tmp_path):
    archive = zip_of(tmp_path / "bomb.zip", ["cat/a.png"])
    raw = bytearray(archive.read_bytes())
    central = raw.index(b"PK\x01\x02")  # the central directory entry: what infolist() reads
    raw[central + 24 : central + 28] = struct.pack("<I", 200 * 2**20 + 1)  # uncompressed size
    archive.write_bytes(bytes(raw))
    assert zipfile.ZipFile(archive).infolist()[0].file_size == 200 * 2**20 + 1
    with pytest.raises(TransferInputError) as info:
        data.extract_zip(archive, tmp_path / "out")
    assert str(info.value) == "The zip unpacks to more than 200 MB; refusing to extract."


@pytest.mark.parametrize(
    ("names", "root"),
    [
        (["cat/a.png", "dog/b:1.png"], "."),
        (["pets/cat/a.png", "pets/dog/", "__MACOSX/pets/._a", ".DS_Store"], "pets"),
        (["only/a.png", "only/b.png"], "."),  # one class folder: the caller says it is too few
        (["pets/cat/a.png", "pets/dog/b.png", "more/x.png"], "."),
    ],
)
def test_zip_root_is_the_folder_that_holds_the_classes(tmp_path, names, root):
    got = data.extract_zip(zip_of(tmp_path / "a.zip", names), tmp_path / "out")
    assert got.resolve() == (tmp_path / "out" / root).resolve()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a.png", "b.png"], "The zip has no class folders: put each class in its own folder."),
        (["__MACOSX/a/b.png"], "The zip has no class folders: put each class in its own folder."),
        ([".git/x", "a.png"], "The zip has no class folders: put each class in its own folder."),
    ],
)
def test_zip_without_class_folders_is_refused(tmp_path, names, message):
    with pytest.raises(TransferInputError) as info:
        data.extract_zip(zip_of(tmp_path / "a.zip", names), tmp_path / "out")
    assert str(info.value) == message


def test_not_a_zip_is_named(tmp_path):
    (tmp_path / "a.zip").write_text("nope")
    with pytest.raises(TransferInputError) as info:
        data.extract_zip(tmp_path / "a.zip", tmp_path / "out")
    assert str(info.value) == "The upload is not a valid zip file."


# --- datasets ----------------------------------------------------------------------------------


def test_from_dataset_takes_class_names_from_the_class_label():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"img": ["i0", "i1", "i2"], "y": [1, 0, 1]})
    ds = ds.cast_column("y", datasets.ClassLabel(names=["zebra", "ant"]))
    images, labels, names = data.from_dataset(ds, "img", "y")
    assert images == ["i0", "i1", "i2"] and labels.tolist() == [1, 0, 1]
    assert names == ["zebra", "ant"]  # the label's own order, not sorted


def test_from_dataset_names_plain_string_labels_in_sorted_order():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"image": ["a", "b", "c"], "label": ["dog", "cat", "dog"]})
    images, labels, names = data.from_dataset(ds, "image", "label")
    assert names == ["cat", "dog"] and labels.tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("values", "labels", "names"),
    [
        (list(range(11)), list(range(11)), [str(i) for i in range(11)]),  # 10 after 9, not 1
        ([2, 1, 2], [1, 0, 1], ["1", "2"]),  # labels index the names, whatever the values
        ([0.5, 1.5], [0, 1], ["0.5", "1.5"]),
    ],
)
def test_from_dataset_plain_values_are_classes_in_their_own_order(values, labels, names):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"image": list(range(len(values))), "label": values})
    got = data.from_dataset(ds, "image", "label")
    assert got[1].tolist() == labels and got[2] == names


def test_from_dataset_names_missing_columns():
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"img": ["a"], "y": [0]})
    with pytest.raises(TransferInputError) as info:
        data.from_dataset(ds, "image", "label")
    assert str(info.value) == "Column(s) image, label not found; columns are: img, y."


def test_from_dataset_keeps_a_fixed_random_2000():
    datasets = pytest.importorskip("datasets")
    small = datasets.Dataset.from_dict({"image": list(range(2000)), "label": [0, 1] * 1000})
    assert data.from_dataset(small, "image", "label")[0] == list(range(2000))  # all, in order
    big = datasets.Dataset.from_dict({"image": list(range(2001)), "label": [0, 1] * 1000 + [0]})
    images, labels, _ = data.from_dataset(big, "image", "label")
    assert len(images) == len(set(images)) == 2000 and images != list(range(2000))
    assert labels.tolist() == [i % 2 for i in images]  # each image keeps its own label
    assert data.from_dataset(big, "image", "label")[0] == images  # the same ones every time


def test_hub_dataset_asks_for_the_named_split(monkeypatch):
    datasets = pytest.importorskip("datasets")
    asked = []

    def load_dataset(name, split):
        asked.append((name, split))
        return datasets.Dataset.from_dict({"image": ["a", "b"], "label": ["x", "y"], "pic": [1, 2]})

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    images, labels, names = data.hub_dataset("org/ds")
    assert images == ["a", "b"] and labels.tolist() == [0, 1] and names == ["x", "y"]
    images, labels, names = data.hub_dataset("org/ds", "test", "pic", "image")
    assert images == [1, 2] and labels.tolist() == [0, 1] and names == ["a", "b"]
    assert asked == [("org/ds", "train"), ("org/ds", "test")]


# --- bad input ---------------------------------------------------------------------------


def png_bomb(path, side=20_000):
    """A tiny PNG whose header claims side x side pixels (the pixels are never written)."""

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def good_png(path, value=200, side=12):
    Image.fromarray(np.full((side, side), value, np.uint8)).save(path)
    return path


def truncated_png(path):
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(path)
    path.write_bytes(path.read_bytes()[:2000])  # header intact, pixel data cut short
    return path


def make_classes(root, classes=("cat", "dog"), per_class=2):
    for c in classes:
        (root / c).mkdir(parents=True)
        for i in range(per_class):
            good_png(root / c / f"{i}.png", 40 * i + 10)
    return root


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: (p / "x.png").write_text("hello, not an image") and p / "x.png", "not an image"),
        (lambda p: truncated_png(p / "t.png"), "corrupted or truncated"),
        (lambda p: png_bomb(p / "b.png"), "too large to decode safely"),
    ],
)
def test_bad_images_get_clear_messages(tmp_path, make, message):
    with pytest.raises(TransferInputError, match=message):
        data.open_image(make(tmp_path))


def test_folder_problems_are_named(tmp_path):
    one = make_classes(tmp_path / "one", ("cat",))
    with pytest.raises(TransferInputError, match="at least two class folders.*found: cat"):
        data.image_folder(one)
    empty = make_classes(tmp_path / "empty")
    (empty / "bird").mkdir()
    with pytest.raises(TransferInputError, match="'bird' holds no images"):
        data.image_folder(empty)
    images, labels, names = data.image_folder(make_classes(tmp_path / "ok"))
    assert names == ["cat", "dog"] and labels.tolist() == [0, 0, 1, 1] and len(images) == 4


def test_zip_extraction_refuses_traversal_and_flat_zips(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("cat/a.png", b"x")
        zf.writestr("../../x", b"owned")
    with pytest.raises(TransferInputError, match="unsafe path '../../x'"):
        data.extract_zip(evil, tmp_path / "out")
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()
    flat = tmp_path / "flat.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        zf.writestr("a.png", b"x")
    with pytest.raises(TransferInputError, match="no class folders"):
        data.extract_zip(flat, tmp_path / "flat")
    (tmp_path / "junk.zip").write_text("not a zip")
    with pytest.raises(TransferInputError, match="not a valid zip"):
        data.extract_zip(tmp_path / "junk.zip", tmp_path / "junk")
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        for c in ("cat", "dog"):
            zf.writestr(f"pets/{c}/a.png", b"x")
    assert data.extract_zip(nested, tmp_path / "nested").name == "pets"


def test_hub_dataset_columns_are_checked():
    datasets = pytest.importorskip("datasets")
    images = [Image.new("L", (4, 4), v) for v in (0, 255)]
    ds = datasets.Dataset.from_dict({"img": images, "label": [0, 1]}).cast_column(
        "label", datasets.ClassLabel(names=["dark", "bright"])
    )
    got, labels, names = data.from_dataset(ds, "img", "label")
    assert names == ["dark", "bright"] and labels.tolist() == [0, 1] and len(got) == 2
    with pytest.raises(TransferInputError, match="image not found; columns are: img, label"):
        data.from_dataset(ds, "image", "label")


def test_the_target_is_all_ten_handwritten_digits():
    images, labels, names = data.digits(data.DIGITS)
    assert names == list("0123456789") and len(images) == len(labels) == 1797
    assert np.bincount(labels).min() >= 170  # every digit, about 180 of each
    assert images[0].size == (8, 8) and images[0].mode == "L"
    pixels = np.asarray(images[0])
    assert pixels.max() > 200 and pixels.min() == 0  # white ink on a black background
    assert labels[0] == 0 and labels[1] == 1  # scikit-learn's order, labels are the digits


def digit_on_paper(index=0, scale=20, offset=(37, 11), canvas=(240, 200)):
    """scikit-learn's digit `index`, drawn dark on white paper, enlarged, off centre."""
    digit = data.digits(data.DIGITS)[0][index]
    big = Image.eval(digit, lambda v: 255 - v).resize((8 * scale, 8 * scale), Image.NEAREST)
    paper = Image.new("L", canvas, 255)
    paper.paste(big, offset)
    return digit, paper


def test_a_digit_on_paper_looks_like_the_training_digit():
    digit, paper = digit_on_paper(0)
    seen, (left, top, side) = data.model_view(paper, "digits")
    assert seen.size == (8, 8)
    a, b = np.asarray(seen, float).ravel(), np.asarray(digit, float).ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.9
    # the view is the square around the ink, in the paper's own pixels
    ink_rows, ink_cols = np.nonzero(255 - np.asarray(paper) > 80)
    assert left <= ink_cols.min() and ink_cols.max() < left + side
    assert top <= ink_rows.min() and ink_rows.max() < top + side
    assert side == max(np.ptp(ink_rows), np.ptp(ink_cols)) + 1


def test_a_transparent_drawing_is_read_as_ink_on_paper():
    drawing = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).line([(50, 10), (50, 90)], fill=(0, 0, 0, 255), width=8)
    seen, (left, top, side) = data.model_view(drawing, "digits")
    pixels = np.asarray(seen)
    assert pixels[:, 3:5].mean() > 4 * pixels[:, [0, 7]].mean()  # a bright vertical stroke
    assert top <= 10 and top + side >= 90


def test_a_blank_drawing_is_refused_by_name():
    with pytest.raises(TransferInputError, match="blank"):
        data.model_view(Image.new("L", (50, 50), 255), "digits")


def test_a_scikit_learn_digit_is_left_as_it_is():
    digit = data.digits(data.DIGITS)[0][5]
    seen, view = data.model_view(digit, "digits")
    assert seen is digit and view == (0, 0, 8)


def test_other_models_see_the_centre_square():
    image = Image.new("RGB", (60, 40))
    seen, view = data.model_view(image, None)
    assert seen.size == (40, 40) and view == (10, 0, 40)


def test_held_out_examples_are_the_first_test_digit_of_each_class_in_order():
    images, labels, _ = data.digits(data.DIGITS)
    test_index = [int(i) for i in data.split(labels, 0.2, 0.2, seed=3)[2]]
    picked = data.held_out_digits(test_index, 8)
    assert [label for _, label, _ in picked] == list(range(8))
    for index, label, image in picked:
        assert index in test_index and labels[index] == label
        assert index == next(i for i in test_index if labels[i] == label)  # the first one
        assert image.size == (8, 8) and image.tobytes() == images[index].tobytes()
    # without a model's test split: the default split's (seed 0)
    default = data.split(labels, 0.2, 0.2, seed=0)[2]
    assert all(i in default for i, _, _ in data.held_out_digits(None, 3))
    assert len(data.held_out_digits(None, 3)) == 3
