"""What the three Gradio apps share: input errors, limits, and how they are launched."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import inspect
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import gradio as gr
from gradio import processing_utils, route_utils
from gradio.components.plot import PlotData
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    import plotly.graph_objects as go

from shared.errors import UserInputError
from shared.session_store import SESSION_SECONDS, SessionStore

log = logging.getLogger("dl_labs")


def write_once(path: Path, data: bytes) -> None:
    """Write a content-addressed cache file once, atomically.

    Gradio 6.31 saves every output image under a folder named by the hash of its bytes and
    rewrites that file on each request, so two requests with the same answer (twenty visitors
    asking for the same scene, the same boxes' masks) truncate the file while the other's
    browser downloads it: "peer closed connection" in the load benchmark. The folder is the
    bytes' hash, so a file already there holds these bytes; a new one appears whole (rename).
    """
    try:
        if path.stat().st_size == len(data):
            # served again now: the sweep's clock (delete_cache) starts again, as a rewrite did
            os.utime(path)
            return
    except FileNotFoundError:  # never written, or swept a moment ago
        pass
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _save_pil_to_cache(img: Image.Image, cache_dir: str, name: str = "image",
                       format: str = "webp") -> str:  # fmt: skip
    """`gradio.processing_utils.save_pil_to_cache`, writing with `write_once`."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    write_once(path, data)
    return str(path)


# every image an output component saves goes through it (Image, AnnotatedImage and its masks,
# Gallery); save_img_array_to_cache calls it by the module's name too
processing_utils.save_pil_to_cache = _save_pil_to_cache


def _delete_files_created_by_app(blocks: gr.Blocks, age: int | None) -> None:
    """Gradio 6.31's temp-file sweep (`delete_cache`), walking a snapshot of each file set.

    Gradio's walks the live set, which an upload arriving meanwhile changes: the sweep raises
    "Set changed size during iteration", and the scheduled task that runs it dies for good, so
    no upload or output is ever deleted again (46 of 50 test uploads were still there).
    """
    keep = set()
    for component in blocks.blocks.values():
        keep.update(getattr(component, "keep_in_cache", set()))
    for files in blocks.temp_file_sets:
        removed = set()
        for file in list(files):
            if file in keep:
                continue
            try:
                changed = datetime.fromtimestamp(Path(file).lstat().st_ctime)
                if age is None or (datetime.now() - changed).total_seconds() > age:
                    os.remove(file)
                    removed.add(file)
            except FileNotFoundError:
                continue
        files -= removed


route_utils.delete_files_created_by_app = _delete_files_created_by_app  # the schedule calls it

# Limits that keep one visitor from starving the others on a shared Space. README documents them.
MAX_FILE_SIZE = "20mb"  # per upload; Gradio rejects larger files before our code runs
QUEUE_CONCURRENCY = 4  # prediction events served at once per app
TRAIN_CONCURRENCY = 1  # in-app training runs at once per app, so predictions keep flowing
TRAIN_SECONDS = 60  # wall-time cap of one in-app training run
# Uploads and outputs stay this long, so a visitor can act on an upload again (prepare, then
# train); Gradio's sweep then deletes them. $TEMP_FILE_TTL overrides it (tests use 1 s).
TEMP_FILE_TTL = 600


def _readable(preprocess: Callable, payload):
    """Gradio's own `preprocess(payload)`, with an unreadable image named instead of a traceback.

    Gradio opens an uploaded image (its header) before any handler runs, so a file that is not
    an image would otherwise end the request with Gradio's generic "an exception" message.
    """
    try:
        return preprocess(payload)
    except Image.DecompressionBombError:
        raise gr.Error(f"{_upload_name(payload)} is too large to decode safely.") from None
    except UnidentifiedImageError:
        raise gr.Error(f"{_upload_name(payload)} is not an image PIL can read.") from None
    except (OSError, ValueError, SyntaxError):
        raise gr.Error(f"{_upload_name(payload)} is corrupted or truncated.") from None


def _upload_name(payload) -> str:
    name = getattr(payload, "orig_name", None)
    return repr(name) if name else "The upload"


class ImageInput(gr.Image):
    """`gr.Image` whose unreadable uploads get a message that names the file."""

    is_template = True  # the page draws it as Gradio's own Image component

    def preprocess(self, payload):
        return _readable(super().preprocess, payload)


class SketchInput(gr.Sketchpad):
    """`gr.Sketchpad` whose unreadable drawings get a message instead of a traceback."""

    is_template = True

    def get_block_name(self) -> str:
        return "imageeditor"  # Sketchpad is itself Gradio's template of the ImageEditor

    def preprocess(self, payload):
        return _readable(super().preprocess, payload)


def friendly(fn: Callable) -> Callable:
    """Turn every exception into a `gr.Error` the user can read, never a traceback.

    `UserInputError` (and `gr.Error`) messages go through unchanged; anything else is logged
    with its traceback on the server and reported to the user as a short, generic message.
    """

    def report(err: Exception) -> gr.Error:
        if isinstance(err, gr.Error):
            return err
        if isinstance(err, UserInputError):
            return gr.Error(str(err))
        log.exception("unexpected error in %s", fn.__name__)
        return gr.Error(f"Something went wrong ({type(err).__name__}). Please check the input.")

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - the boundary that keeps tracebacks out
                raise report(err) from None

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - the boundary that keeps tracebacks out
            raise report(err) from None

    return wrapper


def session_state(store: SessionStore) -> gr.State:
    """A session's `gr.State` for its ticket into `store`: empty until the visitor trains, and
    freed with the model it names an hour after the session's last use."""
    return gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=store.discard)


def delete_cache() -> tuple[int, int]:
    """For `gr.Blocks(delete_cache=...)`: sweep every minute at most, drop files past the TTL."""
    ttl = int(os.environ.get("TEMP_FILE_TTL", TEMP_FILE_TTL))
    return (min(60, ttl), ttl)


def launch_kwargs() -> dict:
    """Arguments for `demo.launch()` and `gr.mount_gradio_app()` that every app uses.

    `mcp_server`: each app's public endpoints are also MCP tools, described by their
    docstrings, at <app>/gradio_api/mcp/ (the schema at <app>/gradio_api/mcp/schema). It needs
    the `mcp` package below 2: mcp 2.x fails to start the server (the app runs on without it).
    """
    return {"max_file_size": MAX_FILE_SIZE, "footer_links": ["api", "gradio"], "mcp_server": True}


_PLOT = gr.Plot(render=False)  # its postprocess is what gr.Plot sends for a figure


def plot_data(fig: go.Figure) -> PlotData:
    """A plotly figure as `gr.Plot` sends it to the browser, which draws it: serialized once.

    Return this instead of the figure where the same figure serves many visitors (a cached
    first view): `gr.Plot` passes it through, so no visitor pays for serializing it again.
    """
    return _PLOT.postprocess(fig)


def prepare_to_serve() -> None:
    """Call once the app is built, before it serves: settle how the process manages memory.

    1. `gc.freeze()` moves everything alive now (libraries, the model, the Blocks) out of the
       collector's reach; they live as long as the process anyway, and a full collection then
       walks only what requests made (4 ms instead of 196 ms measured in the anomaly app).
    2. glibc's malloc gives threads that allocate at the same time their own heaps ("arenas", up
       to 8 per core) and doesn't hand memory freed in one to another; Gradio runs requests on
       a pool of worker threads, so RSS grows as each new thread fills an arena of its own. Two
       arenas, as `MALLOC_ARENA_MAX=2` would set: the transfer app's growth under 20 clients for
       60 s went from +14.7% to +6.6% with the same latency (benchmarks/results/load.md). A
       `MALLOC_ARENA_MAX` already in the environment wins.
    """
    gc.collect()
    gc.freeze()
    if "MALLOC_ARENA_MAX" not in os.environ:
        limit_malloc_arenas(MALLOC_ARENAS)


MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def limit_malloc_arenas(arenas: int) -> bool:
    """Ask glibc to use at most `arenas` heaps from now on; False where libc has no mallopt."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False  # not glibc (macOS has no mallopt)
    return bool(mallopt(M_ARENA_MAX, arenas))
