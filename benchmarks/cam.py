"""Does the Grad-CAM box find the object? Held-out digits pasted anywhere in a larger image.

    python -m training.transfer --out artifacts/transfer       # the app's model, if not there
    python benchmarks/cam.py --model artifacts/transfer        # ~2 min -> results/cam.md
    python benchmarks/cam.py --model /tmp/t --images 40 --out /tmp/cam.md   # a quick look

Each of the model's held-out test digits (metrics.json's `test_index`) is enlarged to 24-40 px
and pasted at a random place of a 128 px black image (`data.pasted`); its box is the box of its
ink. The Classify tab's `classify` answers; its box is scored by IoU with the ink's box, beside
the rule it replaced (the connected region over half the CAM's peak), step 2 of the new rule
alone (the evidence region, not clipped to the ink) at several thresholds, and the whole square
the model saw. Target (issue 24): IoU >= 0.5 for at least 70% of the images.

The digit model's view (`data.digit_view`) is the square around all of the image's ink, so the
whole square already holds the digit: the table shows what each rule keeps of it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from benchmarks import report as report_file  # noqa: E402
from shared.hub import load_json  # noqa: E402
from shared.transfer import cam, data, hub_io  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "cam.md"
TARGET = 0.7  # share of images whose box reaches IoU 0.5
THRESHOLDS = (0.1, 0.2, 0.3, 0.5)  # of the evidence CAM's range, for step 2 alone
RULES = (
    "shipped: `classify`",
    "before: region over half the peak",
    "the whole square the model saw",
    *(f"evidence region alone, {t:g} of range" for t in THRESHOLDS),
)


def iou(a, b) -> float:
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def old_box(image, heat, view, size: int) -> cam.Box:
    """The rule before issue 24: `cam_box` of the deepest positive CAM, scaled to the image."""
    box = cam.cam_box(heat)
    left, top, side = view
    scale = side / size
    x0, y0 = max(0, left + round(box[0] * scale)), max(0, top + round(box[1] * scale))
    x1 = min(image.width, left + round(box[2] * scale))
    y1 = min(image.height, top + round(box[3] * scale))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def boxes(clf: hub_io.Classifier, image, answer: str) -> list[cam.Box]:
    """The box of every rule in RULES for one image, around the evidence for `answer`."""
    seen, view = data.model_view(image, clf.style)
    x = data.encode([seen], clf.data_config)
    best = clf.labels.index(answer)
    deep, both = cam.positive_cam(clf.model, x, best), cam.evidence_cam(clf.model, x, best)
    left, top, side = view
    square = (
        max(left, 0),
        max(top, 0),
        min(left + side, image.width),
        min(top + side, image.height),
    )
    found = [old_box(image, deep, view, x.shape[-1]), square]
    return found + [cam.object_box(image, both, view, False, t) for t in THRESHOLDS]


def measure(clf, indices, images, labels, seed: int) -> tuple[dict, float]:
    """IoU with the digit's box per rule, each digit pasted alone; the share read right."""
    rng = np.random.default_rng(seed)
    scores, right = {rule: [] for rule in RULES}, 0
    for i in indices:
        image, (truth,) = data.pasted([images[i]], rng)
        pred = cam.classify(clf, image)
        answer = next(iter(pred.scores))
        right += answer == clf.labels[labels[i]]
        for rule, box in zip(RULES, [pred.box, *boxes(clf, image, answer)], strict=True):
            scores[rule].append(iou(box, truth))
    return scores, right / len(indices)


def table(scores: dict) -> list[str]:
    rows = ["| box rule | mean IoU | median IoU | IoU >= 0.5 |", "|---|---|---|---|"]
    for rule, values in scores.items():
        v = np.array(values)
        rows.append(f"| {rule} | {v.mean():.3f} | {np.median(v):.3f} | {np.mean(v >= 0.5):.1%} |")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="artifacts/transfer", help="classifier folder")
    p.add_argument("--images", type=int, default=200, help="held-out digits (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="placements (default: 0)")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"report (default: {RESULTS})")
    args = p.parse_args()
    torch.set_num_threads(1)
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    clf = hub_io.load(args.model)
    metrics = load_json(Path(args.model) / "metrics.json")
    test_index = metrics["test_index"][: args.images]
    trained = clf.config.get("transfer", {}).get("training", {})
    images, labels, _ = data.digits(data.DIGITS)
    scores, right = measure(clf, test_index, images, labels, args.seed)
    minutes = (time.perf_counter() - start) / 60
    shipped = np.mean(np.array(scores[RULES[0]]) >= 0.5)
    report = [
        "# Grad-CAM box: does it find the object?",
        "",
        f"`python benchmarks/cam.py --model {args.model} --images {args.images} --seed "
        f"{args.seed}`: {minutes:.1f} min, one torch thread, 1-min load average "
        f"{load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end. The model: "
        f"{trained.get('backbone')} at {trained.get('img_size')} px, {trained.get('epochs')} "
        f"epochs, seed {trained.get('seed')}, {metrics.get('test_accuracy', float('nan')):.2%} "
        "on its 8x8 test digits.",
        "",
        f"{len(test_index)} held-out digits, each pasted alone; the model read {right:.1%} of "
        "them right.",
        "",
        *table(scores),
        "",
        f"Target: IoU >= 0.5 for at least {TARGET:.0%} of the images: "
        f"{'met' if shipped >= TARGET else 'MISSED'} ({shipped:.1%}).",
        "",
        "Notes:",
        "- The digit model sees the square around the image's ink (`data.digit_view`), so the "
        "whole square already holds the digit: the old rule's fault was shrinking the box to "
        "the peak's stroke. The combined CAM's evidence region keeps most of the digit at a "
        "fifth of its range (EVIDENCE_THRESHOLD); clipping it to the strokes it touches, on "
        "a plain background, gives the digit's own box.",
        "- The truth box is the ink at grey >= 40 (`data.PASTED_INK`, the detection scenes' "
        "rule), not the 10%-of-the-brightest rule the clipping uses, so the shipped box is "
        "not scored by its own rule.",
        "- On a photo or a busy background (under 90% of the edge at one level) there is no "
        "clipping, and the box is the evidence region's (the rows above, without ink).",
        "",
    ]
    report_file.write(args.out, report)


if __name__ == "__main__":
    main()
