"""Fixtures the CBOW app's test files share: the app on the quick vectors, a second copy of it
served over HTTP, and vectors one session trained.

All three are session-scoped (under `--dist loadfile`, once per worker that needs them): the
app takes seconds to import, and half the tab files use it. The app whose handlers the tests
call is not the one served, so a test may still serve it itself. Each test file talks to the
served copy as its own visitor, with a session of its own.
"""

from __future__ import annotations

import pytest
from gradio_client import Client

from tests.conftest import serve

# test_app.py's helpers are imported where they are used: it imports `conftest` by its alias,
# which is not back until this file is loaded (tests/conftest.py, pytest_plugin_registered)


@pytest.fixture(scope="session")
def app():
    """The app on the quick vectors, for its handlers called directly."""
    from tests.spaces.cbow.test_app import app_with_quick_model

    (loaded,) = app_with_quick_model("cbow_app_views")  # the generator's one value; env restored
    return loaded


@pytest.fixture(scope="session")
def served_url():
    """Another copy of the app on the quick vectors, served over HTTP."""
    from tests.spaces.cbow.test_app import app_with_quick_model

    (served,) = app_with_quick_model("cbow_app_http")
    with serve(served.demo) as url:
        yield url


@pytest.fixture(scope="module")
def client(served_url):
    """One visitor of the served app per test file."""
    return Client(served_url, verbose=False)


@pytest.fixture(scope="session")
def trained(app):
    """A session that trained on the ZORBLAX text: its ticket, and the vectors it got."""
    from tests.spaces.cbow.test_app import ZORBLAX

    status, ticket, *_ = app.train_tab.train_vectors(
        app.SESSIONS, "my text", None, ZORBLAX, True, False, False, 2, 20, 2, 5, 4,
        progress=lambda *args, **kwargs: None,
    )  # fmt: skip
    assert "Trained on pasted text" in status
    return ticket, app.SESSIONS.store.get(ticket)
