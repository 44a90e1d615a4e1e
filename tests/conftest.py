"""Test setup: hermetic (no network, no user caches) and helpers to serve apps over HTTP."""

from __future__ import annotations

import os
import tempfile

# huggingface_hub and gradio read these at import time, so set them before anything imports them.
_HF_HOME = tempfile.mkdtemp(prefix="dl-labs-hf-")
os.environ.update(
    HF_HUB_OFFLINE="1",
    HF_HOME=_HF_HOME,
    HF_HUB_CACHE=os.path.join(_HF_HOME, "hub"),
    HF_HUB_DISABLE_TELEMETRY="1",
    GRADIO_ANALYTICS_ENABLED="False",
    NO_PROXY="127.0.0.1,localhost",
    no_proxy="127.0.0.1,localhost",
    TQDM_DISABLE="1",
    GRADIO_TEMP_DIR=tempfile.mkdtemp(prefix="dl-labs-gradio-"),  # tests count what is left here
    ARTIFACTS_DIR=tempfile.mkdtemp(prefix="dl-labs-artifacts-"),  # never the developer's models
)
# pytest-xdist: N workers on N cores, so each worker's torch (and BLAS) gets its share of the
# cores; more threads than cores make OpenMP threads wait on each other (the training jobs run
# on one thread for the same reason). Read by torch at import, so set before anything imports it.
if "PYTEST_XDIST_WORKER_COUNT" in os.environ and "OMP_NUM_THREADS" not in os.environ:
    _workers = int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // _workers))
os.environ.pop("HUB_ORG", None)
for _app in ("ANOMALY", "ANOMALY_USES", "CBOW", "TRANSFER", "DETECT"):
    os.environ.pop(f"{_app}_MODEL", None)

import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# pytest imports this file as `tests.conftest` (--import-mode=importlib, so that test files in
# different folders may share a name); tests import their helpers with `from conftest import`.
# One module under both names, so this file's setup above runs once.
sys.modules.setdefault("conftest", sys.modules[__name__])


def pytest_plugin_registered(plugin) -> None:
    """Keep the alias: before pytest imports a conftest.py in a folder that is not a package
    (tests/spaces/<app>/conftest.py), it drops sys.modules["conftest"], so that two such files
    do not meet under one name; the test files below still import this one by that name.

    Those conftest.py files import this one as `tests.conftest`: the alias is back only once
    each of them is registered.
    """
    sys.modules["conftest"] = sys.modules[__name__]


_LOOPBACK = ("127.", "::1", "localhost")
_connect = socket.socket.connect


def _loopback_only(sock: socket.socket, address) -> None:
    """Tests are hermetic: a socket may reach this machine's own servers, nothing else."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not str(address[0]).startswith(
        _LOOPBACK
    ):
        raise OSError(f"tests may not reach the network: connect to {address!r} refused")
    return _connect(sock, address)


socket.socket.connect = _loopback_only

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"  # screenshots and other test outputs (git-ignored)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_app(name: str, module_name: str | None = None):
    """Import spaces/<name>/app.py fresh, under its own module name: the launcher's loader.

    spaces/ is not a package, so spaces/serve.py itself is imported by its path, once and only
    when a test asks for an app (it imports gradio, which library tests leave unimported).
    """
    if "dl_labs_serve" not in sys.modules:
        spec = importlib.util.spec_from_file_location("dl_labs_serve", REPO / "spaces" / "serve.py")
        serve = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = serve
        spec.loader.exec_module(serve)
    return sys.modules["dl_labs_serve"].load_app(name, module_name or f"{name}_app_under_test")


HUB_SHA = "0123456789abcdef0123456789abcdef01234567"


def cache_repo(
    repo_id: str, source: Path, cache: str | os.PathLike | None = None, revision: str = HUB_SHA
) -> Path:
    """Copy `source` into an offline HF cache as `repo_id`, the layout huggingface_hub writes.

    `cache` is a hub cache folder (``$HF_HOME/hub``); by default the tests' own.
    """
    from huggingface_hub import constants

    root = Path(cache or constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}"
    snapshot = root / "snapshots" / revision
    shutil.copytree(source, snapshot, dirs_exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(revision)  # no trailing newline: it breaks resolution
    return snapshot


_QUICK_MODELS: dict[str, Path] = {}


def _quick_root() -> Path:
    """Where this test run keeps its --quick models.

    Under pytest-xdist (`make test` runs the suite on every core) all workers of one run share
    a folder named by the run's id, so each quick model is trained once per run, not once per
    worker; a plain pytest run keeps its own folder.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run:
        return Path(tempfile.gettempdir()) / f"dl-labs-quick-{run}"
    if "" not in _QUICK_MODELS:
        _QUICK_MODELS[""] = Path(tempfile.mkdtemp(prefix="dl-labs-quick-"))
    return _QUICK_MODELS[""]


def quick_model(app: str) -> Path:
    """Train `python -m training.<app> --quick` once per test run and return its folder."""
    if app not in _QUICK_MODELS:
        from filelock import FileLock

        root = _quick_root() / app
        root.mkdir(parents=True, exist_ok=True)
        out, done = root / "model", root / "done"
        with FileLock(root / "lock"):  # another worker may be training it right now
            if not done.exists():
                shutil.rmtree(out, ignore_errors=True)  # a run that failed half-way
                subprocess.run(
                    [sys.executable, "-m", f"training.{app}", "--quick", "--out", str(out)],
                    check=True,
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                done.touch()
        _QUICK_MODELS[app] = out
    return _QUICK_MODELS[app]


@contextlib.contextmanager
def serve(demo) -> Iterator[str]:
    """Launch a Gradio app on 127.0.0.1 and yield its URL; close it afterwards.

    Gradio's fixes are installed as `prepare_to_serve` installs them at launch (the rest of
    that call, gc.freeze and malloc arenas, would outlive the test in this process).
    """
    from shared.app import workarounds
    from shared.app.launch import launch_kwargs

    workarounds.install()

    demo.launch(
        prevent_thread_lock=True,
        server_name="127.0.0.1",
        server_port=free_port(),
        quiet=True,
        **launch_kwargs(),
    )
    try:
        yield demo.local_url
    finally:
        demo.close()


@contextlib.contextmanager
def client_for(demo):
    """A `gradio_client.Client` talking to `demo` over real HTTP."""
    from gradio_client import Client

    with serve(demo) as url:
        yield Client(url, verbose=False)


@pytest.fixture
def fake_hub(monkeypatch) -> dict:
    """Patch only the network calls of a push; record what create_repo and upload_folder got.

    ``calls["create"]`` and ``calls["upload"]`` hold the latest call of each; ``calls["log"]``
    every call in order, as ("create" | "upload", kwargs, files), where `files` maps each
    uploaded file's relative path to its bytes at the moment of the upload.
    """
    from huggingface_hub import HfApi

    calls: dict = {"log": []}

    def create_repo(self, repo_id, **kwargs):
        calls["create"] = {"repo_id": repo_id, **kwargs}
        calls["log"].append(("create", calls["create"], {}))
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, **kwargs):
        calls["upload"] = kwargs
        calls["log"].append(("upload", kwargs, folder_files(kwargs["folder_path"])))

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    return calls


def folder_files(folder: str | os.PathLike) -> dict[str, bytes]:
    """Every file under `folder`, by relative path, with its bytes."""
    root = Path(folder)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def browser():
    """A headless Debian Chromium driven by Playwright (its own download can't reach us here)."""
    executable = shutil.which("chromium")
    if executable is None:
        message = "chromium is not installed (`make test` installs it when run as root)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the browser tests, not skip them")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh page whose console errors are collected in `page.console_errors`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: msg.type == "error" and pg.console_errors.append(msg.text))
    pg.on("pageerror", lambda err: pg.console_errors.append(str(err)))
    yield pg
    context.close()
