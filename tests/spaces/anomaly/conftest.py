"""Fixtures the anomaly app's test files share: the quick model, and the app served once.

The served app is session-scoped (under `--dist loadfile`, once per worker that needs it), and
each test file talks to it as its own visitor: a model one file trains stays in that file's
session, as it did when each file served its own copy of the app.
"""

from __future__ import annotations

import os

import pytest
from gradio_client import Client

from tests.conftest import load_app, quick_model, serve


@pytest.fixture(scope="module")
def quick():
    return quick_model("anomaly")


@pytest.fixture(scope="session")
def served_url():
    """The app on the quick model, served over HTTP for the test files of this folder."""
    os.environ["ANOMALY_MODEL"] = str(quick_model("anomaly"))
    try:
        app = load_app("anomaly", "anomaly_app_http")
    finally:
        del os.environ["ANOMALY_MODEL"]
    with serve(app.demo) as url:
        yield url


@pytest.fixture(scope="module")
def client(served_url):
    """One visitor of the served app per test file, with a session of its own."""
    return Client(served_url, verbose=False)
