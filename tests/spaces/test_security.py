"""Limits every app shares: upload size, queue concurrency, training concurrency, file access."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import REPO, load_app, serve

from shared.app.launch import MAX_FILE_SIZE, QUEUE_CONCURRENCY, TRAIN_CONCURRENCY

APPS = ("anomaly", "cbow", "transfer")


@pytest.fixture(scope="module", params=APPS)
def app_module(request):
    return load_app(request.param, f"{request.param}_app_security")


def test_upload_over_the_limit_is_refused(app_module):
    limit_mb = int(re.fullmatch(r"(\d+)mb", MAX_FILE_SIZE)[1])
    too_big = b"0" * (limit_mb * 1024 * 1024 + 1)
    with serve(app_module.demo) as url:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.csv", too_big)})
        assert response.status_code == 413
        assert "maximum allowed size" in response.text
        assert httpx.get(url).status_code == 200  # and it keeps serving


def test_queue_and_training_concurrency_are_bounded(app_module):
    demo = app_module.demo
    assert demo._queue.default_concurrency_limit == QUEUE_CONCURRENCY
    for fn in demo.fns.values():
        if "train" in (fn.api_name or ""):
            assert fn.concurrency_limit == TRAIN_CONCURRENCY, fn.api_name


@pytest.mark.parametrize(
    "path", [*(f"spaces/{app}/app.py" for app in APPS), "spaces/serve.py", "shared/app/launch.py"]
)
def test_no_app_widens_allowed_paths(path):
    # Gradio serves only its own temp files unless allowed_paths says otherwise
    assert "allowed_paths" not in (REPO / path).read_text()
