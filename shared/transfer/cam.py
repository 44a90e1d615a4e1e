"""Where the evidence is: Grad-CAM (Selvaraju et al., 2017) and a box around its peak region.

Grad-CAM weights a feature map by the mean gradient of the class score over each channel and
keeps the positive part. The box is the bounding box of the connected region around the
strongest response, thresholded at half the peak: our answer to the course's "detection".
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

from shared.transfer.data import View, encode, model_view  # noqa: E402
from shared.transfer.hub_io import Classifier  # noqa: E402

MIN_CAM_SIZE = 4  # a 4x4 map is the coarsest that still says where; deeper maps are too small
BOX_THRESHOLD = 0.5  # of the peak, the usual choice for CAM boxes (Zhou et al., 2016)
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
    for layer in cam_layers(model, x.shape[-1]):
        heat = grad_cam(model, x, class_index, layer)
        if heat.max() > 0:
            break
    return heat


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
    """Bounding box of the connected region above `threshold` * peak that holds the peak."""
    regions, _ = ndimage.label(cam >= threshold * cam.max())
    peak_y, peak_x = np.unravel_index(np.argmax(cam), cam.shape)
    ys, xs = np.nonzero(regions == regions[peak_y, peak_x])
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
            heat = positive_cam(clf.model, x, order[0])
    scores = {clf.labels[i]: float(probs[i]) for i in order}
    if not cam:
        return Prediction(scores, None, None)
    box = cam_box(heat)
    left, top, side = view
    scale = side / x.shape[-1]  # model pixels -> the person's image pixels
    x0, y0 = max(0, left + round(box[0] * scale)), max(0, top + round(box[1] * scale))
    x1 = min(image.width, left + round(box[2] * scale))
    y1 = min(image.height, top + round(box[3] * scale))
    original = (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))
    return Prediction(scores, overlay(image, heat, view, original), original)
