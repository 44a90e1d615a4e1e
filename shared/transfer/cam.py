"""Where the evidence is: Grad-CAM (Selvaraju et al., 2017) and a box around the object.

Grad-CAM weights a feature map by the mean gradient of the class score over each channel and
keeps the positive part. The box is our answer to the course's "detection":
1. the evidence is the mean of two CAMs: the deepest stage wide enough to say where, and the
   next finer one, twice as sharp where the deep map is only 4x4;
2. the evidence region is every pixel above EVIDENCE_THRESHOLD of that map's range, its pieces
   joined across gaps of up to JOIN of the map's side, keeping the piece with the peak;
3. where the image has a plain background (a drawing, a scan, a pasted digit), the box is
   clipped to the ink: the box of the strokes that the evidence region touches.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from scipy import ndimage  # noqa: E402
from torch import nn  # noqa: E402

from shared.transfer.data import INK, View, encode, model_view, on_paper  # noqa: E402
from shared.transfer.hub_io import Classifier  # noqa: E402

MIN_CAM_SIZE = 4  # a 4x4 map is the coarsest that still says where; deeper maps are too small
BOX_THRESHOLD = 0.5  # of the peak, the usual choice for CAM boxes (Zhou et al., 2016)
# Measured on 200 held-out digits pasted at 24-40 px into 128 px dark images (benchmarks/cam.py):
# the region over half the peak covered a stroke or two (IoU >= 0.5 with the digit's box for 16%);
# the combined CAM's region over 0.2 of its range for 85% (0.3: 62%). At 0.1 (96%) the region
# spreads to most of what the model saw, which only the digit view's crop to the ink made right.
EVIDENCE_THRESHOLD = 0.2
JOIN = 1 / 8  # of the map's side: evidence this close to the peak's piece is the same object
# of the edge pixels at the paper's level: a plain background. scikit-image's photos measured
# 0.09-0.33 (camera, astronaut, coffee, chelsea, coins, page), its rocket and text 0.68-0.71
PLAIN_SHARE = 0.9
DISPLAY_SIZE = 256  # the heatmap image's longer side is about this, whatever the input size
_MODEL_LOCK = threading.Lock()


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


@dataclass
class Prediction:
    scores: dict[str, float]  # label -> probability, best first
    heatmap: Image.Image | None  # the person's image with the CAM and the box laid over it
    box: Box | None  # in the uploaded image's pixels


def cam_layer(model: nn.Module, input_size: int) -> str:
    """The deepest feature stage whose map is at least MIN_CAM_SIZE wide at this input size."""
    return cam_layers(model, input_size)[0]


def cam_layers(model: nn.Module, input_size: int) -> list[str]:
    """Feature stages to try for Grad-CAM, deepest first, from `cam_layer` down to the stem."""
    stages = model.feature_info
    wide = [s["module"] for s in stages if input_size // s["reduction"] >= MIN_CAM_SIZE]
    return wide[::-1] or [stages[0]["module"]]


def positive_cam(model: nn.Module, x: torch.Tensor, class_index: int) -> np.ndarray:
    """Grad-CAM at the deepest wide-enough stage that holds positive evidence for the class.

    A very confident model can leave no positive evidence at that stage (measured: 2 of 40
    held-out digits at test_resnet's layer2, whose CAM was all zero and its box the whole
    image); a shallower, finer stage then says where the class is.
    """
    return positive_cams(model, x, class_index, 1)[0]


def positive_cams(model: nn.Module, x: torch.Tensor, class_index: int, n: int) -> list[np.ndarray]:
    """Up to `n` Grad-CAMs with positive evidence, deepest first, from `positive_cam`'s stage
    down; the last (all zero) map if no stage holds any."""
    found = []
    for layer in cam_layers(model, x.shape[-1]):
        heat = grad_cam(model, x, class_index, layer)
        if heat.max() > 0:
            found.append(heat)
            if len(found) == n:
                break
    return found or [heat]


def evidence_cam(model: nn.Module, x: torch.Tensor, class_index: int) -> np.ndarray:
    """The mean of the deep and the next finer positive CAM, in [0, 1] (step 1 above)."""
    heat = np.mean(positive_cams(model, x, class_index, 2), axis=0)
    return heat / heat.max() if heat.max() > 0 else heat


def grad_cam(model: nn.Module, x: torch.Tensor, class_index: int, layer: str) -> np.ndarray:
    """Grad-CAM of `class_index` for one image `x` (1, 3, H, W): an (H, W) map in [0, 1]."""
    saved = {}
    # the hook must return None: a forward hook's return value replaces the layer's output
    hook = model.get_submodule(layer).register_forward_hook(
        lambda _m, _i, out: saved.__setitem__("act", out)
    )
    try:
        model.eval()
        with torch.enable_grad():
            x = x.clone().requires_grad_(True)  # a graph even when every weight is frozen
            score = model(x)[0, class_index]
            (grad,) = torch.autograd.grad(score, saved["act"])
    finally:
        hook.remove()
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * saved["act"]).sum(dim=1, keepdim=True)).detach()
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    peak = cam.max()
    return (cam / peak if peak > 0 else cam).numpy()


def copy_model(model: nn.Module) -> nn.Module:
    """A private copy of a served model, taken while no request's Grad-CAM hook is attached."""
    with _MODEL_LOCK:
        return copy.deepcopy(model)


def cam_box(cam: np.ndarray, threshold: float = BOX_THRESHOLD) -> Box:
    """Bounding box of the connected region above `threshold` * peak that holds the peak: the
    Classify tab's box before `object_box` (benchmarks/cam.py compares the two)."""
    regions, _ = ndimage.label(cam >= threshold * cam.max())
    peak_y, peak_x = np.unravel_index(np.argmax(cam), cam.shape)
    ys, xs = np.nonzero(regions == regions[peak_y, peak_x])
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def evidence_region(cam: np.ndarray, threshold: float = EVIDENCE_THRESHOLD) -> np.ndarray:
    """Step 2: the pixels above `threshold` of the map's range, in the piece holding the peak
    once pieces JOIN of the side apart are joined. A flat map is evidence everywhere."""
    low, high = cam.min(), cam.max()
    above = cam >= low + threshold * (high - low)
    reach = max(1, round(JOIN * max(cam.shape)))
    pieces, _ = ndimage.label(ndimage.binary_dilation(above, iterations=reach))
    peak = np.unravel_index(np.argmax(cam), cam.shape)
    return above & (pieces == pieces[peak])


def plain_ink(image: Image.Image) -> np.ndarray | None:
    """The strokes of an image on a plain background (PLAIN_SHARE of its edge at one level),
    as a mask; None for a photo or a busy background.

    Ink is what lies at least data.INK of the largest difference away from the paper's level,
    the rule the digit view crops by."""
    grey = np.asarray(on_paper(image).convert("L"), dtype=np.float32)
    edge = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    away = np.abs(grey - np.median(edge))
    if away.max() == 0:
        return None
    ink = away >= INK * away.max()
    edge_ink = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    return ink if np.mean(~edge_ink) >= PLAIN_SHARE else None


def object_box(
    image: Image.Image,
    cam: np.ndarray,
    view: View,
    clip_to_ink: bool = True,
    threshold: float = EVIDENCE_THRESHOLD,
) -> Box:
    """Steps 2 and 3: the box in `image`'s pixels around the evidence of `cam`, which covers
    the square `view` of the image (`clip_to_ink` False: step 2 alone, for comparison)."""
    region = evidence_region(cam, threshold)
    left, top, side = view
    square = np.asarray(Image.fromarray(region).resize((side, side), Image.NEAREST))
    mask = np.zeros((image.height, image.width), bool)
    x0, y0 = max(left, 0), max(top, 0)  # the view may overhang the image (digit_view's square)
    x1, y1 = min(left + side, image.width), min(top + side, image.height)
    mask[y0:y1, x0:x1] = square[y0 - top : y1 - top, x0 - left : x1 - left]
    ink = plain_ink(image) if clip_to_ink else None
    if ink is not None:
        strokes, _ = ndimage.label(ink, structure=np.ones((3, 3)))  # diagonal pixels connect
        touched = np.unique(strokes[mask & ink])
        if len(touched):
            mask = np.isin(strokes, touched)
    if not mask.any():  # the evidence lies where the view overhangs the image
        return 0, 0, image.width, image.height
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def overlay(image: Image.Image, cam: np.ndarray, view: View, box: Box) -> Image.Image:
    """The person's own image with the CAM laid over the square the model saw, and the box.

    Small images (an 8x8 digit) are enlarged, large ones shrunk, to about DISPLAY_SIZE.
    """
    scale = DISPLAY_SIZE / max(image.size)
    scale = max(1, int(scale)) if scale >= 1 else scale  # whole-pixel enlargement stays crisp
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    base = np.asarray(image.convert("RGB").resize(size, Image.NEAREST), dtype=np.float32)
    left, top, side = (round(v * scale) for v in view)
    heat = Image.fromarray(cam.astype(np.float32)).resize((max(side, 1), max(side, 1)))
    canvas = Image.new("F", size)
    canvas.paste(heat, (left, top))  # clipped to the image where the view reaches past it
    colours = colormaps["jet"](np.asarray(canvas).clip(0, 1))[..., :3]
    out = Image.fromarray((0.55 * base + 0.45 * 255 * colours).astype(np.uint8))
    x0, y0, x1, y1 = (v * scale for v in box)
    ImageDraw.Draw(out).rectangle([x0, y0, x1 - 1, y1 - 1], outline=(255, 255, 255), width=3)
    return out


def classify(clf: Classifier, image: Image.Image, top_k: int = 5, cam: bool = True) -> Prediction:
    """Top-k labels, and with `cam` the Grad-CAM heatmap and box of the best class."""
    seen, view = model_view(image, clf.style)
    x = encode([seen], clf.data_config)
    # Grad-CAM hooks the shared model, and a hook sees every thread's forward pass: one request
    # at a time may run the model (the load benchmark showed crossed activations without this).
    with _MODEL_LOCK:
        with torch.no_grad():
            clf.model.eval()
            probs = clf.model(x).softmax(dim=1)[0]
        order = probs.argsort(descending=True)[:top_k].tolist()
        if cam:
            heat = evidence_cam(clf.model, x, order[0])
    scores = {clf.labels[i]: float(probs[i]) for i in order}
    if not cam:
        return Prediction(scores, None, None)
    box = object_box(image, heat, view)
    return Prediction(scores, overlay(image, heat, view, box), box)
