"""The transfer app's own wiring (spaces/transfer/app.py): the model it loads (or says how to
get), what How it works states, bad input to every endpoint answered by name, and pickles that
never run. Helpers the tab tests share (digits as a person uploads them, class zips) live here.

No test here is of the Model tab (comparison_tab.py); the budget line it shows is the Fine-tune
tab's, tested in test_finetune_tab.py.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest
from conftest import load_app, quick_model
from gradio_client import handle_file
from PIL import Image

from shared.hub import load_json
from shared.transfer import backbone, data, hub_io
from shared.transfer.data import TransferInputError
from tests.transfer.test_data import png_bomb, truncated_png

DIGITS = data.digits(data.DIGITS)


@functools.cache
def held_out() -> list[int]:
    """The quick model's test digits (indices into scikit-learn's digits): never trained on."""
    return load_json(quick_model("transfer") / "metrics.json")["test_index"]


def digit_png(path, index=None, size=(64, 48)):
    """A held-out digit as a person might upload it: enlarged, not square."""
    index = held_out()[-1] if index is None else index
    DIGITS[0][index].resize(size).save(path)  # the box maps back to these pixels
    return path, str(DIGITS[1][index])


def paper_png(path, index=None):
    """A held-out digit drawn dark on light paper, off centre, in RGB: a photo or a scan."""
    index = held_out()[-2] if index is None else index
    digit = Image.eval(DIGITS[0][index], lambda v: 255 - v).resize((96, 96), Image.BILINEAR)
    paper = Image.new("RGB", (200, 160), (235, 235, 225))
    paper.paste(digit.convert("RGB"), (70, 30))
    paper.save(path)
    return path, str(DIGITS[1][index])


def class_zip(path, classes=("dark", "bright"), per_class=6):
    with zipfile.ZipFile(path, "w") as zf:
        for c, value in zip(classes, (20, 230), strict=False):
            for i in range(per_class):
                tile = Image.fromarray(np.full((16, 16), value + i, np.uint8))
                tmp = path.parent / f"{c}{i}.png"
                tile.save(tmp)
                zf.write(tmp, f"{c}/{i}.png")
    return path


class Payload:
    """Unpickling this runs a shell command that creates `marker`."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def payload_bytes(marker) -> bytes:
    return pickle.dumps(Payload(marker))


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


def test_model_info_names_the_loaded_model(client):
    assert "Model loaded from" in client.predict(api_name="/model_info")


def test_app_without_a_model_starts_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSFER_MODEL", str(tmp_path / "nothing-here"))
    app = load_app("transfer", "transfer_app_without_model")
    assert "not trained yet" in app.model_info()
    assert app.classify.first == (None, None, None, None)  # the first view is empty
    with pytest.raises(Exception, match="No model is loaded"):
        app.classify.classify_example(0)


def test_how_it_works_states_the_rules_the_code_follows(monkeypatch, tmp_path):
    from shared.transfer import cam, recipe

    monkeypatch.setenv("TRANSFER_MODEL", str(tmp_path / "nothing-here"))
    text = " ".join(load_app("transfer", "transfer_app_text").HOW_IT_WORKS.split())
    assert f"it learns at {recipe.PROBE_LR_SCALE:g}x the schedule's rate" in text
    # the box: cam.object_box's rule, not the older "above half its peak"
    assert f"above {cam.EVIDENCE_THRESHOLD:.0%} of its range" in text and "half" not in text
    assert "the mean of two such maps" in text and "clipped to the strokes" in text


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
