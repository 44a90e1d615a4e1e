"""shared.app.workarounds: the two Gradio 6.31 fixes, applied by install() and never on import.

Each fix has a test that Gradio's own function still misbehaves: when an upgrade fixes it, that
test fails, and the workaround can go.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from gradio import processing_utils, route_utils
from PIL import Image

from shared.app import workarounds


@pytest.fixture
def installed():
    workarounds.install()
    yield
    workarounds.uninstall()


@pytest.fixture
def gradios_own():
    workarounds.uninstall()
    yield
    workarounds.install()


def test_output_images_are_cached_whole_and_written_once(tmp_path, installed):
    """Identical answers to concurrent requests share a file: it must never be rewritten while
    another request's browser downloads it (Gradio 6.31 rewrote it each time)."""
    assert (
        processing_utils.save_pil_to_cache.__module__ == "shared.app.workarounds"
    )  # what components call
    image = Image.new("RGB", (64, 64), "red")
    first = Path(processing_utils.save_pil_to_cache(image, str(tmp_path), format="png"))
    with Image.open(first) as back:
        assert back.size == (64, 64) and back.getpixel((0, 0)) == (255, 0, 0)
    inode = first.stat().st_ino
    os.utime(first, (1, 1))  # as if saved long ago
    again = Path(processing_utils.save_img_array_to_cache(np.array(image), str(tmp_path), "png"))
    assert again == first and first.stat().st_ino == inode  # not written again...
    assert first.stat().st_mtime > 1  # ...but served now: Gradio's TTL sweep counts from here
    # a file that is not whole (a writer that died) is replaced whole, by a rename
    first.write_bytes(first.read_bytes()[:10])
    workarounds.write_once(first, b"0123456789abcdef")
    assert first.read_bytes() == b"0123456789abcdef" and first.stat().st_ino != inode
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary left


def test_concurrent_identical_answers_never_expose_a_partial_file(tmp_path, installed):
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8))
    size, errors = None, []

    def save_and_read():
        path = Path(processing_utils.save_pil_to_cache(image, str(tmp_path), format="png"))
        for _ in range(20):
            if len(path.read_bytes()) != size:
                errors.append(len(path.read_bytes()))

    size = len(processing_utils.encode_pil_to_bytes(image, "png"))
    threads = [threading.Thread(target=save_and_read) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []


def uploads_arriving_mid_sweep(tmp_path, monkeypatch):
    """Three old files in an app's temp set, and an os.remove that, as the upload route does
    meanwhile, adds a new upload to the set each time the sweep deletes one."""
    old = [tmp_path / f"old-{i}" for i in range(3)]
    for path in old:
        path.write_text("x")
    files = {str(p) for p in old}
    blocks = types.SimpleNamespace(blocks={}, temp_file_sets=[files])
    remove = os.remove

    def remove_while_an_upload_lands(path):
        remove(path)
        files.add(str(tmp_path / f"new-{len(files)}"))

    monkeypatch.setattr(os, "remove", remove_while_an_upload_lands)
    return old, files, blocks


def test_the_temp_file_sweep_survives_an_upload_arriving_meanwhile(
    tmp_path, monkeypatch, installed
):
    """Gradio's sweep walked the live set: an upload landing mid-sweep raised and killed the
    scheduled task, so nothing was ever deleted again."""
    old, files, blocks = uploads_arriving_mid_sweep(tmp_path, monkeypatch)
    # the schedule's function (ours); age -1: every file is past it (the sweep reads ctime)
    route_utils.delete_files_created_by_app(blocks, age=-1)
    assert not any(p.exists() for p in old)
    assert files == {str(tmp_path / f"new-{n}") for n in (3, 4, 5)}  # the uploads stay listed


def test_gradio_still_rewrites_a_cached_image(tmp_path, gradios_own):
    """What `write_once` works around: Gradio writes an answer's file again on every request,
    truncating it while another visitor's browser may be reading it."""
    image = Image.new("RGB", (32, 32), "blue")
    data = processing_utils.encode_pil_to_bytes(image, "png")
    folder = tmp_path / processing_utils.hash_bytes(data)
    folder.mkdir()
    planted = folder / "image.png"
    planted.write_bytes(bytes(len(data)))  # the same size: a file that is "already there"
    processing_utils.save_pil_to_cache(image, str(tmp_path), format="png")
    assert planted.read_bytes() == data  # Gradio wrote it again
    planted.write_bytes(bytes(len(data)))
    workarounds.save_pil_to_cache(image, str(tmp_path), format="png")
    assert planted.read_bytes() == bytes(len(data))  # ours trusts the content-hash folder


def test_gradio_sweep_still_dies_on_a_new_upload(tmp_path, monkeypatch, gradios_own):
    """What our sweep works around: Gradio's walks the live set, so an upload that lands while
    it runs raises, and the scheduled task that runs it never runs again."""
    old, files, blocks = uploads_arriving_mid_sweep(tmp_path, monkeypatch)
    with pytest.raises(RuntimeError, match="Set changed size during iteration"):
        route_utils.delete_files_created_by_app(blocks, age=-1)


LIBRARY_IMPORTS = """
import importlib, pkgutil, sys
from gradio import processing_utils, route_utils
own = processing_utils.save_pil_to_cache, route_utils.delete_files_created_by_app
import shared
for module in pkgutil.walk_packages(shared.__path__, "shared."):
    importlib.import_module(module.name)
assert (processing_utils.save_pil_to_cache, route_utils.delete_files_created_by_app) == own
print("unchanged")
"""


def test_importing_every_module_leaves_gradio_unchanged():
    command = [sys.executable, "-c", LIBRARY_IMPORTS]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "unchanged", run.stderr[-2000:]


OUTSIDE_THE_APP_PACKAGE = """
import importlib, pkgutil, sys
import shared
names = [m.name for m in pkgutil.walk_packages(shared.__path__, "shared.")
         if not m.name.startswith("shared.app")]
for name in names:
    importlib.import_module(name)
print(len(names), "gradio" in sys.modules)
"""


def test_no_library_module_outside_shared_app_imports_gradio():
    command = [sys.executable, "-c", OUTSIDE_THE_APP_PACKAGE]
    run = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    count, imported = run.stdout.split()
    assert int(count) > 30 and imported == "False", run.stderr[-2000:]
