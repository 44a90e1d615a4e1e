"""The anomaly app's own wiring (spaces/anomaly/app.py): the model it loads at import refuses a
pickle; `_app_with_model` loads the app on a given model for the tab tests.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import load_app, quick_model

from shared.anomaly.model import load_autoencoder
from shared.hub import ModelSourceError


def _app_with_model(monkeypatch, folder: Path):
    monkeypatch.setenv("ANOMALY_MODEL", str(folder))
    return load_app("anomaly")


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
