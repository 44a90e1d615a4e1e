"""Transfer learning of a pretrained timm CNN: classify, see where it looks, fine-tune a head.

    python spaces/transfer/app.py          # serves on http://127.0.0.1:7860

The classifier comes from $TRANSFER_MODEL, the repo a Space bundle names in models.json,
artifacts/transfer/ or the Hub (`shared.hub`), in timm's Hub layout (`shared.transfer.hub_io`);
the Detect tab's detector likewise from $DETECT_MODEL (`shared.detect.hub_io`). A model
fine-tuned in the app serves only its session. Each tab is a module beside this one.
"""

from __future__ import annotations

from pathlib import Path

import classify_tab
import comparison_tab
import detect_tab
import finetune_tab
import gradio as gr
from PIL import Image

from shared.app import launch
from shared.app.served import load_default
from shared.app.sessions import Sessions
from shared.detect import hub_io as detect_io
from shared.transfer import data, hub_io
from shared.transfer.backbone import WEIGHTS
from shared.transfer.cam import EVIDENCE_THRESHOLD, JOIN, MIN_CAM_SIZE
from shared.transfer.recipe import PROBE_LR_SCALE

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
# PIL refuses images over twice this, so even Gradio's own decoding of a drawing stays bounded
Image.MAX_IMAGE_PIXELS = data.MAX_PIXELS // 2
HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool

# Fine-tuned models of every session share one budget ($TRANSFER_SESSION_BUDGET_MB, 1 GB by
# default); the least recently used go first.
SESSIONS = Sessions(
    load_default("transfer", ("config.json", WEIGHTS), hub_io.load, app_dir=HERE),
    "TRANSFER_SESSION_BUDGET_MB",
)
# The Detect tab's detectors, fine-tuned ones within their own budget ($DETECT_SESSION_BUDGET_MB)
DETECTORS = Sessions(
    load_default("detect", ("config.json", WEIGHTS), detect_io.load, app_dir=HERE, what="Detector"),
    "DETECT_SESSION_BUDGET_MB",
    default_mb=256,
    what="detector",
)
classify = classify_tab.Classify(SESSIONS)  # its first view is made here, once
finetune = finetune_tab.FineTune(SESSIONS)
detect = detect_tab.Detect(DETECTORS)


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return SESSIONS.served.status


HOW_IT_WORKS = f"""
### How it works: the course's five objectives
1. **Load a pretrained CNN.** A timm backbone. Offline there are no ImageNet weights, so the
   "CNN pretrained on a large dataset" is the backbone trained on 40,000 printed letters
   rendered from the fonts that ship with matplotlib (`python -m training.pretrain`). The target
   is a different task in a different domain: all ten handwritten digits.
2. **Freeze the lower layers.** timm's stages (stem, layer1..layer4); frozen BatchNorm layers
   keep their statistics. The Model tab shows which stages each training stage trained.
3. **A custom head.** Dropout and a new output layer (optionally a hidden layer). Alone on a
   frozen backbone it learns at {PROBE_LR_SCALE:g}x the schedule's rate, as
   linear probes need.
4. **Train it.** Stage 1 trains the head only, with the course's schedule (warm-up 2e-5 to
   2e-3, then linear decay to 2e-4). The Fine-tune tab does this on your own zip.
5. **Tune and unfreeze.** Later stages unfreeze more layers with lower rates for lower layers;
   `--tune N` runs an Optuna search with k-fold CV. The Model tab compares from-scratch,
   head-only and fine-tuned on the same data, epochs and augmentation, with 5, 10 and 25 labels
   per class and the full set (the table gives each figure's seeds: one in the default run,
   three in `benchmarks/transfer.py`): the fewer the labels, the more pretraining helps.
   Beside it, the course's size x similarity chart, measured: from scratch, head only, the
   upper stages and every stage fine-tuned, on printed digits (similar to the printed letters)
   and on the handwritten ones, with 5 and 10 labels per class and with the full set.

**Your image:** for the digit model, a drawing or photo is made to look like the training
digits: a light background is inverted to white ink on black, the ink is cropped, squared and
shrunk to 8x8 pixels. **Where the object is:** Grad-CAM weighs a feature map by the gradient of
the top class; the evidence is the mean of two such maps, the deepest one at least
{MIN_CAM_SIZE}x{MIN_CAM_SIZE} cells wide and the next finer one. The box surrounds the evidence
above {EVIDENCE_THRESHOLD:.0%} of its range (pieces up to {JOIN:.1%} of the map's side apart
joined, the piece with the peak kept); on a plain background (a drawing, a scan) it is clipped
to the strokes that evidence touches. It is drawn on your own image.

**Limits:** uploads up to {launch.MAX_FILE_SIZE}; images up to {data.MAX_PIXELS:,} pixels; a
fine-tune zip up to {finetune_tab.APP_MAX_IMAGES} images, {data.MAX_UNZIPPED_BYTES // 2**20} MB
unpacked, {finetune_tab.MAX_EPOCHS} epochs and {launch.TRAIN_SECONDS} s of training; one
fine-tune runs at a time. Fine-tuned models of all visitors share {SESSIONS.budget_mb:,.0f} MB
(`TRANSFER_SESSION_BUDGET_MB`), each at most {finetune_tab.MAX_SESSION_MB} MB; when the budget
is full, the least recently used is dropped and its visitor is told so. No pickle is ever
loaded: weights are read from `model.safetensors` only.
"""

with gr.Blocks(
    title="Transfer learning of pretrained CNNs", delete_cache=launch.delete_cache()
) as demo:
    gr.Markdown("# Transfer learning of pretrained CNNs")
    info = gr.Markdown(SESSIONS.served.status, elem_id="transfer-status")
    demo.load(model_info, outputs=info, api_name="model_info", **HIDDEN)
    session = SESSIONS.state()
    with gr.Tab("Classify"):
        classify.build(session)
    with gr.Tab("Model"):
        usage = comparison_tab.build(SESSIONS.served.metrics)
        demo.load(finetune.usage, outputs=usage, api_name="sessions", **HIDDEN)
    with gr.Tab("Fine-tune"):
        finetune.build(session, usage)
    with gr.Tab("Detect"):
        detect.build()
    with gr.Tab("How it works"):
        gr.Markdown(HOW_IT_WORKS)

demo.queue(default_concurrency_limit=launch.QUEUE_CONCURRENCY)

if __name__ == "__main__":
    launch.prepare_to_serve()
    demo.launch(**launch.launch_kwargs())
