"""Serve all three apps from one local server, the way `make demo` does.

    python spaces/serve.py                 # http://127.0.0.1:7860
    python spaces/serve.py --port 8000 --host 0.0.0.0

The root page has a tab per app; each app also stands alone at /anomaly, /cbow and /transfer.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

from shared.app.launch import launch_kwargs, prepare_to_serve

HERE = Path(__file__).resolve().parent
APPS = {
    "anomaly": "Anomaly detection (autoencoder)",
    "cbow": "Word2Vec CBOW",
    "transfer": "Transfer learning (CNN)",
}


def load_app(name: str, module_name: str | None = None) -> ModuleType:
    """Import spaces/<name>/app.py under a unique module name (all three files are app.py).

    `module_name` (default ``<name>_app``) lets tests import an app afresh under another name.

    Its folder goes first on sys.path, as when it runs as a script or in a Space bundle, so an
    app imports its own tab modules (spaces/cbow/model_tab.py). Every module named like one of
    the folder's files is forgotten first (a module loaded earlier keeps its own): apps may name
    their tab modules alike, and whatever a tab module reads at import (its settings from the
    environment) is this load's, as in a fresh process.
    """
    folder = HERE / name
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    sys.path.insert(0, str(folder))
    for own in folder.glob("*.py"):
        sys.modules.pop(own.stem, None)
    spec = importlib.util.spec_from_file_location(
        module_name or f"{name}_app", HERE / name / "app.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def index_page() -> str:
    tabs = "".join(
        f'<button onclick="show(\'{name}\')" id="tab-{name}">{title}</button>'
        for name, title in APPS.items()
    )
    first = next(iter(APPS))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Deep-learning labs</title>
<link rel="icon" href="data:,">
<style>
 body {{margin:0;font-family:system-ui,sans-serif}}
 nav {{display:flex;gap:.5rem;padding:.5rem 1rem;background:#f3f4f6;align-items:center}}
 nav b {{margin-right:1rem}}
 button {{border:1px solid #d1d5db;background:white;padding:.4rem .9rem;border-radius:6px;
   cursor:pointer}}
 button.on {{background:#f97316;color:white;border-color:#f97316}}
 iframe {{border:0;width:100%;height:calc(100vh - 3rem)}}
 iframe[hidden] {{display:none}}
</style></head>
<body><nav><b>Deep-learning labs</b>{tabs}</nav>
<main id="apps"></main>
<script>
// One frame per app, made on its first visit and kept: switching tabs neither reloads an app
// (a model trained there stays) nor aborts its page while it is still loading.
function show(name) {{
  let frame = document.getElementById('app-' + name);
  if (!frame) {{
    frame = document.createElement('iframe');
    frame.id = 'app-' + name;
    frame.title = name;
    frame.src = '/' + name + '/';
    document.getElementById('apps').appendChild(frame);
  }}
  document.querySelectorAll('#apps iframe').forEach(f => f.hidden = f !== frame);
  document.querySelectorAll('nav button').forEach(b => b.classList.remove('on'));
  document.getElementById('tab-' + name).classList.add('on');
  history.replaceState(null, '', '#' + name);
}}
show(location.hash.slice(1) || '{first}');
</script></body></html>"""


def build_server(names: list[str] | None = None) -> FastAPI:
    server = FastAPI(title="Deep-learning labs")
    page = index_page()

    @server.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    names = names or list(APPS)
    for name in names:
        module = load_app(name)
        gr.mount_gradio_app(server, module.demo, path=f"/{name}", **launch_kwargs())

    @server.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        # a mounted app's page names no icon, so the browser asks the site root (a 404 in the
        # console otherwise): give it Gradio's, from the first app
        return RedirectResponse(f"/{names[0]}/favicon.ico")

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    args = parser.parse_args()
    server = build_server()
    prepare_to_serve()
    base = f"http://{args.host}:{args.port}"
    print("\nServing the labs (Ctrl-C stops):")
    print(f"  all three  {base}/")
    for name, title in APPS.items():
        print(f"  {title:<32} {base}/{name}/")
    uvicorn.run(server, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
