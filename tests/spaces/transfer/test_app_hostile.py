"""Hostile input over HTTP, and pickle payloads in model folders and uploads: clear refusals."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import zipfile

import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import handle_file
from PIL import Image

from shared.transfer import backbone, hub_io
from shared.transfer.data import TransferInputError
from tests.spaces.transfer.test_app import class_zip
from tests.transfer.test_data import png_bomb, truncated_png


class Payload:
    """Unpickling this runs a shell command that creates `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def payload_bytes(marker) -> bytes:
    return pickle.dumps(Payload(marker))


@pytest.fixture(scope="module")
def client():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRANSFER_MODEL", str(quick_model("transfer")))
        app = load_app("transfer", "transfer_app_hostile")
    with client_for(app.demo) as c:
        yield c


def zip_of(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, body in entries.items():
            zf.writestr(name, body)
    return path


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def text_as_png(tmp):
    (tmp / "notes.png").write_text("this is a text file, renamed")
    return tmp / "notes.png"


ROWS = [  # (endpoint, how to make the file, what the message must say)
    ("/classify", text_as_png, "'notes.png' is not an image"),
    ("/classify", lambda t: truncated_png(t / "cut.png"), "'cut.png' is corrupted or truncated"),
    ("/classify", lambda t: png_bomb(t / "bomb.png"), "'bomb.png' is too large to decode safely"),
    ("/fine_tune", lambda t: zip_of(t / "a.zip", {"cat/1.png": b"x", "../../x": b"owned"}),
     "unsafe path '../../x'"),
    ("/fine_tune", lambda t: zip_of(t / "b.zip", {"1.png": b"x"}), "no class folders"),
    ("/fine_tune", lambda t: class_zip(t / "c.zip", ("cat",)), "at least two class folders"),
    ("/fine_tune", lambda t: (t / "junk.zip").write_text("PK but not") and t / "junk.zip",
     "not a valid zip"),
    ("/fine_tune", text_as_png, "Invalid file type"),  # Gradio's own check on file_types
    ("/fine_tune", lambda t: zip_of(t / "e.zip", {"cat/a.png": png_bytes(), "dog/": b""}),
     "'dog' holds no images"),
]  # fmt: skip


@pytest.mark.parametrize(("api", "make", "message"), ROWS, ids=[r[2][:30] for r in ROWS])
def test_bad_input_gets_a_clear_message_and_the_server_goes_on(
    client, tmp_path, api, make, message
):
    args = (handle_file(str(make(tmp_path))),) + ((2,) if api == "/fine_tune" else ())
    with pytest.raises(Exception) as info:  # noqa: B017 - the message is checked below
        client.predict(*args, api_name=api)
    text = str(info.value)
    assert message in text and "Traceback" not in text
    scores, _, _ = client.predict(4, api_name="/classify_example")[1:]
    assert scores["label"] in "0123456789"


def test_missing_inputs_are_named(client):
    with pytest.raises(Exception, match="Upload, paste or photograph an image first"):
        client.predict(None, api_name="/classify")
    with pytest.raises(Exception, match="99 is greater than maximum value 7"):  # Gradio's check
        client.predict(99, api_name="/classify_example")


def test_pickle_in_a_model_folder_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    control = tmp_path / "control"
    pickle.loads(payload_bytes(control))  # the payload is live: unpickling it does run it
    assert control.exists()
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(quick_model("transfer") / "config.json", folder)
    (folder / "pytorch_model.bin").write_bytes(payload_bytes(marker))
    monkeypatch.setenv("TRANSFER_MODEL", str(folder))
    app = load_app("transfer", "transfer_app_pickled")
    assert "missing model.safetensors" in app.model_info()
    # pickle bytes under the safetensors name are refused too
    (folder / "model.safetensors").write_bytes(payload_bytes(marker))
    with pytest.raises(Exception, match="does not hold a loadable timm model"):
        hub_io.load(folder)
    # ... and as a --pretrained-from checkpoint, torch.load(weights_only=True) refuses it
    checkpoint = tmp_path / "evil.pth"
    checkpoint.write_bytes(payload_bytes(marker))
    with pytest.raises(TransferInputError, match="Could not load weights"):
        backbone.create("test_resnet", 2, 16, pretrained_from=str(checkpoint))
    assert not marker.exists()


def test_pickle_in_an_upload_never_runs(client, tmp_path):
    marker = tmp_path / "pwned"
    evil = zip_of(
        tmp_path / "evil.zip",
        {"cat/a.png": payload_bytes(marker), "dog/b.pkl": payload_bytes(marker)},
    )
    with pytest.raises(Exception, match="'cat/a.png' is not an image"):
        client.predict(handle_file(str(evil)), 2, api_name="/fine_tune")
    (tmp_path / "evil.png").write_bytes(payload_bytes(marker))
    with pytest.raises(Exception, match="'evil.png' is not an image"):
        client.predict(handle_file(str(tmp_path / "evil.png")), api_name="/classify")
    assert not marker.exists()
