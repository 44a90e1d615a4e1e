"""The one way every app loads the model it serves by default.

`load_default` finds the model with `shared.hub.locate_model` (``$<APP>_MODEL``, the repo a
Space bundle was built for, ``artifacts/<app>/``, the default Hub repo), loads it with the app's
own loader, reads its ``metrics.json``, and returns all three with a status line for the page.
It never raises for a missing or unusable model: an app without one still serves, says why, and
says how to get one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

from shared.errors import UserInputError
from shared.hub import load_json, locate_model

M = TypeVar("M")


class DefaultModel(NamedTuple, Generic[M]):
    """What an app serves when a visitor has not trained their own model."""

    model: M | None  # None: nothing loaded, and `status` says why
    metrics: dict  # the folder's metrics.json ({} without one)
    status: str  # Markdown for the page: where the model came from, or how to get one


def load_default(
    app: str,
    required: Sequence[str],
    load: Callable[[Path], M],
    *,
    app_dir: Path | None = None,
    what: str = "Model",
) -> DefaultModel[M]:
    """Locate `app`'s model and `load(folder)` it; `what` names it in the status line.

    A loader refuses a bad folder with a `UserInputError` (a pickle where weights belong, a
    truncated file) or an `OSError`/`ValueError`; each becomes a status naming the source.
    """
    location = locate_model(app, required=required, app_dir=app_dir)
    if location.folder is None:
        return DefaultModel(None, {}, f"⚠️ **{what} not trained yet.** {location.error}")
    try:
        model = load(location.folder)
        metrics_file = location.folder / "metrics.json"
        metrics = load_json(metrics_file) if metrics_file.is_file() else {}
    except (UserInputError, OSError, ValueError) as err:
        return DefaultModel(
            None, {}, f"⚠️ **{what} could not be loaded** from `{location.source}`: {err}"
        )
    return DefaultModel(model, metrics, f"{what} loaded from `{location.source}`.")
