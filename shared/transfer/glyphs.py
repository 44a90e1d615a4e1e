"""The offline "large dataset" to pretrain on: printed letters rendered from bundled fonts.

The course pretrains on ImageNet and transfers to handwritten digits. Offline there is no
ImageNet, so the source task is a different one built from what the installed packages ship:
letters (not digits: that would teach the target itself) in the 21 text faces of the TrueType
fonts bundled with matplotlib, jittered in shape, stroke, sharpness and noise. The target
(handwritten digits) differs in task and in domain, the honest version of the course's setting.

Each font and letter is rendered once (a prototype); the tens of thousands of images are then
made in batches by one `affine_grid` per batch, so 40,000 images take seconds, from a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from shared.transfer.augment import Jitter, affine

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FACES = (
    *(f"DejaVu{family}{face}.ttf" for family in ("Sans", "SansMono") for face in
      ("", "-Bold", "-Oblique", "-BoldOblique")),
    *(f"DejaVuSerif{face}.ttf" for face in ("", "-Bold", "-Italic", "-BoldItalic")),
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf", "cmti10.ttf",
)  # fmt: skip
# Capitals, and the small letters whose shape differs from their capital's once both are scaled
# to fill the frame (c/C, o/O, s/S, u/U, v/V, w/W, x/X, z/Z would be the same class twice).
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"
PROTO_SIZE = 48  # prototypes are rendered this large, then resampled to the output size


@dataclass(frozen=True)
class GlyphConfig:
    n_images: int = 40_000  # a probe here: 40k images pretrained test_resnet to ~97% in 2 min
    size: int = 32  # pixels; the target digits are shown to the model at 32 px too
    # the target digits fill about 6 of their 8 pixels; a letter filling about as much of its
    # frame transferred best in a probe (tiny letters teach features at the wrong scale)
    fill: tuple[float, float] = (0.6, 0.85)
    jitter: Jitter = Jitter(rotation=15.0, scale=(1.0, 1.0), shift=0.08, shear=0.2)
    bold: float = 0.3  # share of images whose strokes are thickened; none are thinned, which
    # would erase the thin faces (Computer Modern, STIX) at 32 px
    coarse: float = 0.5  # share shown at a lower resolution first (8-16 px, then resampled):
    # the offline target is 8x8 digits upsampled, so blocky, blurred strokes must look familiar
    blur: float = 0.3  # share blurred by a 3x3 box
    noise: float = 0.05  # largest standard deviation of the added Gaussian noise
    seed: int = 0


def prototypes(chars: str = LETTERS) -> tuple[torch.Tensor, list[str]]:
    """Every face x character, white on black, scaled so its longer side fills a square frame."""
    images = []
    for face in FACES:
        font = ImageFont.truetype(str(FONT_DIR / face), 2 * PROTO_SIZE)
        for letter in chars:
            canvas = Image.new("L", (3 * PROTO_SIZE, 3 * PROTO_SIZE))
            ImageDraw.Draw(canvas).text((PROTO_SIZE // 2, PROTO_SIZE // 2), letter, 255, font)
            glyph = canvas.crop(canvas.getbbox())
            scale = PROTO_SIZE / max(glyph.size)
            width, height = (max(1, round(s * scale)) for s in glyph.size)
            glyph = glyph.resize((width, height), Image.LANCZOS)
            square = Image.new("L", (PROTO_SIZE, PROTO_SIZE))
            square.paste(glyph, ((PROTO_SIZE - width) // 2, (PROTO_SIZE - height) // 2))
            images.append(np.asarray(square))
    return torch.from_numpy(np.stack(images)).float().div(255).unsqueeze(1), list(chars)


def generate(
    config: GlyphConfig = GlyphConfig(), batch: int = 4096, chars: str = LETTERS
) -> tuple[torch.Tensor, ...]:
    """`config.n_images` glyphs of `chars` (the source's letters by default) as uint8
    (N, size, size), labels (N,), and the class names."""
    protos, names = prototypes(chars)
    generator = torch.Generator().manual_seed(config.seed)
    labels = torch.randint(len(names), (config.n_images,), generator=generator)
    faces = torch.randint(len(FACES), (config.n_images,), generator=generator)
    source = faces * len(names) + labels
    out = torch.empty(config.n_images, config.size, config.size, dtype=torch.uint8)
    for start in range(0, config.n_images, batch):
        index = source[start : start + batch]
        out[start : start + len(index)] = _render(protos[index], config, generator)
    return out, labels, names


def _render(protos: torch.Tensor, config: GlyphConfig, generator: torch.Generator) -> torch.Tensor:
    n, size = len(protos), config.size

    def chosen(share: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) < share).view(n, 1, 1, 1)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, 1, 1, 1, generator=generator)

    bold = F.max_pool2d(protos, 5, stride=1, padding=2)  # strokes ~4 px wider at 48 px
    x = torch.where(chosen(config.bold), bold, protos)
    # shrink the full-frame prototype to its fill by padding, then jitter its shape
    pad = int(PROTO_SIZE * 0.5)
    x = F.pad(x, (pad, pad, pad, pad))
    fill = uniform(*config.fill).view(n)
    x = affine(x, config.jitter, generator, zoom=fill * (PROTO_SIZE + 2 * pad) / PROTO_SIZE)
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
    low = int(torch.randint(8, 17, (1,), generator=generator))  # one coarse size per batch
    coarse = F.interpolate(
        F.interpolate(x, size=(low, low), mode="area"), size=(size, size), mode="bilinear"
    )
    x = torch.where(chosen(config.coarse), coarse, x)
    x = torch.where(chosen(config.blur), F.avg_pool2d(x, 3, stride=1, padding=1), x)
    x = x + uniform(0, config.noise) * torch.randn(x.shape, generator=generator)
    x = x / x.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)  # ink at full white, as digits
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).squeeze(1)


def to_model_input(glyphs: torch.Tensor, data_config: dict) -> torch.Tensor:
    """uint8 (N, H, W) glyphs as the model's normalised RGB input (N, 3, size, size)."""
    _, height, width = data_config["input_size"]
    x = glyphs.float().div(255).unsqueeze(1)
    if x.shape[-2:] != (height, width):
        x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True)
    mean = torch.tensor(data_config["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(data_config["std"]).view(1, 3, 1, 1)
    return (x.expand(-1, 3, -1, -1) - mean) / std
