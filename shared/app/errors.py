"""Errors a visitor can read: handlers wrapped by `friendly`, images that fail to decode named.

Nothing a visitor does may end in a traceback on their page. `UserInputError` (from
`shared.errors`, free of Gradio so the library can raise it) carries a message meant for them;
anything else is logged on the server and reported as a short, generic line.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable

import gradio as gr
from PIL import Image, UnidentifiedImageError

from shared.errors import UserInputError

log = logging.getLogger("dl_labs")


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


def readable(component: gr.Image | gr.Sketchpad) -> gr.Image | gr.Sketchpad:
    """`component`, whose uploads that PIL cannot decode get a message naming the file.

    Gradio opens an uploaded image (its header) before any handler runs, so a file that is not
    an image would otherwise end the request with Gradio's generic "an exception" message. The
    instance's `preprocess` is wrapped rather than the class subclassed: Gradio writes a `.pyi`
    stub beside the source of every component subclass it sees defined.
    """
    preprocess = component.preprocess

    def checked(payload):
        try:
            return preprocess(payload)
        except Image.DecompressionBombError:
            raise gr.Error(f"{_upload_name(payload)} is too large to decode safely.") from None
        except UnidentifiedImageError:
            raise gr.Error(f"{_upload_name(payload)} is not an image PIL can read.") from None
        except (OSError, ValueError, SyntaxError):
            raise gr.Error(f"{_upload_name(payload)} is corrupted or truncated.") from None

    component.preprocess = checked
    return component


def _upload_name(payload) -> str:
    name = getattr(payload, "orig_name", None)
    return repr(name) if name else "The upload"
