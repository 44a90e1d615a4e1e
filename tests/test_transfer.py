"""Transfer library: freezing, schedule, pretrained loading, bad input, Grad-CAM localisation."""

from __future__ import annotations

import struct
import zipfile
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from shared.transfer import backbone, cam, data, hub_io, recipe
from shared.transfer.cam import cam_box, cam_layer, classify, grad_cam
from shared.transfer.data import TransferInputError
from shared.transfer.schedule import CourseSchedule, RecordedSchedule

TINY = "test_resnet"  # timm's registered tiny ResNet, for fast tests


def tiny(num_classes=3, img_size=16, **kw):
    torch.manual_seed(0)
    return backbone.create(TINY, num_classes, img_size, **kw)


def random_split(n=24, classes=3, size=16):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 3, size, size, generator=g), torch.arange(n) % classes


def test_freezing_freezes_and_frozen_batchnorm_keeps_its_statistics():
    model = tiny()
    stages = backbone.stages(model)
    assert len(stages) >= 3
    n_frozen = 2
    frozen = {n for _, names in stages[:n_frozen] for n in names}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = recipe.StageConfig(epochs=1, batch_size=8)
    recipe.train_stage(model, random_split(), None, config, n_frozen=n_frozen)
    after = model.state_dict()
    trainable = [n for n, p in model.named_parameters() if n not in frozen]
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    assert all(not p.requires_grad for n, p in model.named_parameters() if n in frozen)
    assert any(not torch.equal(before[n], after[n]) for n in trainable)
    assert not any(torch.equal(before[n], after[n]) for n in backbone.head_parameters(model))
    # frozen BatchNorm running statistics did not move either (train_mode keeps them in eval)
    frozen_modules = {n.rsplit(".", 1)[0] for n in frozen}
    stats = [
        k for k in before if k.endswith("running_mean") and k.rsplit(".", 1)[0] in frozen_modules
    ]
    assert stats and all(torch.equal(before[k], after[k]) for k in stats)


def test_freeze_all_leaves_only_the_head_and_table_says_so():
    model = tiny()
    backbone.freeze(model, -1)
    head = set(backbone.head_parameters(model))
    assert {n for n, p in model.named_parameters() if p.requires_grad} == head
    table = backbone.stage_table(model)
    assert table[0]["stage"] == "head" and table[0]["trainable"]
    assert not any(row["trainable"] for row in table[1:])
    assert sum(r["parameters"] for r in table) == sum(p.numel() for p in model.parameters())


def test_schedule_matches_the_course_at_its_boundaries():
    s, total = CourseSchedule(), 100
    warmup = 10
    assert s.lr_at(0, total) == pytest.approx(2e-5)
    assert s.lr_at(warmup, total) == pytest.approx(2e-3)
    assert s.lr_at(total - 1, total) == pytest.approx(2e-4)
    values = [s.lr_at(i, total) for i in range(total)]
    assert values[: warmup + 1] == sorted(values[: warmup + 1])  # warms up
    assert values[warmup:] == sorted(values[warmup:], reverse=True)  # then decays linearly
    assert max(values) == pytest.approx(2e-3)
    # the same shape, scaled to a shorter run
    assert CourseSchedule().lr_at(1, 10) == pytest.approx(2e-3)


def test_recorded_schedule_and_layerwise_rates():
    model = tiny()
    backbone.freeze(model, 0)
    groups = backbone.layerwise_groups(model, 2e-3, 0.05, 0.5)
    by_stage = {g["stage"]: g["lr"] for g in groups}
    names = ["head", *[name for name, _ in reversed(backbone.stages(model))]]
    assert [by_stage[n] for n in names] == pytest.approx([2e-3 * 0.5**d for d in range(len(names))])
    optimizer = torch.optim.SGD(groups)
    scheduler = RecordedSchedule(optimizer, CourseSchedule(), 20)
    for _ in range(20):
        optimizer.step()
        scheduler.step()
    assert scheduler.trace == pytest.approx([CourseSchedule().lr_at(i, 20) for i in range(20)])
    # every group follows the same shape at its own height
    assert optimizer.param_groups[-1]["lr"] / optimizer.param_groups[0]["lr"] == pytest.approx(
        groups[-1]["lr"] / groups[0]["lr"]
    )


@pytest.mark.parametrize("as_file", [False, True])
def test_pretrained_from_loads_the_source_features(tmp_path, as_file):
    source = tiny(num_classes=5)
    hub_io.save(source, tmp_path / "source", list("abcde"), {})
    where = tmp_path / "source" / "model.safetensors" if as_file else tmp_path / "source"
    target = backbone.create(TINY, 3, 16, pretrained_from=str(where))
    x = random_split()[0]
    source.eval(), target.eval()
    with torch.no_grad():
        assert torch.equal(backbone.features(source, x), backbone.features(target, x))
        assert target(x).shape == (len(x), 3)  # ... with a new head for the target classes
    fresh = tiny(num_classes=3)
    with torch.no_grad():
        assert not torch.equal(backbone.features(fresh, x), backbone.features(target, x))


def test_unknown_backbone_suggests_close_names():
    with pytest.raises(TransferInputError, match=r"Unknown backbone 'resnet19'.*resnet18"):
        backbone.create("resnet19", 3, 16)


def test_hidden_head_round_trips(tmp_path):
    model = tiny(head=backbone.HeadConfig(dropout=0.1, hidden=7))
    hub_io.save(model, tmp_path / "m", ["a", "b", "c"], {"head": {"dropout": 0.1, "hidden": 7}})
    loaded = hub_io.load(tmp_path / "m")
    x = random_split()[0]
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), loaded.model(x))
    assert loaded.labels == ["a", "b", "c"]


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


# --- Grad-CAM --------------------------------------------------------------------------


def square_images(n, size=32, side=10, seed=0):
    """Dark noisy images; odd ones hold a bright square at a random place (class 1)."""
    rng = np.random.default_rng(seed)
    images, labels, boxes = [], [], []
    for i in range(n):
        pixels = rng.integers(0, 40, (size, size)).astype(np.uint8)
        x0, y0 = rng.integers(0, size - side, 2)
        if i % 2:
            pixels[y0 : y0 + side, x0 : x0 + side] = 255
        images.append(Image.fromarray(pixels))
        labels.append(i % 2)
        boxes.append((x0, y0, x0 + side, y0 + side))
    return images, np.array(labels), boxes


@pytest.mark.slow
def test_grad_cam_box_lands_on_the_planted_square():
    images, labels, _ = square_images(160)
    model = tiny(num_classes=2, img_size=32)
    clf = hub_io.Classifier(model, ["empty", "square"], backbone.data_overlay(32), {}, None)
    clf.data_config = {**backbone.data_overlay(32), "mean": (0.5,) * 3, "std": (0.5,) * 3}
    x, y = data.encode(images, clf.data_config), torch.as_tensor(labels)
    config = recipe.StageConfig(epochs=4, batch_size=16)
    recipe.train_stage(model, (x, y), None, config, n_frozen=0)
    test_images, test_labels, test_boxes = square_images(12, seed=1)
    hits = 0
    for image, label, (x0, y0, x1, y1) in zip(test_images, test_labels, test_boxes, strict=True):
        if not label:
            continue
        pred = classify(clf, image)
        assert pred.heatmap is not None and pred.heatmap.size == (256, 256)
        bx0, by0, bx1, by1 = pred.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hits += bx0 <= cx < bx1 and by0 <= cy < by1 and (bx1 - bx0) * (by1 - by0) < 0.5 * 32 * 32
    assert hits >= 5, f"box on the square in only {hits} of 6 images"


def test_cam_box_is_the_region_around_the_peak():
    cam = np.zeros((16, 16))
    cam[2:5, 3:7] = 1.0  # the peak region
    cam[10:12, 10:12] = 0.6  # a second, weaker region above threshold: not in the box
    assert cam_box(cam) == (3, 2, 7, 5)


def iou(a, b):
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def stroke_cam(size=32):
    """A CAM as the 4x4 stage draws one: a hot cell on one stroke, weak evidence around it."""
    yy, xx = np.mgrid[:size, :size]
    heat = np.exp(-((xx - 0.3 * size) ** 2 + (yy - 0.3 * size) ** 2) / (2 * (size / 10) ** 2))
    return np.maximum(heat, 0.3 * (np.abs(xx - size / 2) + np.abs(yy - size / 2) < size / 3))


def test_the_box_finds_pasted_digits_that_the_half_peak_box_misses():
    """Held-out-style digits pasted anywhere in a dark 128 px image (the benchmark's setting)."""
    images, _, _ = data.digits(data.DIGITS)
    rng = np.random.default_rng(0)
    new, old = [], []
    for index in range(0, 200, 10):
        image, (truth,) = data.pasted([images[index]], rng)
        _, view = data.model_view(image, "digits")
        heat = stroke_cam()
        new.append(iou(cam.object_box(image, heat, view), truth))
        left, top, side = view
        x0, y0, x1, y1 = (v * side / 32 for v in cam_box(heat))  # the rule it replaced
        old.append(iou((left + x0, top + y0, left + x1, top + y1), truth))
    assert min(new) >= 0.7, new  # the ink the evidence touches: the whole digit
    assert max(old) < 0.5, old  # half the peak: one stroke of it


def test_on_a_busy_background_the_box_is_the_evidence_region():
    noise = np.random.default_rng(0).integers(0, 256, (64, 64)).astype(np.uint8)
    image = Image.fromarray(noise)
    assert cam.plain_ink(image) is None
    heat = np.zeros((32, 32))
    heat[8:16, 4:12] = 1.0
    assert cam.object_box(image, heat, (0, 0, 64)) == (8, 16, 24, 32)  # 2 image px per CAM px
    # a view hanging over the image's edge is clipped to the image
    assert cam.object_box(image, heat, (-16, -16, 64)) == (0, 0, 8, 16)


def test_evidence_region_joins_nearby_pieces_and_leaves_far_ones():
    heat = np.zeros((32, 32))
    heat[4:8, 4:8] = 1.0  # the peak
    heat[4:8, 10:13] = 0.5  # 2 px away: the same object (JOIN is 4 px at 32)
    heat[24:28, 24:28] = 0.9  # far away: another object
    region = cam.evidence_region(heat)
    ys, xs = np.nonzero(region)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (4, 12, 4, 7)
    assert cam.evidence_region(np.zeros((8, 8))).all()  # no evidence: no place is preferred


def test_a_transparent_sketch_is_ink_on_paper():
    sketch = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    sketch.paste((0, 0, 0, 255), (20, 10, 28, 50))
    ink = cam.plain_ink(sketch)
    ys, xs = np.nonzero(ink)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (20, 27, 10, 49)


def test_an_empty_cam_falls_back_to_a_finer_stage(monkeypatch):
    from shared.transfer import cam

    model = tiny(num_classes=2, img_size=32)
    tried = []

    def fake(model, x, class_index, layer):
        tried.append(layer)
        heat = np.zeros((32, 32))
        if layer == "layer1":
            heat[4:8, 20:24] = 1.0
        return heat

    monkeypatch.setattr(cam, "grad_cam", fake)
    heat = cam.positive_cam(model, random_split(1, size=32)[0], 1)
    assert tried == ["layer2", "layer1"] and cam.cam_box(heat) == (20, 4, 24, 8)


def test_grad_cam_works_with_a_frozen_model():
    model = tiny(num_classes=2, img_size=32)
    backbone.freeze(model, -1)
    for p in model.parameters():
        p.requires_grad = False
    heat = grad_cam(model, random_split(1, size=32)[0], 1, cam_layer(model, 32))
    assert heat.shape == (32, 32) and heat.min() >= 0 and heat.max() <= 1


def test_tuning_reports_every_trial_and_the_best():
    from shared.transfer.tune import tune

    labels = np.arange(30) % 3
    seen = []

    def run_fold(params, train, val):
        assert not set(train) & set(val) and len(set(labels[val])) == 3  # stratified folds
        seen.append(params)
        return 1.0 - abs(np.log10(params["lr"]) + 3)  # best at lr = 1e-3

    result = tune(run_fold, labels, n_stages=5, trials=4, folds=3, seed=0)
    assert len(result["trials"]) == 4 and len(seen) == 12
    assert set(seen[0]) == {"lr", "batch_size", "weight_decay", "dropout", "unfrozen_stages"}
    best = max(result["trials"], key=lambda t: t["cv_accuracy"])
    assert result["best"]["lr"] == best["lr"] and len(best["fold_accuracies"]) == 3
