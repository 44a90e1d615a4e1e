"""Anomaly detection with an autoencoder: score data, move the threshold, train your own.

    python spaces/anomaly/app.py          # serves on http://127.0.0.1:7860

The model comes from $ANOMALY_MODEL, the repo a Space bundle names in models.json,
artifacts/anomaly/ or the Hub (shared.app.served.load_default). Each tab is a module beside
this file: picker.py (the data), score_tab.py (Detect), train_tab.py (Train and the Hub push),
model_tab.py (Model), uses_tab.py (What else an autoencoder does, with its own digit models);
charts.py and uses_charts.py build the plotly figures the browser draws. Scoring and training
live in shared/anomaly/ and shared/uses/ and return data.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import gradio as gr
import model_tab
import picker
import score_tab
import torch
import train_tab
import uses_tab

from shared.anomaly.model import MAX_LATENT, MAX_MODEL_MB, load_autoencoder
from shared.anomaly.report import score, summarize
from shared.anomaly.upload import MAX_ROWS, read_csv
from shared.app.errors import friendly
from shared.app.launch import (
    MAX_FILE_SIZE,
    QUEUE_CONCURRENCY,
    TRAIN_SECONDS,
    delete_cache,
    launch_kwargs,
    prepare_to_serve,
)
from shared.app.served import load_default
from shared.app.sessions import Sessions

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
# The served autoencoder, and every session's trained model together under one memory budget
# ($ANOMALY_SESSION_BUDGET_MB, least recently used evicted first).
SESSIONS = Sessions(
    load_default("anomaly", ("config.json", "model.safetensors"), load_autoencoder, app_dir=HERE),
    "ANOMALY_SESSION_BUDGET_MB",
)
SERVED = score_tab.served_answers(SESSIONS)  # the served model's answers on the built-ins
FIRST = score_tab.first_view(SESSIONS, SERVED)  # the Detect tab as it opens, made once
FIRST_MODEL = model_tab.model_view(SESSIONS)  # the Model tab as it opens
USES = uses_tab.load(HERE)  # the digit models of "What else an autoencoder does"
FIRST_USES = uses_tab.first_view(USES)  # that tab as it opens


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    served = SESSIONS.served
    return f"{served.status} {served.model.describe()}." if served.model else served.status


@friendly
def score_csv(csv_text: str, label_column: str = "", drop_missing: bool = False) -> str:
    """Score a CSV for anomalies with the served autoencoder, at its own threshold.

    Each row is one sample; a model trained on a series (its window length is in `model`)
    reads a one-column CSV as a series and scores each window of it. A sample whose
    reconstruction error is above the threshold is flagged as an anomaly.

    Args:
        csv_text: the CSV's contents (header optional; `,` `;` tab or `|`; decimal commas read)
        label_column: a column of known labels (1 = anomaly), not scored; adds precision/recall
        drop_missing: drop rows with missing values instead of refusing the file

    Returns:
        JSON: samples scored, the threshold and its rule, how many samples are flagged, the
        worst flagged rows (row number and error, highest first) and, with labels, metrics.
    """
    with tempfile.TemporaryDirectory(prefix="anomaly-tool-") as tmp:
        path = Path(tmp) / "pasted.csv"
        path.write_text(csv_text)
        csv = read_csv(path)
    parts = ("pasted.csv", csv.frame)
    model = SESSIONS.current(None)
    scored = score(model, uploaded=parts, label_col=label_column, drop_missing=drop_missing)
    return json.dumps({"read": csv.description, **summarize(scored)}, indent=1)


HOW = f"""
**(a) Libraries**: PyTorch for the autoencoder, scikit-learn for metrics, Gradio for this page.
**(b) Data**: a built-in dataset (ECG and KDD-135 series cut into sliding windows, breast cancer
with benign as normal, digits with one digit as normal) or your CSV: one sample per row, or one
series column. Labels, if any, are 1 = anomaly.
**(c) Encoder**: squeezes each sample into a small latent vector (the Model tab shows its size).
**(d) Decoder**: rebuilds the sample from that vector. Normal data rebuilds well; anomalies don't.
**(e) Compile and train**: Adam on the MSE (or MAE) reconstruction loss, on normal samples only
when labels exist. The batch size and the number of steps follow the number of samples; early
stopping watches a validation split when there are enough samples for one. The reconstruction
error is the anomaly score; the threshold rule turns it into a decision, and the slider moves it.
With labelled validation data the default rule is best F1 on it; without, the TensorFlow
tutorial's mean + 1 std of the training errors ("Threshold rules compared" shows both).

**Limits**: uploads up to {MAX_FILE_SIZE.upper()} and {MAX_ROWS:,} rows; in-app training uses at
most {train_tab.TRAIN_ROWS:,} samples, {train_tab.MAX_EPOCHS} epochs and {TRAIN_SECONDS} seconds,
one run at a time; a model trained here weighs at most {MAX_MODEL_MB} MB (a dense autoencoder of
about 3,100 inputs) with a latent size of at most {MAX_LATENT:,}. Every visitor's trained model
shares a memory budget of {SESSIONS.budget_mb:,.0f} MB; the least recently used are removed
first, and their visitors are told so.
"""

with gr.Blocks(title="Anomaly detection with an autoencoder", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Anomaly detection with an autoencoder")
    gr.Markdown(model_info())
    session = SESSIONS.state()  # this visitor's trained model, if any
    picked = picker.build()
    with gr.Tabs():
        with gr.Tab("Detect"):
            detected = score_tab.build(SESSIONS, SERVED, picked, session, FIRST)
        described = model_tab.components(FIRST_MODEL)  # Train fills them too
        with gr.Tab("Train"):
            train_tab.build(SESSIONS, picked, session, detected.uploaded, described)
        with gr.Tab("Model") as tab:
            model_tab.build(SESSIONS, described, session, tab)
        with gr.Tab("What else an autoencoder does"):
            uses_tab.build(USES, FIRST_USES, SESSIONS.served)
        with gr.Tab("How it works"):
            gr.Markdown(HOW)
    gr.api(score_csv, api_name="score_csv")  # the MCP tool and API endpoint, no UI
    gr.api(model_info, api_name="model_info", api_visibility="undocumented")  # a no-op probe

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()
    # One torch thread per request: Gradio runs 4 at once, and on 2 cores a second thread per
    # request spins waiting for the first. Scoring and drawing an uploaded 3,000-point ECG CSV
    # took 207 ms of CPU with two threads and 70 ms with one; training too was faster with one.
    torch.set_num_threads(1)
    demo.launch(**launch_kwargs())
