"""Nothing from a user or the Hub is unpickled: planted pickle payloads never run."""

from __future__ import annotations

import os
import pickle
import shutil

import pytest
from conftest import client_for, load_app, quick_model
from gradio_client import handle_file

from shared.anomaly.model import load_autoencoder
from shared.hub import ModelSourceError


class Payload:
    """Unpickling this creates `marker`: proof that someone called pickle.load on it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_the_payload_works_when_unpickled(tmp_path):
    # the control: without it, a payload that never fires would make every test below pass
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(Payload(marker))).close()
    assert marker.exists()


@pytest.mark.parametrize(
    ("weights_name", "message"),
    [
        ("model.safetensors", "is not a valid safetensors file"),  # a pickle under the right name
        ("pytorch_model.bin", "missing model.safetensors"),  # the mixin's pickle fallback name
    ],
)
def test_a_pickle_in_a_model_folder_is_refused(tmp_path, weights_name, message):
    marker = tmp_path / "pwned"
    folder = tmp_path / "model"
    shutil.copytree(quick_model("anomaly"), folder)
    (folder / "model.safetensors").unlink()
    (folder / weights_name).write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ModelSourceError, match=message):
        load_autoencoder(folder)
    # and through the app's own loader at import
    os.environ["ANOMALY_MODEL"] = str(folder)
    try:
        app = load_app("anomaly", "anomaly_app_pickle_model")
    finally:
        del os.environ["ANOMALY_MODEL"]
    assert app.SESSIONS.served.model is None and message in app.model_info()
    assert not marker.exists()


def test_a_pickle_upload_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    upload = tmp_path / "data.csv"
    upload.write_bytes(pickle.dumps(Payload(marker)))
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    try:
        app = load_app("anomaly", "anomaly_app_pickle_upload")
    finally:
        del os.environ["ANOMALY_MODEL"]
    with client_for(app.demo) as client, pytest.raises(Exception) as info:
        client.predict("ecg", 0, handle_file(upload), "", False, api_name="/detect")
    assert "not a text CSV" in str(info.value) or "not a readable CSV" in str(info.value)
    assert not marker.exists()
