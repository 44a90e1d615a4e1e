"""How every app is launched: the limits that keep one visitor from starving the others, the
launch settings, and `prepare_to_serve`, the one call an app makes before it serves.

README's "Limits" section documents these numbers.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

from shared.app import workarounds

MAX_FILE_SIZE = "20mb"  # per upload; Gradio rejects larger files before our code runs
QUEUE_CONCURRENCY = 4  # prediction events served at once per app
TRAIN_CONCURRENCY = 1  # in-app training runs at once per app, so predictions keep flowing
TRAIN_SECONDS = 60  # wall-time cap of one in-app training run
# Uploads and outputs stay this long, so a visitor can act on an upload again (prepare, then
# train); Gradio's sweep then deletes them. $TEMP_FILE_TTL overrides it (tests use 1 s).
TEMP_FILE_TTL = 600
MALLOC_ARENAS = 2
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


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


def prepare_to_serve() -> None:
    """Call once the app is built, before it serves: Gradio's fixes, and how memory is managed.

    1. `workarounds.install()`: the two Gradio 6.31 fixes (see that module).
    2. `gc.freeze()` moves everything alive now (libraries, the model, the Blocks) out of the
       collector's reach; they live as long as the process anyway, and a full collection then
       walks only what requests made (4 ms instead of 196 ms measured in the anomaly app).
    3. glibc's malloc gives threads that allocate at the same time their own heaps ("arenas", up
       to 8 per core) and doesn't hand memory freed in one to another; Gradio runs requests on
       a pool of worker threads, so RSS grows as each new thread fills an arena of its own. Two
       arenas, as `MALLOC_ARENA_MAX=2` would set: the transfer app's growth under 20 clients for
       60 s went from +14.7% to +6.6% with the same latency (benchmarks/results/load.md). A
       `MALLOC_ARENA_MAX` already in the environment wins.
    """
    workarounds.install()
    gc.collect()
    gc.freeze()
    if "MALLOC_ARENA_MAX" not in os.environ:
        limit_malloc_arenas(MALLOC_ARENAS)


def limit_malloc_arenas(arenas: int) -> bool:
    """Ask glibc to use at most `arenas` heaps from now on; False where libc has no mallopt."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False  # not glibc (macOS has no mallopt)
    return bool(mallopt(M_ARENA_MAX, arenas))
