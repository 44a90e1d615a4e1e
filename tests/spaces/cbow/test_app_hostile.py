"""Hostile and broken input to the CBOW app over HTTP, and pickles that must never run.

Every row must come back as a readable message that names the problem (no traceback), and the
server must answer a normal request right after.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import client_for, quick_model
from gradio_client import handle_file

from shared.app.launch import MAX_FILE_SIZE
from shared.cbow.corpus import MAX_CORPUS_MB, MAX_VOCABULARY
from shared.cbow.vectors import FULL_MODEL_FILE, MAX_VECTOR_CELLS, VECTORS_FILE
from tests.spaces.cbow.test_app import app_with_quick_model
from tests.spaces.cbow.test_app_memory import HOSTILE_SETTINGS, hostile_text

CORPUS = ("my text", True, False, False, 3)  # after source, files, pasted: lowercase ... min_count
SETTINGS = (20, 2, 5, 2)  # vector size, window, negative, epochs


class Payload:
    """Unpickling this creates `marker`: proof that someone unpickled it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    if content == b"SPARSE":
        with open(path, "wb") as f:
            f.truncate(50 * 2**20)  # 50 MB, no time spent writing it
    else:
        path.write_bytes(content)
    return path


def train_call(files=(), pasted=""):
    return ("my text", [handle_file(p) for p in files], pasted, *CORPUS[1:], *SETTINGS)


# (id, endpoint, args built from a temp folder, part of the message the user must see)
ROWS = [
    ("no text", "/train", lambda d: train_call(), "There is no text"),
    ("empty file", "/train", lambda d: train_call([write(d, "e.txt", b"")]), "is empty"),
    (
        "not utf-8",
        "/prepare",
        lambda d: (
            "my text",
            [handle_file(write(d, "l.txt", "déjà vu café ".encode("cp1252") * 30))],
            "",
            *CORPUS[1:],
        ),
        "not UTF-8 (byte 1); read it as cp1252",
    ),
    (
        "Notepad's Unicode (UTF-16 with a BOM)",
        "/prepare",
        lambda d: (
            "my text",
            [
                handle_file(
                    write(d, "u.txt", ("déjà vu, the king and the queen " * 30).encode("utf-16"))
                )
            ],
            "",
            *CORPUS[1:],
        ),
        "'u.txt' is UTF-16 text (it starts with a byte-order mark).",
    ),
    (
        "Chinese, no spaces between words",
        "/train",
        lambda d: train_call(
            [write(d, "zh.txt", "我们一起去公园散步，公园里有很多人。\n".encode() * 40)]
        ),
        "In zh.txt, words are not separated by spaces (Chinese, Japanese or Thai text?). The "
        "tokenizer splits words at spaces, digits and punctuation",
    ),
    (
        "binary junk",
        "/train",
        lambda d: train_call([write(d, "j.txt", os.urandom(4096))]),
        "looks like a binary file",
    ),
    ("one word", "/train", lambda d: train_call(pasted="hello"), "training needs at least 50"),
    (
        "600,000 words twice, 9.6 MB",  # issue 14: +1.5 GB of RSS before the vocabulary cap
        "/train",
        lambda d: ("my text", [handle_file(hostile_text(d))], "", *HOSTILE_SETTINGS),
        "The vocabulary cap of 16,666 words raised min_count from 2 to 3, which leaves 0 words",
    ),
    (
        "50 MB file",
        "/train",
        lambda d: train_call([write(d, "big.txt", b"SPARSE")]),
        "exceeds the maximum file size",  # gradio_client checks the server's limit first
    ),
    ("unknown word", "/most_similar", lambda d: ("qwertyuiop", 5), "not in the vocabulary"),
    ("empty query", "/most_similar", lambda d: ("   ", 5), "The word is empty"),
    ("very long query", "/most_similar", lambda d: ("a" * 10_000, 5), "the limit is 50"),
    ("analogy word missing", "/analogy", lambda d: ("police", "", "woman"), "word b is empty"),
    ("analogy word unknown", "/analogy", lambda d: ("police", "zzqx", "woman"), "'zzqx' is not"),
    ("odd one of two", "/odd_one_out", lambda d: ("police officers",), "at least 3 different"),
    ("odd course window", "/pairs", lambda d: ("It is a pleasant day", 3), "even number"),
    ("empty sentence", "/pairs", lambda d: ("", 2), "The sentence is empty"),
    ("unknown map method", "/map", lambda d: ("police", 10, "umap"), "not in the list of choices"),
    ("empty scratch text", "/scratch", lambda d: ("",), "Type at least one sentence"),
]


@pytest.fixture(scope="module")
def app():
    yield from app_with_quick_model("cbow_app_hostile")


@pytest.fixture(scope="module")
def client(app):
    with client_for(app.demo) as c:
        yield c


def answer(client, endpoint, args) -> str:
    """The user-visible text of the answer: the error message, or the output."""
    try:
        return str(client.predict(*args, api_name=endpoint))
    except Exception as err:  # noqa: BLE001 - the error text is what we test
        return f"ERROR {err}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("endpoint", "make_args", "message"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_bad_input_gets_a_clear_message(client, tmp_path, endpoint, make_args, message):
    text = answer(client, endpoint, make_args(tmp_path))
    assert message in text, text
    if endpoint != "/prepare":  # /prepare reports the fallback encoding as a note
        assert text.startswith("ERROR")
    assert "Traceback" not in text and "Something went wrong" not in text
    assert len(client.predict("police", 3, api_name="/most_similar")["data"]) == 3


def test_limits_are_documented_in_the_app(app):
    text = " ".join(app.how_it_works_tab.how_it_works(app.SESSIONS.budget_mb).lower().split())
    for limit in (
        MAX_FILE_SIZE,
        f"{MAX_CORPUS_MB} MB",
        "60 s",
        "one training run at a time",
        f"at most {MAX_VOCABULARY:,} words and {MAX_VECTOR_CELLS:,} numbers",
        "share a memory budget of 1,024 mb",
    ):
        assert " ".join(limit.lower().split()) in text, limit


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_pickles_in_a_model_folder_never_run(app, tmp_path, monkeypatch, protocol):
    marker = tmp_path / "pwned"
    folder = tmp_path / "model"
    shutil.copytree(quick_model("cbow"), folder)
    payload = pickle.dumps(Payload(marker), protocol=protocol)
    (folder / VECTORS_FILE).write_bytes(payload)  # where the vectors should be
    (folder / FULL_MODEL_FILE).write_bytes(payload)  # gensim's own pickle name, for good measure
    monkeypatch.setenv("CBOW_MODEL", str(folder))
    loaded, _, status = app.served_model()
    assert loaded is None
    assert f"{VECTORS_FILE} is not a word2vec binary file" in status
    assert not marker.exists()


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
