"""Anomaly detection with an autoencoder: score data, move the threshold, train your own.

python spaces/anomaly/app.py          # serves on http://127.0.0.1:7860

The model comes from $ANOMALY_MODEL, the repo a Space bundle names in models.json,
artifacts/anomaly/ or the Hub (shared.app.served.load_default).
Scoring and what it shows live in shared/anomaly/report.py, training in shared/anomaly/train.py;
both return data. The handlers below connect them to the page; the browser draws every plot
(charts.py builds the plotly ones).
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import charts
import gradio as gr
import numpy as np
import pandas as pd

from shared.anomaly.artifact import save_model
from shared.anomaly.builtin import BUILTINS, load_builtin
from shared.anomaly.data import ECG_WINDOW
from shared.anomaly.model import (
    MAX_LATENT,
    MAX_MODEL_MB,
    Autoencoder,
    AutoencoderConfig,
    load_autoencoder,
    weight_bytes,
)
from shared.anomaly.plots import loss_curves, roc_pr
from shared.anomaly.report import (
    FLAGGED_SHOWN,
    SCORES_DIR,
    Scored,
    ThresholdView,
    compare_rules,
    expectation,
    sample,
    score,
    summarize,
    view,
)
from shared.anomaly.scoring import RULES
from shared.anomaly.train import TrainSettings, train_autoencoder
from shared.anomaly.upload import MAX_ROWS, read_csv, task_from_frame
from shared.app.errors import friendly
from shared.app.hub_push import push_trained, sign_in
from shared.app.launch import (
    MAX_FILE_SIZE,
    QUEUE_CONCURRENCY,
    TRAIN_CONCURRENCY,
    TRAIN_SECONDS,
    delete_cache,
    launch_kwargs,
    prepare_to_serve,
)
from shared.app.served import DefaultModel, load_default
from shared.app.store import MB, SESSION_SECONDS, SessionStore, Ticket
from shared.errors import UserInputError
from shared.hub import REPO_NAMES

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
TRAIN_ROWS = 5_000  # samples one in-app training run may use (a random subsample beyond)
MAX_EPOCHS = 100
# Every session's trained model together, least recently used evicted first.
STORE = SessionStore.from_env("ANOMALY_SESSION_BUDGET_MB")
SERIES_BUILTINS = ("ecg", "kdd135")  # built-ins cut into windows: window and stride apply
AUTO_RULE = "auto"  # the Train tab's default rule: best F1 with labelled validation, else mean_std


def served_model() -> DefaultModel[Autoencoder]:
    """The default autoencoder, its metrics.json (test metrics, loss curves) and status line."""
    return load_default("anomaly", ("config.json", "model.safetensors"), load_autoencoder,
                        app_dir=HERE)  # fmt: skip


MODEL, HISTORY, STATUS = served_model()


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return f"{STATUS} {MODEL.describe()}." if MODEL is not None else STATUS


def session_record(ticket: Ticket | None) -> dict | None:
    """This session's trained model and what a push saves, or None for the served model.

    A model evicted to keep the app within its memory budget is named to its visitor, and the
    served model answers instead.
    """
    record = STORE.get(ticket)
    if ticket is not None and record is None:
        gr.Warning(evicted(ticket))
    return record


def evicted(ticket: Ticket) -> str:
    return (
        f"Your {ticket.name} was removed to keep this app within its memory budget for all "
        "visitors' models (least recently used go first); the app's own model answers now. "
        "Train again to get it back."
    )


def _model(session: dict | None) -> Autoencoder:
    if session is not None:
        return session["model"]
    if MODEL is None:
        raise UserInputError(f"No model is loaded. {STATUS} Or train one in the Train tab.")
    return MODEL


class Upload(NamedTuple):
    """An uploaded CSV, parsed once: its temp path, file name, frame and what was read."""

    path: str
    name: str
    frame: pd.DataFrame
    description: str


def read_upload(upload: str | None, cached: Upload | None) -> Upload | None:
    """The parsed upload, read once per file: Score and Train reuse it."""
    if not upload:
        return None
    if cached is not None and cached.path == upload:
        return cached
    # Gradio stores uploads by content hash, so a concurrent request may be reading this same
    # path: leave it to the delete_cache sweep rather than deleting it here.
    csv = read_csv(upload)
    return Upload(upload, Path(upload).name, csv.frame, csv.description)


def load_task(dataset, digit, uploaded, layout, label_col, window, stride, drop_missing):
    """The data the user picked: an uploaded CSV if there is one, else a built-in dataset."""
    if uploaded:
        return task_from_frame(
            uploaded.frame.copy(), uploaded.name, layout, label_col, int(window), int(stride),
            drop_missing,
        )  # fmt: skip
    return load_builtin(dataset, int(digit), int(window), int(stride))


def shown(v: ThresholdView) -> tuple:
    """A threshold view as the Detect tab's outputs; the browser draws the figures."""
    series = None if v.series is None else charts.page_data(charts.series(v.series))
    histogram = charts.page_data(charts.histogram(v.histogram, v.threshold))
    return (
        v.count, v.report, v.confusion, v.flagged, histogram,
        gr.Plot(series, visible=series is not None), str(v.csv),
    )  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What the Score button shows for some scored data, at the model's threshold."""

    scored: Scored
    summary: str
    slider: gr.Slider
    view: tuple  # shown(view(...))
    curves: gr.Plot  # ROC and PR, hidden without two label classes
    rows: gr.Number
    sample: pd.DataFrame  # the worst row against its reconstruction
    rules: pd.DataFrame  # every rule's threshold on this data
    why: str

    @classmethod
    def of(cls, scored: Scored, note: str = "", csv: Path | None = None) -> Answer:
        model, errors, labels = scored.model, scored.errors, scored.labels
        top = float(max(errors.max(), model.config.threshold) * 1.05)
        both = labels is not None and len(np.unique(labels)) == 2
        first = int(np.argmax(errors))
        rules, why = compare_rules(scored)
        return cls(
            scored=scored,
            summary=f"{note}\n\nScored **{scored.name}**: {len(errors):,} samples with the "
            f"{model.describe()}. {expectation(scored)}".strip(),
            slider=gr.Slider(
                minimum=0.0, maximum=top, value=model.config.threshold, step=top / 500
            ),
            view=shown(view(scored, model.config.threshold, csv)),
            curves=gr.Plot(
                charts.page_data(charts.roc_pr(*roc_pr(errors, labels))) if both else None,
                visible=both,
            ),
            rows=gr.Number(value=first, maximum=len(errors) - 1),
            sample=sample(scored, first),
            rules=rules,
            why=why,
        )

    def outputs(self) -> tuple:
        return (
            self.scored, self.summary, self.slider, *self.view, self.curves, self.rows,
            self.sample, self.rules, self.why,
        )  # fmt: skip


def served_csv(dataset: str, digit: int) -> Path:
    return SCORES_DIR / f"served-{dataset}-{digit}.csv"  # scores_file() leaves these alone


@functools.lru_cache(maxsize=len(BUILTINS) + 9)
def served_answer(dataset: str, digit: int) -> Answer:
    """The served model on a built-in test split: the same for every visitor, so made once."""
    scored = score(_model(None), dataset, digit)
    scored.errors.setflags(write=False)
    scored.served = (dataset, digit)
    return Answer.of(scored, csv=served_csv(dataset, digit))


@friendly
def detect(
    dataset: str,
    digit: int,
    upload: str | None,
    label_col: str,
    drop_missing: bool,
    ticket: Ticket | None = None,
    uploaded: Upload | None = None,
):
    """The Score button: a built-in test split or the upload, scored at the model's threshold.

    Without a session model or an upload, every visitor gets the same cached answer.
    """
    session = session_record(ticket)
    uploaded = read_upload(upload, uploaded)
    if session is None and not uploaded:
        digit = int(digit) if dataset == "digits" else 0
        if not served_csv(dataset, digit).is_file():  # a temp cleaner took it: make it again
            served_answer.cache_clear()
        return uploaded, *served_answer(dataset, digit).outputs()
    upload_parts = None if uploaded is None else (uploaded.name, uploaded.frame)
    scored = score(_model(session), dataset, digit, upload_parts, label_col, drop_missing)
    return uploaded, *Answer.of(scored, uploaded.description if uploaded else "").outputs()


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
    scored = score(_model(None), uploaded=("pasted.csv", csv.frame), label_col=label_column,
                   drop_missing=drop_missing)  # fmt: skip
    return json.dumps({"read": csv.description, **summarize(scored)}, indent=1)


def first_view():
    """The Detect tab on page load: ECG scored by the served model, or the reason there is none."""
    if MODEL is None:
        return (gr.skip(), gr.skip(), model_info(), *[gr.skip()] * 13)
    return None, *served_answer("ecg", 0).outputs()


@friendly
def rethreshold(threshold, scored: Scored | None):
    if not scored:
        raise UserInputError("Score some data first (the Score button).")
    threshold = float(threshold)
    if scored.served is not None and threshold == scored.model.config.threshold:
        return served_answer(*scored.served).view  # what Score itself just showed
    return shown(view(scored, threshold))


@friendly
def show_sample(row, scored):
    return sample(scored, row)


def controls(dataset: str, upload: str | None, layout: str) -> tuple:
    """Only the options that apply: the digit for digits, window and stride for series, the
    CSV's own options with a CSV."""
    series = layout == "series" if upload else dataset in SERIES_BUILTINS
    return (
        gr.update(visible=not upload and dataset == "digits"),
        gr.update(visible=bool(upload)),
        gr.update(visible=bool(upload)),
        gr.update(visible=bool(upload)),
        gr.update(visible=series),
        gr.update(visible=series),
    )


def rule_parameter(rule: str):
    """The rule's parameter, named after it, or hidden for a rule that takes none."""
    record = RULES.get(rule)
    if record is None or not record.param_name:
        return gr.update(visible=False)
    return gr.update(
        visible=True, label=f"{record.label}: {record.param_name}", value=record.default
    )


@friendly
def train(
    dataset, digit, upload, layout, label_col, window, stride, drop_missing, variant, epochs,
    latent, rule, param, uploaded, ticket=None, progress=gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
):  # fmt: skip
    """Train a new autoencoder for this session only, capped in rows and seconds."""
    epochs = int(epochs)
    if not 0 <= epochs <= MAX_EPOCHS:
        raise UserInputError(f"Epochs must be 0 (automatic) to {MAX_EPOCHS} (got {epochs}).")
    rule = None if rule == AUTO_RULE else rule
    record = None if rule is None else RULES.get(rule)
    latent = int(latent or 0)
    if not 0 <= latent <= MAX_LATENT:
        raise UserInputError(
            f"The latent size must be 0 (tutorial) to {MAX_LATENT} (got {latent})."
        )
    uploaded = read_upload(upload, uploaded)
    data = load_task(dataset, digit, uploaded, layout, label_col, window, stride, drop_missing)
    check_size(data.train.shape[1], variant, latent)
    settings = TrainSettings(
        variant=variant, latent=latent, epochs=epochs, threshold_rule=rule,
        threshold_param=param if record is not None and record.param_name else None,
        max_seconds=TRAIN_SECONDS, max_rows=TRAIN_ROWS,
    )  # fmt: skip
    checks = epochs or settings.checks

    def report(row):
        progress((row["epoch"], checks), desc=f"check {row['epoch']}: loss {row['train_loss']:.4f}")

    result = train_autoencoder(data, settings, on_epoch=report)
    c = result.model.config
    text = (
        f"Trained a {result.model.describe()}: {result.budget.steps:,} steps of "
        f"{result.budget.batch_size} samples planned, {len(result.history)} checks run "
        f"({result.stop_reason}). Threshold {c.threshold:.4g} by '{RULES[c.threshold_rule].label}'"
        ". The Detect tab now uses it for your session."
    )
    if uploaded:
        text = f"{uploaded.description} {text}"
    if result.metrics:
        m = result.metrics
        text += f" Test ROC-AUC {m['roc_auc']:.3f}, PR-AUC {m['pr_auc']:.3f}, F1 {m['f1']:.3f}."
    session = {
        "model": result.model, "history": result.history, "metrics": result.metrics,
        "result": result, "settings": settings, "dataset": data.name,  # what a push saves
    }  # fmt: skip
    STORE.discard(ticket)  # this session's earlier model: replaced, not kept twice
    name = f"model trained on {data.name} at {time.strftime('%H:%M:%S UTC', time.gmtime())}"
    ticket = STORE.put(session, record_bytes(result), name)
    return uploaded, ticket, text, loss_curves(result.history), *model_tab(ticket)


def check_size(n_features: int, variant: str, latent: int) -> None:
    """Refuse, before training, a model heavier than a visitor may make this app hold."""
    size = weight_bytes(AutoencoderConfig(n_features, variant=variant, latent=latent)) / MB
    if size > MAX_MODEL_MB:
        raise UserInputError(
            f"A {variant} autoencoder of {n_features:,} inputs would weigh {size:,.1f} MB; a "
            f"model trained here may weigh {MAX_MODEL_MB} MB. Use a shorter window, fewer "
            "columns or a smaller latent size (or train it with `python -m training.anomaly`)."
        )


def record_bytes(result) -> int:
    """What a session's record holds: the weights and the errors the threshold rules use."""
    arrays = [result.train_errors, *([result.val_errors] if result.val_errors is not None else [])]
    weights = sum(t.numel() * t.element_size() for t in result.model.state_dict().values())
    return weights + sum(a.nbytes for a in arrays)


@friendly
def model_tab(ticket: Ticket | None):
    """The architecture as a table, the loss curves, the metrics and the model's config."""
    session = session_record(ticket)
    table, curves, text, config = served_model_tab() if session is None else describe_model(session)
    if ticket is not None and session is None:
        text = f"⚠️ {evicted(ticket)}\n\n{text}"
    return table, curves, f"{text}\n\nMemory: {STORE.usage()}", config


@functools.cache
def served_model_tab():
    return describe_model(None)  # every visitor's page load asks for it


def describe_model(session):
    if session is None and MODEL is None:
        return pd.DataFrame(), loss_curves([]), model_info(), {}
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
        f"Threshold {model.config.threshold:.4g} ({RULES[model.config.threshold_rule].label})."
    )
    if m:
        text += "\n\nTest metrics (anomaly = positive): " + ", ".join(
            f"{k} {m[k]:.3f}" for k in ("roc_auc", "pr_auc", "precision", "recall", "f1")
        )
    curves = loss_curves(record["history"])
    config = {k: v for k, v in vars(model.config).items() if k not in ("mean", "std", "columns")}
    return table, curves, text, config


@friendly
def push(
    ticket: Ticket | None, name: str, profile: gr.OAuthProfile | None, token: gr.OAuthToken | None
):
    """Push the session's trained model to `<signed-in user>/<name>`: the CLI's folder and card."""
    session = STORE.get(ticket)
    if ticket is not None and session is None:
        raise UserInputError(evicted(ticket))

    def save(folder: Path) -> None:
        command = "# trained in the anomaly app's Train tab; the settings are in metrics.json"
        save_model(folder, session["result"], session["settings"], session["dataset"], command)

    return push_trained(save if session else None, name, profile, token)


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
most {TRAIN_ROWS:,} samples, {MAX_EPOCHS} epochs and {TRAIN_SECONDS} seconds, one run at a time; a
model trained here weighs at most {MAX_MODEL_MB} MB (a dense autoencoder of about 3,100 inputs)
with a latent size of at most {MAX_LATENT:,}. Every visitor's trained model shares a memory budget
of {STORE.budget / MB:,.0f} MB; the least recently used are removed first, and their visitors
are told so.
"""

with gr.Blocks(title="Anomaly detection with an autoencoder", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Anomaly detection with an autoencoder")
    info = gr.Markdown(model_info())
    session = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=STORE.discard)
    scored = gr.State(None)
    uploaded = gr.State(None)  # the current Upload, parsed once
    with gr.Row():
        dataset = gr.Dropdown(
            list(BUILTINS), value="ecg", label="Built-in dataset", elem_id="dataset"
        )
        digit = gr.Slider(
            0, 9, value=0, step=1, label="The normal digit", visible=False, elem_id="digit"
        )
        upload = gr.File(
            label="Or upload a CSV", file_types=[".csv"], type="filepath", elem_id="upload"
        )
    with gr.Row():
        layout = gr.Radio(
            ["table", "series"], value="table", label="CSV layout", visible=False, elem_id="layout"
        )
        label_col = gr.Textbox(
            label="Label column (optional, 1 = anomaly)", visible=False, elem_id="label-col"
        )
        window = gr.Number(value=ECG_WINDOW, precision=0, label="Window length", elem_id="window")
        stride = gr.Number(value=1, precision=0, label="Stride", elem_id="stride")
        drop_missing = gr.Checkbox(label="Drop rows with missing values", visible=False)
    with gr.Tabs():
        with gr.Tab("Detect"):
            go = gr.Button("Score", variant="primary", elem_id="score")
            summary = gr.Markdown(elem_id="summary")
            threshold = gr.Slider(0, 1, value=0.5, label="Threshold", elem_id="threshold")
            count = gr.Markdown(elem_id="flagged-count")
            report = gr.Markdown(elem_id="report")
            series = gr.Plot(label="Series with flagged points", elem_id="series")
            with gr.Row():
                hist = gr.Plot(label="Error histogram", elem_id="histogram")
                curves = gr.Plot(label="ROC and PR curves", elem_id="curves")
            confusion = gr.Dataframe(label="Confusion matrix", elem_id="confusion")
            with gr.Row():
                row = gr.Number(value=0, precision=0, label="Sample viewer: row", minimum=0)
                viewer = gr.LinePlot(
                    x="step", y="value", color="line", label="Input vs reconstruction",
                    x_title="feature / time step", elem_id="viewer",
                )  # fmt: skip
            flagged = gr.Dataframe(label=f"Flagged rows (top {FLAGGED_SHOWN} by error)")
            download = gr.DownloadButton("Download scored rows (CSV)")
            with gr.Accordion("Threshold rules compared", open=False):
                rules = gr.Dataframe(label="Each rule's threshold on this data", elem_id="rules")
                why = gr.Markdown()
        with gr.Tab("Train"):
            with gr.Row():
                variant = gr.Radio(["dense", "conv"], value="dense", label="Variant")
                epochs = gr.Slider(
                    0, MAX_EPOCHS, value=0, step=1, label="Epochs (0 = from the data size)"
                )
                latent = gr.Number(value=0, precision=0, minimum=0, maximum=MAX_LATENT,
                                   label="Latent size (0 = tutorial)")  # fmt: skip
            with gr.Row():
                choices = [("best F1 with labels, else mean + 1·std", AUTO_RULE)]
                choices += [(r.label, key) for key, r in RULES.items()]
                rule = gr.Dropdown(choices, value=AUTO_RULE, label="Threshold rule")
                param = gr.Number(value=1.0, label="Rule parameter", visible=False, elem_id="param")
            train_btn = gr.Button("Train", variant="primary", elem_id="train")
            train_text = gr.Markdown()
            train_plot = gr.LinePlot(
                x="epoch", y="loss", color="curve", label="Loss at each check", elem_id="train-plot"
            )
            with gr.Accordion("Push the trained model to the Hugging Face Hub", open=False):
                sign_in()
                with gr.Row():
                    repo_name = gr.Textbox(
                        value=REPO_NAMES["anomaly"], label="Repo name (in your account)",
                        elem_id="repo-name",
                    )  # fmt: skip
                    push_btn = gr.Button("Push to the Hub", elem_id="push")
                push_text = gr.Markdown(elem_id="push-text")
        with gr.Tab("Model"):
            arch = gr.Dataframe(label="Architecture")
            loss_plot = gr.LinePlot(
                x="epoch", y="loss", color="curve", label="Training and validation loss"
            )
            model_text = gr.Markdown()
            config = gr.JSON(label="Config saved with the weights", elem_id="config")
        with gr.Tab("How it works"):
            gr.Markdown(HOW)

    view_outputs = [count, report, confusion, flagged, hist, series, download]
    detect_outputs = [uploaded, scored, summary, threshold, *view_outputs, curves, row, viewer]
    detect_outputs += [rules, why]
    hidden = {"api_visibility": "undocumented"}  # callable by clients, not an MCP tool
    go.click(
        detect,
        [dataset, digit, upload, label_col, drop_missing, session, uploaded],
        detect_outputs,
        api_name="detect",
        **hidden,  # its State and plots make a poor tool: score_csv answers agents in JSON
    )
    gr.api(score_csv, api_name="score_csv")  # the MCP tool and API endpoint, no UI
    threshold.change(rethreshold, [threshold, scored], view_outputs, api_name="threshold", **hidden)
    row.change(show_sample, [row, scored], viewer, api_name="sample", **hidden)
    for source in (dataset, upload, layout):
        source.change(
            controls, [dataset, upload, layout], [digit, layout, label_col, drop_missing, window,
            stride], queue=False, api_visibility="private",
        )  # fmt: skip
    rule.change(rule_parameter, rule, param, queue=False, api_visibility="private")
    train_btn.click(
        train,
        [dataset, digit, upload, layout, label_col, window, stride, drop_missing, variant,
         epochs, latent, rule, param, uploaded, session],
        [uploaded, session, train_text, train_plot, arch, loss_plot, model_text, config],
        api_name="train",
        concurrency_limit=TRAIN_CONCURRENCY,
        time_limit=TRAIN_SECONDS + 30,
        **hidden,
    )  # fmt: skip
    push_btn.click(push, [session, repo_name], push_text, api_name="push", **hidden)
    demo.load(first_view, outputs=detect_outputs, api_name="first_view", **hidden)
    demo.load(model_info, outputs=info, api_name="model_info", **hidden)
    demo.load(
        model_tab, [session], [arch, loss_plot, model_text, config], api_name="model_tab", **hidden
    )

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()  # two malloc arenas: RSS under 20 clients grew +33% in a minute without
    demo.launch(**launch_kwargs())
