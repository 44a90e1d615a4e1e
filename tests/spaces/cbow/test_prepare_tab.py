"""The Prepare tab (spaces/cbow/prepare_tab.py), whose corpus reader the Train tab uses too:
the statistics of an upload, and pickles in an upload that never run.
"""

from __future__ import annotations

import pickle

import pytest
from gradio_client import handle_file

from tests.spaces.cbow.test_app import CORPUS, ZORBLAX, Payload, answer, rows, train_call, write


def test_prepare_shows_statistics(client, tmp_path):
    path = tmp_path / "zorblax.txt"
    path.write_text(ZORBLAX)
    stats, top = client.predict(
        "my text", [handle_file(path)], "", True, False, False, 3, api_name="/prepare"
    )
    assert "20 documents, 240 tokens, 16 distinct words" in stats
    assert rows(top)[0] == ["the", 80]


@pytest.mark.parametrize(
    ("name", "protocol", "message"),
    [
        ("payload.pkl", 4, "Invalid file type"),  # gr.File(file_types=[".txt"]) refuses it
        ("payload.txt", 4, "looks like a binary file"),
        ("payload.txt", 0, "training needs at least 50"),  # protocol 0 is text: just words
    ],
)
def test_pickles_in_an_upload_never_run(client, tmp_path, name, protocol, message):
    marker = tmp_path / "pwned"
    upload = write(tmp_path, name, pickle.dumps(Payload(marker), protocol=protocol))
    for endpoint, args in [
        ("/train", train_call([upload])),
        ("/prepare", ("my text", [handle_file(upload)], "", *CORPUS[1:])),
    ]:
        text = answer(client, endpoint, args)
        assert message in text or endpoint == "/prepare", text
    assert not marker.exists()
