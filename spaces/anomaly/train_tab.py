"""The Train tab: a new autoencoder for this session only, capped in rows, epochs and seconds,
and the push of it to the visitor's own Hub account (shared/anomaly/train.py trains)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import pandas as pd
from model_tab import ModelView, model_view
from picker import Picker, Upload, load_task, read_upload

from shared.anomaly.artifact import save_model
from shared.anomaly.model import MAX_LATENT, Autoencoder, check_size
from shared.anomaly.plots import loss_curves
from shared.anomaly.scoring import RULES
from shared.anomaly.train import TrainResult, TrainSettings, train_autoencoder
from shared.app.hub_push import push_trained, sign_in
from shared.app.launch import TRAIN_CONCURRENCY, TRAIN_SECONDS
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import Ticket
from shared.errors import UserInputError
from shared.hub import REPO_NAMES

TRAIN_ROWS = 5_000  # samples one in-app training run may use (a random subsample beyond)
MAX_EPOCHS = 100
AUTO_RULE = "auto"  # the default rule: best F1 with labelled validation, else mean_std
HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not an MCP tool


@dataclass(frozen=True)
class Trained:
    """A session's own model, and what a push of it saves."""

    result: TrainResult  # the model, its losses, test metrics and the errors its rules used
    settings: TrainSettings
    dataset: str

    @property
    def model(self) -> Autoencoder:
        return self.result.model


class TrainAnswer(NamedTuple):
    uploaded: Upload | None
    session: Ticket
    text: str
    curves: pd.DataFrame
    arch: pd.DataFrame  # the Model tab's outputs (model_tab.ModelView), now this model's
    loss_plot: pd.DataFrame
    model_text: str
    config: dict


def settings_for(variant, epochs, latent, rule, param) -> TrainSettings:
    """The Train tab's choices as settings, each checked against the app's caps."""
    epochs, latent = int(epochs), int(latent or 0)
    if not 0 <= epochs <= MAX_EPOCHS:
        raise UserInputError(f"Epochs must be 0 (automatic) to {MAX_EPOCHS} (got {epochs}).")
    if not 0 <= latent <= MAX_LATENT:
        raise UserInputError(
            f"The latent size must be 0 (tutorial) to {MAX_LATENT} (got {latent})."
        )
    rule = None if rule == AUTO_RULE else rule
    takes_param = rule is not None and bool(RULES[rule].param_name)
    return TrainSettings(
        variant=variant,
        latent=latent,
        epochs=epochs,
        threshold_rule=rule,
        threshold_param=param if takes_param else None,
        max_seconds=TRAIN_SECONDS,
        max_rows=TRAIN_ROWS,
    )


def said(result: TrainResult, uploaded: Upload | None) -> str:
    """What training did, in words: steps, checks, why it stopped, the threshold, the metrics."""
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
    return text


def rule_parameter(rule: str) -> dict:
    """The rule's parameter, named after it, or hidden for a rule that takes none."""
    record = RULES.get(rule)
    if record is None or not record.param_name:
        return gr.update(visible=False)
    return gr.update(
        visible=True, label=f"{record.label}: {record.param_name}", value=record.default
    )


def build(
    sessions: Sessions, picker: Picker, session: gr.State, uploaded: gr.State, model: ModelView
) -> None:
    """The tab's controls and events; training also fills the Model tab (`model`)."""
    with gr.Row():
        variant = gr.Radio(["dense", "conv"], value="dense", label="Variant")
        epochs = gr.Slider(0, MAX_EPOCHS, value=0, step=1, label="Epochs (0 = from the data size)")
        latent = gr.Number(
            value=0, precision=0, minimum=0, maximum=MAX_LATENT, label="Latent size (0 = tutorial)"
        )
    with gr.Row():
        choices = [("best F1 with labels, else mean + 1·std", AUTO_RULE)]
        choices += [(r.label, key) for key, r in RULES.items()]
        rule = gr.Dropdown(choices, value=AUTO_RULE, label="Threshold rule")
        param = gr.Number(value=1.0, label="Rule parameter", visible=False, elem_id="param")
    button = gr.Button("Train", variant="primary", elem_id="train")
    text = gr.Markdown()
    curves = gr.LinePlot(
        x="epoch", y="loss", color="curve", label="Loss at each check", elem_id="train-plot"
    )
    with gr.Accordion("Push the trained model to the Hugging Face Hub", open=False):
        sign_in()
        with gr.Row():
            name = gr.Textbox(
                value=REPO_NAMES["anomaly"],
                label="Repo name (in your account)",
                elem_id="repo-name",
            )
            push_button = gr.Button("Push to the Hub", elem_id="push")
        push_text = gr.Markdown(elem_id="push-text")

    def train(
        dataset,
        digit,
        upload,
        layout,
        label_col,
        window,
        stride,
        drop_missing,
        variant,
        epochs,
        latent,
        rule,
        param,
        parsed=None,
        ticket=None,
        progress=gr.Progress(),  # noqa: B008 - Gradio's way to ask for a progress bar
    ):
        """Train a new autoencoder for this session only, capped in rows and seconds."""
        settings = settings_for(variant, epochs, latent, rule, param)
        parsed = read_upload(upload, parsed)
        data = load_task(dataset, digit, parsed, layout, label_col, window, stride, drop_missing)
        check_size(data.train.shape[1], variant, settings.latent)
        checks = settings.epochs or settings.checks

        def report(row):
            desc = f"check {row['epoch']}: loss {row['train_loss']:.4f}"
            progress((row["epoch"], checks), desc=desc)

        result = train_autoencoder(data, settings, on_epoch=report)
        when = time.strftime("%H:%M:%S UTC", time.gmtime())
        trained = Trained(result, settings, data.name)
        name = f"model trained on {data.name} at {when}"
        ticket = sessions.replace(ticket, trained, result.nbytes(), name)
        return TrainAnswer(
            parsed,
            ticket,
            said(result, parsed),
            loss_curves(result.history),
            *model_view(sessions, ticket),
        )

    def push(
        ticket: Ticket | None,
        name: str,
        profile: gr.OAuthProfile | None,
        token: gr.OAuthToken | None,
    ):
        """Push the session's trained model to `<signed-in user>/<name>`: the CLI's folder and
        card."""
        trained = sessions.trained(ticket)

        def save(folder: Path) -> None:
            command = "# trained in the anomaly app's Train tab; the settings are in metrics.json"
            save_model(folder, trained.result, trained.settings, trained.dataset, command)

        return push_trained(save if trained else None, name, profile, token)

    settings = [variant, epochs, latent, rule, param]
    button.click(
        handler(train),
        [*picker, *settings, uploaded, session],
        [uploaded, session, text, curves, *model],
        api_name="train",
        concurrency_limit=TRAIN_CONCURRENCY,
        time_limit=TRAIN_SECONDS + 30,
        **HIDDEN,
    )
    push_button.click(handler(push), [session, name], push_text, api_name="push", **HIDDEN)
    rule.change(rule_parameter, rule, param, queue=False, api_visibility="private")
