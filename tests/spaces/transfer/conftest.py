"""Fixtures the transfer app's test files share: the app on the quick model, served once.

The served app is session-scoped (under `--dist loadfile`, once per worker that needs it), and
each test file talks to it as its own visitor: a head one file fine-tunes serves only that
file's session. test_detect_tab.py serves its own Detect tab under the same fixture name.
"""

from __future__ import annotations

import pytest
from gradio_client import Client

from tests.conftest import load_app, quick_model, serve


@pytest.fixture(scope="session")
def served_url():
    """The app on the quick classifier, served over HTTP for the test files of this folder."""
    folder = quick_model("transfer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRANSFER_MODEL", str(folder))
        app = load_app("transfer")
    with serve(app.demo) as url:
        yield url


@pytest.fixture(scope="module")
def client(served_url):
    """One visitor of the served app per test file, with a session of its own."""
    return Client(served_url, verbose=False)
