"""`make demo`'s server: one page with a tab per app, each app on its own path."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time

import httpx
import pytest
import uvicorn
from conftest import REPO, free_port
from gradio_client import Client


def load_serve():
    spec = importlib.util.spec_from_file_location("serve_under_test", REPO / "spaces" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    serve = load_serve()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(serve.build_server(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "the launcher did not start within 60 s"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_index_has_a_tab_per_app(server_url):
    html = httpx.get(server_url + "/").text
    for name in ("anomaly", "cbow", "transfer"):
        assert f"show('{name}')" in html


@pytest.mark.parametrize("name", ["anomaly", "cbow", "transfer"])
def test_each_app_answers_on_its_own_path(server_url, name):
    assert httpx.get(f"{server_url}/{name}/").status_code == 200
    info = Client(f"{server_url}/{name}/", verbose=False).predict(api_name="/model_info")
    assert "Model" in info  # either "Model loaded from ..." or "Model not trained yet"


@pytest.mark.slow
@pytest.mark.browser
def test_tabs_switch_apps_in_a_real_browser(server_url, page):
    from conftest import ARTIFACTS

    page.goto(server_url + "/")
    page.click("#tab-cbow")
    assert page.get_attribute("#app-cbow", "src") == "/cbow/"
    frame = page.frame_locator("#app-cbow")
    # the app has rendered (not just Gradio's "Loading..."): its own heading is on screen
    frame.get_by_role("heading", name="Word2Vec CBOW").wait_for(timeout=60_000)
    assert page.url.endswith("#cbow")
    page.screenshot(path=str(ARTIFACTS / "launcher.png"))
    # every app's page, once its first view has loaded, with the launcher around it: no errors
    for name in ("anomaly", "cbow", "transfer"):
        page.click(f"#tab-{name}")
        page.frame_locator(f"#app-{name}").locator("h1").first.wait_for(timeout=60_000)
        app_frame = next(f for f in page.frames if f.url.rstrip("/").endswith(f"/{name}"))
        app_frame.wait_for_function(
            "document.querySelectorAll('.eta-bar, .meta-text, .meta-text-center').length === 0",
            timeout=120_000,
        )
        page.wait_for_timeout(500)  # late requests (icons, fonts) after the page settles
    assert page.console_errors == []
    # each app keeps its own frame: back on CBOW, the page is the one loaded first, not a reload
    assert page.locator("#apps iframe").count() == 3
    page.click("#tab-cbow")
    assert page.locator("#app-cbow").is_visible() and not page.locator("#app-anomaly").is_visible()
    assert [f.url for f in page.frames].count(f"{server_url}/cbow/") == 1


def test_apps_with_tab_modules_of_the_same_name_each_import_their_own(tmp_path, monkeypatch):
    serve = load_serve()
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "model_tab.py").write_text(
            f"import os\nWHOSE = {name!r}\nMODEL = os.environ.get('ONE_MODEL')\n"
        )
        (tmp_path / name / "app.py").write_text("import model_tab\nWHOSE = model_tab.WHOSE\n")
    monkeypatch.setattr(serve, "HERE", tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "model_tab", raising=False)
    one, two = serve.load_app("one", "one_0"), serve.load_app("two", "two_1")
    monkeypatch.setenv("ONE_MODEL", "a folder")
    one_again = serve.load_app("one", "one_2")
    assert (one.WHOSE, two.WHOSE, one_again.WHOSE) == ("one", "two", "one")
    assert one.model_tab is not two.model_tab and one.model_tab.WHOSE == "one"  # kept its own
    # loaded again, an app's tab modules are imported again, under this load's environment
    assert (one.model_tab.MODEL, one_again.model_tab.MODEL) == (None, "a folder")
    sys.modules.pop("model_tab", None)
