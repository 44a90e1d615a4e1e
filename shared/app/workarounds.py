"""Two fixes to Gradio 6.31, applied by `install()` at launch and never on import.

Each replaces one Gradio function with a copy that behaves; each names the upstream behaviour
it works around and the test that shows Gradio still behaves that way (so the day an upgrade
fixes it, that test fails and the fix can go):

- `write_once`: Gradio rewrites a cached output image on every request that returns it.
  tests/app/test_workarounds.py::test_gradio_still_rewrites_a_cached_image
- `delete_files_created_by_app`: Gradio's temp-file sweep dies for good when an upload
  arrives during it. tests/app/test_workarounds.py::test_gradio_sweep_still_dies_on_a_new_upload
"""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

import gradio as gr
from gradio import processing_utils, route_utils
from PIL import Image

# Gradio's own functions, kept for `uninstall()` and for the tests that show they still misbehave
GRADIO_SAVE_PIL_TO_CACHE = processing_utils.save_pil_to_cache
GRADIO_DELETE_FILES = route_utils.delete_files_created_by_app


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


def save_pil_to_cache(
    img: Image.Image, cache_dir: str, name: str = "image", format: str = "webp"
) -> str:
    """`gradio.processing_utils.save_pil_to_cache`, writing with `write_once`."""
    data = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(data)
    folder.mkdir(exist_ok=True, parents=True)
    path = (folder / f"{name}.{format}").resolve()
    write_once(path, data)
    return str(path)


def delete_files_created_by_app(blocks: gr.Blocks, age: int | None) -> None:
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


def install() -> None:
    """Put both fixes in Gradio's place. Idempotent; call it before the app serves.

    Every image an output component saves goes through `save_pil_to_cache` (Image,
    AnnotatedImage and its masks, Gallery; `save_img_array_to_cache` calls it by the module's
    name too), and the `delete_cache` schedule calls `route_utils.delete_files_created_by_app`.
    """
    processing_utils.save_pil_to_cache = save_pil_to_cache
    route_utils.delete_files_created_by_app = delete_files_created_by_app


def uninstall() -> None:
    """Gradio's own functions back (for the tests that show they still misbehave)."""
    processing_utils.save_pil_to_cache = GRADIO_SAVE_PIL_TO_CACHE
    route_utils.delete_files_created_by_app = GRADIO_DELETE_FILES
