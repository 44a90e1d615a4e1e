"""Push to the Hub from an app: a signed-in visitor's model goes to a repo in their account.

Offline with the `fake_hub` fixture: the visitor's token and repo id must reach the upload, and
the uploaded folder must be the CLI's (weights, config, metrics, card) and load through the
app's own loader with the scores of the model trained in the session.
"""

from __future__ import annotations

import os

import gradio as gr
import numpy as np
import pytest
from conftest import client_for, load_app, quick_model
from huggingface_hub import ModelCard

from shared.anomaly.builtin import load_builtin
from shared.anomaly.model import load_autoencoder
from shared.app.hub_push import push_trained, sign_in
from shared.errors import UserInputError

ALICE = gr.OAuthProfile(
    {"name": "Alice", "preferred_username": "alice", "profile": "", "picture": ""}
)
TOKEN = gr.OAuthToken(token="hf_alice_write_token", scope="write-repos", expires_at=0)


@pytest.fixture(scope="module")
def app():
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    try:
        yield load_app("anomaly", "anomaly_app_push")
    finally:
        del os.environ["ANOMALY_MODEL"]


def event(app, api_name: str):
    """The page's handler of the event `api_name`, to call in-process as Gradio does."""
    (fn,) = [f for f in app.demo.fns.values() if f.api_name == api_name]
    return fn.fn


@pytest.fixture(scope="module")
def session(app):
    """A session that trained a model in the Train tab: breast cancer, 3 epochs."""
    out = event(app, "train")(
        "breast_cancer", 0, None, "table", "", 200, 1, False, "dense", 3, 0, "percentile", 0.1,
        None, progress=lambda *args, **kwargs: None,
    )  # fmt: skip
    return out[1]


def test_without_sign_in_the_push_says_why_and_uploads_nothing(app, session, fake_hub):
    with pytest.raises(gr.Error, match="Sign in with Hugging Face first") as info:
        event(app, "push")(session, "my-detector", None, None)
    assert "runs as a Space" in str(info.value)  # off a Space, where sign-in works instead
    with pytest.raises(gr.Error, match="Train a model first"):
        event(app, "push")(None, "my-detector", ALICE, TOKEN)
    with pytest.raises(gr.Error, match="without an account"):
        event(app, "push")(session, "bob/my-detector", ALICE, TOKEN)
    with pytest.raises(gr.Error, match="not a Hub repo id"):
        event(app, "push")(session, "my detector!", ALICE, TOKEN)
    assert fake_hub["log"] == []


def test_the_push_button_over_http_explains_itself(app):
    with client_for(app.demo) as client, pytest.raises(Exception, match="Sign in with Hugging"):
        client.predict("my-detector", api_name="/push")


def test_the_signed_in_visitor_pushes_the_clis_folder_to_their_account(
    app, session, fake_hub, tmp_path, monkeypatch
):
    text = event(app, "push")(session, "  my-detector ", ALICE, TOKEN)
    assert text == "Pushed to [alice/my-detector](https://huggingface.co/alice/my-detector)."
    create, upload = fake_hub["create"], fake_hub["upload"]
    assert (create["repo_id"], create["repo_type"], create["token"]) == (
        "alice/my-detector", "model", TOKEN.token,
    )  # fmt: skip
    assert (upload["repo_id"], upload["token"]) == ("alice/my-detector", TOKEN.token)
    (_, _, files) = fake_hub["log"][-1]
    assert set(files) == {"config.json", "model.safetensors", "metrics.json", "README.md"}
    folder = tmp_path / "pulled"  # what the Hub now holds, as a download would lay it out
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    # the card is the CLI's, naming the session's data, rule and its parameter
    card = ModelCard.load(folder / "README.md")
    assert card.data.model_name == "Autoencoder anomaly detector (breast_cancer)"
    assert "contamination rate (PyOD)' (expected share of anomalies = 0.1)" in card.text
    assert "trained in the anomaly app's Train tab" in card.text
    # the folder loads through the app's own loader and scores exactly like the session model
    monkeypatch.setenv("ANOMALY_MODEL", str(folder))
    pushed_app = load_app("anomaly", "anomaly_app_pulled")
    x = load_builtin("breast_cancer").test
    trained = app.SESSIONS.store.get(session).model  # the session holds a ticket to its model
    pushed = pushed_app.SESSIONS.served.model
    np.testing.assert_array_equal(pushed.score(x), trained.score(x))
    assert pushed.config.threshold == trained.config.threshold
    assert load_autoencoder(folder).config.threshold_rule == "percentile"


def test_a_refused_push_is_named(app, session, monkeypatch):
    import httpx
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    def refuse(self, repo_id, **kwargs):
        response = httpx.Response(403, request=httpx.Request("POST", "https://hf.co/api/repos"))
        raise HfHubHTTPError("403 Forbidden: token lacks write access", response=response)

    monkeypatch.setattr(HfApi, "create_repo", refuse)
    with pytest.raises(gr.Error, match="The Hub refused the push to 'alice/x': 403 Forbidden"):
        event(app, "push")(session, "x", ALICE, TOKEN)


def test_the_login_button_is_shown_on_a_space_only(monkeypatch):
    # (a page holding a LoginButton starts only on a Space, or with a saved token to mock one)
    assert isinstance(sign_in(), gr.Markdown)
    monkeypatch.setattr("shared.app.hub_push.get_space", lambda: "someone/anomaly-lab")
    assert isinstance(sign_in(), gr.LoginButton)


def test_push_trained_saves_into_a_folder_named_after_the_repo(fake_hub):
    seen = []
    push_trained(lambda folder: seen.append(folder.name) or folder.mkdir(), "ae", ALICE, TOKEN)
    assert seen == ["ae"] and fake_hub["upload"]["folder_path"].endswith("/ae")
    with pytest.raises(UserInputError, match="Sign in"):
        push_trained(lambda folder: None, "ae", ALICE, None)  # a profile without a token
    # the temporary folder is gone once the push returns
    assert not os.path.exists(fake_hub["upload"]["folder_path"])


def test_a_model_evicted_from_the_memory_budget_is_named_not_pushed(app, fake_hub):
    from shared.app.store import Ticket

    gone = Ticket("no-longer-in-the-store", "model trained on wine at 10:00:00 UTC", 1)
    with pytest.raises(gr.Error, match="Your model trained on wine at 10:00:00 UTC was removed"):
        event(app, "push")(gone, "my-detector", ALICE, TOKEN)
    assert fake_hub["log"] == []
