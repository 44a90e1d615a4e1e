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

from shared.transfer.data import encode  # noqa: E402
from shared.transfer.hub_io import Classifier  # noqa: E402

MIN_CAM_SIZE = 4  # a 4x4 map is the coarsest that still says where; deeper maps are too small
BOX_THRESHOLD = 0.5  # of the peak, the usual choice for CAM boxes (Zhou et al., 2016)
DISPLAY_SIZE = 256  # the heatmap is drawn at this size, whatever the model's input size
_MODEL_LOCK = threading.Lock()


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


@dataclass
class Prediction:
    scores: dict[str, float]  # label -> probability, best first
    heatmap: Image.Image | None  # the image as the model saw it, with the CAM and the box
    box: Box | None  # in the uploaded image's pixels


def cam_layer(model: nn.Module, input_size: int) -> str:
    """The deepest feature stage whose map is at least MIN_CAM_SIZE wide at this input size."""
    stages = model.feature_info
    wide = [s for s in stages if input_size // s["reduction"] >= MIN_CAM_SIZE]
    return (wide[-1] if wide else stages[0])["module"]


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


def _square(image: Image.Image) -> tuple[Image.Image, int, int, int]:
    """The centre square that timm's resize + centre crop (crop_pct 1.0) keeps: crop, left, top."""
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)), left, top, side


def draw(image: Image.Image, cam: np.ndarray, box: Box) -> Image.Image:
    """The CAM over the image as the model saw it, with the box, at DISPLAY_SIZE."""
    square = _square(image.convert("RGB"))[0].resize((DISPLAY_SIZE, DISPLAY_SIZE))
    heat = Image.fromarray(cam.astype(np.float32)).resize((DISPLAY_SIZE, DISPLAY_SIZE))
    colours = colormaps["jet"](np.asarray(heat).clip(0, 1))[..., :3]
    blended = (0.55 * np.asarray(square) + 0.45 * 255 * colours).astype(np.uint8)
    out = Image.fromarray(blended)
    scale = DISPLAY_SIZE / cam.shape[1]
    ImageDraw.Draw(out).rectangle(
        [box[0] * scale, box[1] * scale, box[2] * scale - 1, box[3] * scale - 1],
        outline=(255, 255, 255),
        width=3,
    )
    return out


def classify(clf: Classifier, image: Image.Image, top_k: int = 5, cam: bool = True) -> Prediction:
    """Top-k labels, and with `cam` the Grad-CAM heatmap and box of the best class."""
    x = encode([image], clf.data_config)
    # Grad-CAM hooks the shared model, and a hook sees every thread's forward pass: one request
    # at a time may run the model (the load benchmark showed crossed activations without this).
    with _MODEL_LOCK:
        with torch.no_grad():
            clf.model.eval()
            probs = clf.model(x).softmax(dim=1)[0]
        order = probs.argsort(descending=True)[:top_k].tolist()
        if cam:
            heat = grad_cam(clf.model, x, order[0], cam_layer(clf.model, x.shape[-1]))
    scores = {clf.labels[i]: float(probs[i]) for i in order}
    if not cam:
        return Prediction(scores, None, None)
    size = x.shape[-1]
    box = cam_box(heat)
    _, left, top, side = _square(image)
    scale = side / size  # model pixels -> uploaded image pixels
    original = (
        left + round(box[0] * scale),
        top + round(box[1] * scale),
        left + round(box[2] * scale),
        top + round(box[3] * scale),
    )
    return Prediction(scores, draw(image, heat, box), original)
