"""Push a model a visitor trained in an app to a repo in their own Hugging Face account.

On a Space whose front matter has `hf_oauth: true` and `hf_oauth_scopes: [write-repos]`
(spaces/deploy.py writes both), `gr.LoginButton` signs the visitor in, and Gradio hands every
handler that declares them a `gr.OAuthProfile` (who they are) and a `gr.OAuthToken` (allowed to
write their repos). Off a Space, Gradio can only mock the sign-in with a token saved on the
machine, and refuses to start without one, so `sign_in()` shows the button on a Space only and
a push elsewhere says why it can't happen. An app adopts it in three lines:

    sign_in()
    name = gr.Textbox(value="anomaly-autoencoder", label="Repo name")
    button.click(push, [session, name], status)   # push(session, name, profile, token)

where `push` calls `push_trained(save, name, profile, token)` with the same save function its
CLI uses, so the uploaded folder and model card are the CLI's.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import gradio as gr
from gradio.utils import get_space
from huggingface_hub.errors import HfHubHTTPError

from shared.errors import UserInputError
from shared.hub import check_repo_id, push_folder

OFF_SPACE = (
    "Signing in with Hugging Face works when this app runs as a Space (its README turns on "
    "`hf_oauth`). Here, push from the command line instead: the training CLI's `--push-to-hub`."
)


def sign_in() -> gr.components.Component:
    """A "Sign in with Hugging Face" button on a Space; elsewhere, a line saying where it works."""
    if get_space() is not None:
        return gr.LoginButton()
    return gr.Markdown(OFF_SPACE)


def push_trained(
    save: Callable[[Path], object] | None,
    name: str,
    profile: gr.OAuthProfile | None,
    token: gr.OAuthToken | None,
) -> str:
    """Save a session's model with `save(folder)` and push that folder to `<user>/<name>`.

    `save` is None when the visitor has not trained anything yet. Returns Markdown with the
    repo's URL; every refusal is a `UserInputError` that says what to do.
    """
    if profile is None or token is None:
        raise UserInputError(
            "Sign in with Hugging Face first (the button above): the model goes to a repo in "
            f"your account. {OFF_SPACE if get_space() is None else ''}".strip()
        )
    if save is None:
        raise UserInputError("Train a model first (the Train button): only a model trained in "
                             "this session can be pushed.")  # fmt: skip
    name = (name or "").strip()
    if "/" in name:
        raise UserInputError(f"Give a repo name without an account ({name!r} has a '/').")
    repo_id = check_repo_id(f"{profile.username}/{name}")
    with tempfile.TemporaryDirectory(prefix="push-") as tmp:
        folder = Path(tmp) / name
        save(folder)
        try:
            url = push_folder(
                folder, repo_id, message="Upload a model trained in the app", token=token.token
            )
        except HfHubHTTPError as err:
            raise UserInputError(f"The Hub refused the push to {repo_id!r}: {err}") from err
    return f"Pushed to [{repo_id}]({url})."
