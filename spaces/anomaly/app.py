"""Anomaly detection with an autoencoder: score data, move the threshold, train your own.

python spaces/anomaly/app.py          # serves on http://127.0.0.1:7860

The model comes from $ANOMALY_MODEL, the repo a Space bundle names in models.json,
artifacts/anomaly/ or the Hub (shared.hub.locate_model).
Scoring and what it shows live in shared/anomaly/report.py, training in shared/anomaly/train.py;
the handlers below only connect them to the page.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from shared.anomaly.data import BUILTINS, MAX_ROWS, load_builtin, read_csv, task_from_frame
from shared.anomaly.model import Autoencoder, load_autoencoder
from shared.anomaly.plots import roc_pr
from shared.anomaly.report import FLAGGED_SHOWN, SCORES_DIR, sample, score, view
from shared.anomaly.scoring import THRESHOLD_RULES
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.hub import ModelSourceError, load_json, locate_model
from shared.plots import history_plot
from shared.ui import (
    MAX_FILE_SIZE,
    QUEUE_CONCURRENCY,
    TRAIN_CONCURRENCY,
    TRAIN_SECONDS,
    UserInputError,
    delete_cache,
    friendly,
    launch_kwargs,
    model_status,
    plot_data,
    prepare_to_serve,
)

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
TRAIN_ROWS = 5_000  # samples one in-app training run may use (a random subsample beyond)
MAX_EPOCHS = 100

LOCATION = locate_model("anomaly", required=("config.json", "model.safetensors"), app_dir=HERE)
MODEL: Autoencoder | None = None
HISTORY: dict = {}  # metrics.json of the loaded model: test metrics and loss curves
if LOCATION.folder is not None:
    try:
        MODEL = load_autoencoder(LOCATION.folder)
        if (LOCATION.folder / "metrics.json").is_file():
            HISTORY = load_json(LOCATION.folder / "metrics.json")
    except (ModelSourceError, OSError, ValueError) as err:
        LOCATION = replace(LOCATION, folder=None, error=f"Could not load the model: {err}")


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    text = model_status(LOCATION)
    return f"{text} {MODEL.describe()}." if MODEL is not None else text


def _model(session: dict | None) -> Autoencoder:
    if session is not None:
        return session["model"]
    if MODEL is None:
        raise UserInputError(f"No model is loaded. {LOCATION.error} Or train one in the Train tab.")
    return MODEL


def read_upload(upload: str | None, cached: tuple | None) -> tuple | None:
    """(name, parsed frame) of an upload, read once: its temp file is deleted after reading."""
    if not upload:
        return None
    if cached is not None and cached[0] == upload:
        return cached
    # Gradio stores uploads by content hash, so a concurrent request may be reading this same
    # path: leave it to the delete_cache sweep rather than deleting it here.
    return upload, Path(upload).name, read_csv(upload)


def load_task(dataset, digit, uploaded, layout, label_col, window, stride, drop_missing):
    """The data the user picked: an uploaded CSV if there is one, else a built-in dataset."""
    if uploaded:
        _, name, frame = uploaded
        return task_from_frame(
            frame.copy(), name, layout, label_col, int(window), int(stride), drop_missing
        )
    return load_builtin(dataset, int(digit), int(window), int(stride))


@dataclass(frozen=True)
class Answer:
    """What the Score button shows for some scored data, at the model's threshold."""

    scored: dict
    summary: str
    slider: gr.Slider
    view: tuple  # view()'s outputs
    curves: object  # ROC/PR plot data, None without two label classes
    rows: gr.Number
    sample: object  # plot data of the worst row

    @classmethod
    def of(cls, scored: dict, csv: Path | None = None) -> Answer:
        model, errors, labels = scored["model"], scored["errors"], scored["labels"]
        top = float(max(errors.max(), model.config.threshold) * 1.05)
        both = labels is not None and len(np.unique(labels)) == 2
        first = int(np.argmax(errors))
        return cls(
            scored=scored,
            summary=f"Scored **{scored['name']}**: {len(errors):,} samples with the "
            f"{model.describe()}.",
            slider=gr.Slider(
                minimum=0.0, maximum=top, value=model.config.threshold, step=top / 500
            ),
            view=view(scored, model.config.threshold, csv),
            curves=plot_data(roc_pr(errors, labels)) if both else None,
            rows=gr.Number(value=first, maximum=len(errors) - 1),
            sample=sample(scored, first),
        )

    def outputs(self) -> tuple:
        return (
            self.scored, self.summary, self.slider, *self.view, self.curves, self.rows,
            self.sample,
        )  # fmt: skip


def served_csv(dataset: str, digit: int) -> Path:
    return SCORES_DIR / f"served-{dataset}-{digit}.csv"  # scores_file() leaves these alone


@functools.lru_cache(maxsize=len(BUILTINS) + 9)
def served_answer(dataset: str, digit: int) -> Answer:
    """The served model on a built-in test split: the same for every visitor, so made once.

    Figures included: drawing them cost ~0.6 s of CPU per Score, and 20 visitors on 2 cores
    waited 17 s for an answer (benchmarks/results/load.md).
    """
    scored = score(_model(None), dataset, digit)
    scored["errors"].setflags(write=False)
    scored["served"] = (dataset, digit)
    return Answer.of(scored, served_csv(dataset, digit))


@friendly
def detect(dataset, digit, upload, label_col, drop_missing, session, uploaded):
    uploaded = read_upload(upload, uploaded)
    if session is None and not uploaded:
        digit = int(digit) if dataset == "digits" else 0
        if not served_csv(dataset, digit).is_file():  # a temp cleaner took it: make it again
            served_answer.cache_clear()
        return uploaded, *served_answer(dataset, digit).outputs()
    scored = score(_model(session), dataset, digit, uploaded, label_col, drop_missing)
    return uploaded, *Answer.of(scored).outputs()


@friendly
def rethreshold(threshold, scored):
    if not scored:
        raise UserInputError("Score some data first (the Score button).")
    threshold = float(threshold)
    if "served" in scored and threshold == scored["model"].config.threshold:
        return served_answer(*scored["served"]).view  # what Score itself just showed
    return view(scored, threshold)


@friendly
def show_sample(row, scored):
    return sample(scored, row)


@friendly
def train(
    dataset, digit, upload, layout, label_col, window, stride, drop_missing, variant, epochs,
    latent, rule, param, uploaded, progress=gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
):  # fmt: skip
    """Train a new autoencoder for this session only, capped in rows and seconds."""
    epochs = int(epochs)
    if not 1 <= epochs <= MAX_EPOCHS:
        raise UserInputError(f"Epochs must be 1 to {MAX_EPOCHS} (got {epochs}).")
    uploaded = read_upload(upload, uploaded)
    data = load_task(dataset, digit, uploaded, layout, label_col, window, stride, drop_missing)
    settings = TrainSettings(
        variant=variant, latent=int(latent or 0), epochs=epochs, threshold_rule=rule,
        threshold_param=param if THRESHOLD_RULES[rule][1] else None,
        max_seconds=TRAIN_SECONDS, max_rows=TRAIN_ROWS, batch_size=128,
    )  # fmt: skip

    def report(row):
        progress((row["epoch"], epochs), desc=f"epoch {row['epoch']}: loss {row['val_loss']:.4f}")

    result = train_autoencoder(data, settings, on_epoch=report)
    c = result.model.config
    text = (
        f"Trained a {result.model.describe()} for {len(result.history)} epochs "
        f"({result.stop_reason}). Threshold {c.threshold:.4g} by '{THRESHOLD_RULES[rule][0]}'. "
        "The Detect tab now uses it for your session."
    )
    if result.metrics:
        m = result.metrics
        text += f" Test ROC-AUC {m['roc_auc']:.3f}, PR-AUC {m['pr_auc']:.3f}, F1 {m['f1']:.3f}."
    session = {"model": result.model, "history": result.history, "metrics": result.metrics}
    return uploaded, session, text, plot_data(history_plot(result.history)), *model_tab(session)


@friendly
def model_tab(session):
    """The architecture as a table, the loss curves and the metrics of the model in use."""
    return served_model_tab() if session is None else describe_model(session)


@functools.cache
def served_model_tab():
    return describe_model(None)  # every visitor's page load asks for it


def describe_model(session):
    if session is None and MODEL is None:
        return pd.DataFrame(), None, model_info()
    model = _model(session)
    record = session or {"history": HISTORY.get("history", []), "metrics": HISTORY.get("test", {})}
    layers, width = [], model.config.n_features
    for part in ("encoder", "decoder"):
        for name, layer in getattr(model, part).named_children():
            n = sum(p.numel() for p in layer.parameters())
            layers.append({"part": part, "layer": f"{name}: {layer}", "parameters": n})
    table = pd.DataFrame(layers)
    total = sum(p.numel() for p in model.parameters())
    m = record["metrics"]
    text = (
        f"{model.describe()}: input {width}, latent {model.config.latent}, {total:,} parameters. "
        f"Threshold {model.config.threshold:.4g} "
        f"({THRESHOLD_RULES[model.config.threshold_rule][0]})."
    )
    if m:
        text += "\n\nTest metrics (anomaly = positive): " + ", ".join(
            f"{k} {m[k]:.3f}" for k in ("roc_auc", "pr_auc", "precision", "recall", "f1")
        )
    curves = plot_data(history_plot(record["history"])) if record["history"] else None
    return table, curves, text


HOW = f"""
**(a) Libraries**: PyTorch for the autoencoder, scikit-learn for metrics, Gradio for this page.
**(b) Data**: a built-in dataset (ECG and KDD-135 series cut into sliding windows, breast cancer
with benign as normal, digits with one digit as normal) or your CSV: one sample per row, or one
series column. Labels, if any, are 1 = anomaly.
**(c) Encoder**: squeezes each sample into a small latent vector (the Model tab shows its size).
**(d) Decoder**: rebuilds the sample from that vector. Normal data rebuilds well; anomalies don't.
**(e) Compile and train**: Adam on the MAE (or MSE) reconstruction loss, on normal samples only
when labels exist, with early stopping on a validation split. The reconstruction error is the
anomaly score; the threshold rule turns it into a decision, and the slider moves it.

**Limits**: uploads up to {MAX_FILE_SIZE.upper()} and {MAX_ROWS:,} rows; in-app training uses at
most {TRAIN_ROWS:,} samples, {MAX_EPOCHS} epochs and {TRAIN_SECONDS} seconds, one run at a time.
"""

with gr.Blocks(title="Anomaly detection with an autoencoder", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Anomaly detection with an autoencoder")
    info = gr.Markdown(model_info())
    session = gr.State(None)
    scored = gr.State(None)
    uploaded = gr.State(None)  # (path, name, frame) of the current upload, parsed once
    with gr.Row():
        dataset = gr.Dropdown(
            list(BUILTINS), value="ecg", label="Built-in dataset", elem_id="dataset"
        )
        digit = gr.Slider(0, 9, value=0, step=1, label="digits: the normal digit")
        upload = gr.File(
            label="Or upload a CSV", file_types=[".csv"], type="filepath", elem_id="upload"
        )
    with gr.Row():
        layout = gr.Radio(["table", "series"], value="table", label="CSV layout")
        label_col = gr.Textbox(label="Label column (optional, 1 = anomaly)", elem_id="label-col")
        window = gr.Number(value=200, precision=0, label="series: window length")
        stride = gr.Number(value=1, precision=0, label="series: stride")
        drop_missing = gr.Checkbox(label="drop rows with missing values")
    with gr.Tabs():
        with gr.Tab("Detect"):
            go = gr.Button("Score", variant="primary", elem_id="score")
            summary = gr.Markdown(elem_id="summary")
            threshold = gr.Slider(0, 1, value=0.5, label="Threshold", elem_id="threshold")
            count = gr.Markdown(elem_id="flagged-count")
            report = gr.Markdown(elem_id="report")
            with gr.Row():
                hist = gr.Plot(label="Error histogram", elem_id="histogram")
                curves = gr.Plot(label="ROC and PR curves")
            confusion = gr.Dataframe(label="Confusion matrix")
            series = gr.Plot(label="Series with flagged points")
            with gr.Row():
                row = gr.Number(value=0, precision=0, label="Sample viewer: row", minimum=0)
                viewer = gr.Plot(label="Input vs reconstruction")
            flagged = gr.Dataframe(label=f"Flagged rows (top {FLAGGED_SHOWN} by error)")
            download = gr.DownloadButton("Download scored rows (CSV)")
        with gr.Tab("Train"):
            with gr.Row():
                variant = gr.Radio(["dense", "conv"], value="dense", label="Variant")
                epochs = gr.Slider(1, MAX_EPOCHS, value=20, step=1, label="Epochs")
                latent = gr.Number(value=0, precision=0, label="Latent size (0 = tutorial)")
            with gr.Row():
                choices = [(label, key) for key, (label, _, _) in THRESHOLD_RULES.items()]
                rule = gr.Dropdown(choices, value="mean_std", label="Threshold rule")
                param = gr.Number(value=1.0, label="Rule parameter (k, or contamination rate)")
            train_btn = gr.Button("Train", variant="primary", elem_id="train")
            train_text = gr.Markdown()
            train_plot = gr.Plot(label="Loss per epoch")
        with gr.Tab("Model"):
            arch = gr.Dataframe(label="Architecture")
            loss_plot = gr.Plot(label="Training and validation loss")
            model_text = gr.Markdown()
        with gr.Tab("How it works"):
            gr.Markdown(HOW)

    view_outputs = [count, report, confusion, flagged, hist, series, download]
    go.click(
        detect,
        [dataset, digit, upload, label_col, drop_missing, session, uploaded],
        [uploaded, scored, summary, threshold, *view_outputs, curves, row, viewer],
        api_name="detect",
    )
    threshold.change(rethreshold, [threshold, scored], view_outputs, api_name="threshold")
    row.change(show_sample, [row, scored], viewer, api_name="sample")
    train_btn.click(
        train,
        [dataset, digit, upload, layout, label_col, window, stride, drop_missing, variant,
         epochs, latent, rule, param, uploaded],
        [uploaded, session, train_text, train_plot, arch, loss_plot, model_text],
        api_name="train",
        concurrency_limit=TRAIN_CONCURRENCY,
        time_limit=TRAIN_SECONDS + 30,
    )  # fmt: skip
    demo.load(model_info, outputs=info, api_name="model_info")
    demo.load(model_tab, [session], [arch, loss_plot, model_text], api_name="model_tab")

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()
    demo.launch(**launch_kwargs())
