"""The Fine-tune tab: a new head on the served model's frozen backbone, for one session.

`FineTune(sessions)` trains on a zip of class folders (`shared.transfer.finetune`), keeps the
model in `sessions` under the app's memory budget, and pushes it to the visitor's Hub account.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import pandas as pd

from shared.app.hub_push import push_trained, sign_in
from shared.app.launch import TRAIN_CONCURRENCY, TRAIN_SECONDS
from shared.app.outputs import handler
from shared.app.sessions import Sessions
from shared.app.store import MB, Ticket
from shared.errors import UserInputError
from shared.transfer import data, finetune, hub_io

HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
APP_MAX_IMAGES = 600  # per fine-tune upload: with the time cap, bounds one in-app run
MAX_EPOCHS = 20  # of one in-app run, here and in the Detect tab's fine-tune
# One session's copy of the model: resnet50 weighs about 100 MB in float32, the default
# test_resnet 1.6 MB. Heavier backbones would let a handful of visitors fill the budget.
MAX_SESSION_MB = 200


class ZipRun:
    """An in-app training run on an uploaded zip whose model then answers the session: what
    both fine-tunes (classes here, boxes in the Detect tab) do. A subclass says how to train
    (`train`) and what a click without an upload is told (`missing`)."""

    missing = "Upload a .zip first."

    def __init__(self, sessions: Sessions):
        self.sessions = sessions

    def fine_tune(
        self,
        path: str | None,
        epochs: int,
        ticket: Ticket | None = None,
        progress=gr.Progress(),  # noqa: B008 - Gradio's idiom: it fills this in
    ):
        """Train a new head on the uploaded zip, backbone frozen, for this session only."""
        if not path:
            raise UserInputError(self.missing)
        epochs = int(epochs)
        if not 1 <= epochs <= MAX_EPOCHS:
            raise UserInputError(f"Epochs must be 1 to {MAX_EPOCHS}.")
        base = self.sessions.current(None)
        progress(0, desc="reading the zip")

        def on_epoch(row: dict) -> None:
            progress(row["epoch"] / epochs, desc=f"epoch {row['epoch']}/{epochs}")

        return self.train(base, Path(path), epochs, ticket, on_epoch)

    def train(self, base, path: Path, epochs: int, ticket: Ticket | None, on_epoch) -> tuple:
        """Train on the zip at `path` from `base`, keep the model as `ticket`'s: the answer."""
        raise NotImplementedError

    def form(self, upload: gr.File, session: gr.State, shown: Callable[[], tuple], api_name: str):
        """The epochs and the button under `upload`, then what `shown()` lays out for the
        answer; returns the run's event."""
        epochs = gr.Slider(1, MAX_EPOCHS, value=5, step=1, label="Epochs")
        button = gr.Button("Fine-tune the head", variant="primary")
        return button.click(
            handler(self.fine_tune),
            [upload, epochs, session],
            list(shown()),
            api_name=api_name,
            concurrency_limit=TRAIN_CONCURRENCY,
            **HIDDEN,
        )


class Tuned(NamedTuple):
    summary: str
    curve: pd.DataFrame  # loss and accuracy per epoch
    session: Ticket  # the session's model from now on


class FineTune(ZipRun):
    """The tab's handlers: train a session's model (`fine_tune`), push it."""

    missing = "Upload a .zip with one folder per class."

    def usage(self) -> str:
        """The Model tab's line on session models, with how much one copy may weigh."""
        served = self.sessions.served.model
        if served is None:
            return self.sessions.usage()
        return (
            f"{self.sessions.usage()} One fine-tuned model may weigh up to {MAX_SESSION_MB} MB "
            f"(this app's model: {Sessions.nbytes(served.model) / MB:,.1f} MB)."
        )

    def train(
        self, base: hub_io.Classifier, path: Path, epochs: int, ticket: Ticket | None, on_epoch
    ) -> Tuned:
        """A new head for the zip's class folders (the Fine-tune button)."""
        with tempfile.TemporaryDirectory(prefix="transfer-upload-") as tmp:
            root = data.extract_zip(path, Path(tmp))
            images, labels, names = data.image_folder(root, max_images=APP_MAX_IMAGES)
        nbytes = Sessions.nbytes(base.model)
        if nbytes > MAX_SESSION_MB * MB:
            raise UserInputError(
                f"This app's model weighs {nbytes / MB:,.0f} MB, more than the "
                f"{MAX_SESSION_MB} MB a session's copy may take: fine-tuning is off here."
            )
        tuned = finetune.fine_tune(
            base, images, labels, names, epochs, max_seconds=TRAIN_SECONDS, on_epoch=on_epoch
        )
        clf = tuned.classifier
        name = f"model fine-tuned on {', '.join(names)}"
        ticket = self.sessions.replace(ticket, clf, Sessions.nbytes(clf.model), name)
        said = f"{tuned.summary} The Classify tab now uses this model in your session only."
        return Tuned(said, tuned.curve(), ticket)

    def push(
        self,
        ticket: Ticket | None,
        name: str,
        profile: gr.OAuthProfile | None,
        token: gr.OAuthToken | None,
    ) -> str:
        """Push the session's fine-tuned model to `<signed-in user>/<name>` in timm's Hub layout."""
        clf = self.sessions.trained(ticket)
        save = (lambda folder: finetune.save(clf, folder)) if clf else None
        return push_trained(save, name, profile, token)

    def build(self, session: gr.State, usage_text: gr.Markdown) -> None:
        """The tab's components and events; a run ends by refreshing `usage_text`."""
        gr.Markdown(
            "Upload a zip with one folder per class (`cats/1.png`, `dogs/2.jpg`, ...). "
            "The backbone stays frozen; a new head trains for your session only."
        )
        zip_file = gr.File(
            label="Zip of class folders", file_types=[".zip"], elem_id="transfer-zip"
        )

        def answer() -> Tuned:
            curve = gr.LinePlot(x="epoch", y="value", color="series", title="Fine-tuning")
            return Tuned(gr.Markdown(), curve, session)

        run = self.form(zip_file, session, answer, "fine_tune")
        run.then(self.usage, outputs=usage_text, api_name=False)
        gr.Markdown("**Keep it:** push your fine-tuned model to a repo in your account.")
        sign_in()
        with gr.Row():
            repo_name = gr.Textbox(value="transfer-fine-tuned", label="Repo name", scale=3)
            push_button = gr.Button("Push to the Hub", scale=1, elem_id="transfer-push")
        push_text = gr.Markdown(elem_id="transfer-push-text")
        push_button.click(
            handler(self.push), [session, repo_name], push_text, api_name="push", **HIDDEN
        )
