"""A torchvision detector on a timm backbone: FCOS (default), Faster R-CNN or RetinaNet.

The backbone is any timm model created with ``features_only=True``; torchvision's
`FeaturePyramidNetwork` turns its maps into a pyramid. torchvision's `BackboneWithFPN` only
sees a model's top-level children, so `TimmFPN` wraps the timm model itself. Anchors, box
coding, NMS and losses are torchvision's own.

`Detector` also carries what `shared.transfer.backbone` reads to freeze a classifier by stage
(`pretrained_cfg["classifier"]` and `group_matcher`), so detection reuses the same freezing,
layer-wise learning rates and staged unfreezing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial

import timm
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from timm.models._manipulate import group_parameters
from torch import nn
from torchvision.models.detection import FCOS, FasterRCNN, RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.fcos import FCOSHead
from torchvision.models.detection.retinanet import RetinaNetHead
from torchvision.ops import FeaturePyramidNetwork, MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from shared.errors import UserInputError
from shared.hub import ModelSourceError, load_json, resolve_source
from shared.transfer.backbone import WEIGHTS, check_name

ARCHITECTURES = ("fcos", "fasterrcnn", "retinanet")


class DetectInputError(UserInputError):
    """Bad detection input: an image, a zip of annotations, a model source or an option."""


@dataclass
class DetectorConfig:
    # timm's tiny registered ResNet (0.4M parameters, resnet18's stages): the pretrained
    # source of part one uses it, and resnet18 trains about 4x slower on 2 CPU cores
    backbone: str = "test_resnet"
    # FCOS trained best and fastest here (issue 13's probe: mAP@0.5 0.973 in 82 s against
    # Faster R-CNN's 0.957 in 106 s); anchor-free, so nothing to tune per data set
    architecture: str = "fcos"
    img_size: int = 128  # images are resized to this side: the built-in scenes' canvas
    out_indices: tuple[int, ...] = (1, 2, 3, 4)  # strides 4 to 32: a 20 px digit needs stride 4
    fpn_channels: int = 64  # torchvision's 256 costs 16x the FPN and head convolutions on CPU
    head_convs: int = 2  # FCOS/RetinaNet tower depth (torchvision: 4); the head dominates cost
    # one size per pyramid level (strides 4, 8, 16, 32 and the max-pooled 64): FCOS uses them
    # to assign boxes to levels; the anchor detectors' defaults suit 20-40 px digits
    anchor_sizes: tuple[int, ...] = (4, 8, 16, 32, 64)
    aspect_ratios: tuple[float, ...] = (1.0,)  # FCOS: one point per cell
    box_score_thresh: float = 0.05  # keep weak boxes: mAP needs the whole ranking
    detections_per_img: int = 50  # a scene holds at most 6 digits
    score_threshold: float = 0.5  # what the app shows by default (its slider re-filters)
    light_on_dark: bool = True  # trained on white ink on black: invert light-background images
    classes: list[str] = field(default_factory=list)


# Anchor-based detectors: digits are 20-40 px and taller than wide (issue 13's probe).
ANCHOR_DEFAULTS = {"anchor_sizes": (16, 24, 32, 48, 64), "aspect_ratios": (1.0, 1.75, 2.5)}


def default_config(architecture: str = "fcos", **overrides) -> DetectorConfig:
    """The defaults of `architecture`, then `overrides`."""
    if architecture not in ARCHITECTURES:
        raise DetectInputError(
            f"Unknown detector {architecture!r}; choose one of: {', '.join(ARCHITECTURES)}."
        )
    base = ANCHOR_DEFAULTS if architecture != "fcos" else {}
    return DetectorConfig(architecture=architecture, **{**base, **overrides})


class TimmFPN(nn.Module):
    """A timm ``features_only`` model and a feature pyramid: what torchvision's detectors take."""

    def __init__(self, body: nn.Module, channels: int):
        super().__init__()
        self.body = body
        self.fpn = FeaturePyramidNetwork(
            body.feature_info.channels(), channels, extra_blocks=LastLevelMaxPool()
        )
        self.out_channels = channels  # torchvision's detectors read this

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        maps = self.body(x)
        return self.fpn(OrderedDict((str(i), m) for i, m in enumerate(maps)))


class Detector(nn.Module):
    """`config.architecture` on `config.backbone`; labels 1..len(classes), 0 is background."""

    def __init__(self, config: DetectorConfig, pretrained: bool = False):
        super().__init__()
        check_name(config.backbone)
        self.config = config
        body = timm.create_model(
            config.backbone, features_only=True, out_indices=config.out_indices,
            pretrained=pretrained,
        )  # fmt: skip
        self.net = _torchvision_detector(config, TimmFPN(body, config.fpn_channels), body)
        # what shared.transfer.backbone reads: the head is everything but the timm body ...
        heads = [f"net.{n}" for n, _ in self.net.named_children() if n not in _NOT_HEAD]
        self.pretrained_cfg = {"classifier": ("net.backbone.fpn", *heads)}
        # ... and the body's stages are timm's own coarse groups (stem, layer1..layer4)
        groups = group_parameters(body, _classifier_twin(config.backbone).group_matcher(True))
        self._stage = {f"net.backbone.body.{n}": i for i, ns in groups.items() for n in ns}

    @property
    def body(self) -> nn.Module:
        return self.net.backbone.body

    def group_matcher(self, coarse: bool = True):
        """timm's hook: parameter name -> stage number (the head sorts last)."""
        return lambda name: self._stage.get(name, float("inf"))

    def forward(self, images: list[torch.Tensor], targets: list[dict] | None = None):
        """Training (with `targets`): a dict of losses. Eval: one dict of boxes, labels, scores
        per image, in that image's own pixels."""
        return self.net(images, targets)


_NOT_HEAD = {"backbone", "transform", "anchor_generator", "box_coder", "proposal_matcher"}


def _classifier_twin(name: str) -> nn.Module:
    """The classifier timm builds for `name`: only its `group_matcher` is used (no weights)."""
    return timm.create_model(name, pretrained=False, num_classes=0)


def _torchvision_detector(config: DetectorConfig, fpn: TimmFPN, body: nn.Module) -> nn.Module:
    num_classes = len(config.classes) + 1  # + background (label 0)
    levels = len(config.out_indices) + 1  # + LastLevelMaxPool
    if len(config.anchor_sizes) != levels:
        raise DetectInputError(f"Give {levels} anchor sizes, one per pyramid level.")
    anchors = AnchorGenerator(
        tuple((s,) for s in config.anchor_sizes), (tuple(config.aspect_ratios),) * levels
    )
    common = {
        "min_size": config.img_size,
        "max_size": config.img_size,
        "image_mean": list(body.pretrained_cfg["mean"]),  # the backbone's own normalisation
        "image_std": list(body.pretrained_cfg["std"]),
    }
    n_anchors = anchors.num_anchors_per_location()[0]
    channels = config.fpn_channels
    if config.architecture == "fcos":
        head = FCOSHead(channels, n_anchors, num_classes, num_convs=config.head_convs)
        return FCOS(
            fpn, num_classes, anchor_generator=anchors, head=head,
            score_thresh=config.box_score_thresh, detections_per_img=config.detections_per_img,
            **common,
        )  # fmt: skip
    if config.architecture == "retinanet":
        head = RetinaNetHead(channels, n_anchors, num_classes, norm_layer=partial(nn.GroupNorm, 16))
        for tower in (head.classification_head.conv, head.regression_head.conv):
            del tower[config.head_convs :]  # torchvision builds 4 conv blocks
        return RetinaNet(
            fpn, num_classes, anchor_generator=anchors, head=head,
            score_thresh=config.box_score_thresh, detections_per_img=config.detections_per_img,
            **common,
        )  # fmt: skip
    if config.architecture == "fasterrcnn":
        representation = 256  # the box head's width (torchvision: 1024)
        pool = MultiScaleRoIAlign([str(i) for i in range(levels - 1)], 7, 2)
        return FasterRCNN(
            fpn, rpn_anchor_generator=anchors, box_roi_pool=pool,
            box_head=TwoMLPHead(channels * 7 * 7, representation),
            box_predictor=FastRCNNPredictor(representation, num_classes),
            # a scene holds a handful of objects: far fewer proposals than COCO's 2000/1000
            rpn_pre_nms_top_n_train=600, rpn_post_nms_top_n_train=300,
            rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=100,
            box_batch_size_per_image=128, box_score_thresh=config.box_score_thresh,
            box_detections_per_img=config.detections_per_img,
            **common,
        )  # fmt: skip
    raise DetectInputError(
        f"Unknown detector {config.architecture!r}; choose one of: {', '.join(ARCHITECTURES)}."
    )


def load_backbone(detector: Detector, source: str) -> str:
    """Load a classifier's backbone weights (timm's Hub layout, folder or repo id) into `detector`.

    The classifier's own head (its ``pretrained_cfg["classifier"]``, ``fc`` for a ResNet) is
    dropped; everything else must match the ``features_only`` backbone exactly (strict load).
    Returns the folder the weights came from.
    """
    try:
        folder = resolve_source(source, required=("config.json", WEIGHTS))
    except ModelSourceError as err:
        raise DetectInputError(f"Pretrained backbone: {err}") from None
    config = load_json(folder / "config.json")
    arch = config.get("architecture")
    if arch != detector.config.backbone:
        raise DetectInputError(
            f"{source!r} holds a {arch!r} backbone, not {detector.config.backbone!r}."
        )
    head = config.get("pretrained_cfg", {}).get("classifier") or "fc"
    head = tuple(f"{h}." for h in ((head,) if isinstance(head, str) else head))
    try:
        state = {k: v for k, v in load_file(folder / WEIGHTS).items() if not k.startswith(head)}
        detector.body.load_state_dict(state, strict=True)
    except (RuntimeError, SafetensorError) as err:
        raise DetectInputError(
            f"{source!r} does not fit a {arch!r} feature backbone: {str(err).splitlines()[0]}"
        ) from None
    return str(folder)
