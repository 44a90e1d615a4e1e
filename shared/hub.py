"""One way to find, save and push every artifact, for training and apps alike.

A model *source* is a local folder or a Hub repo id (``org/name`` or ``org/name@revision``).
`resolve_source` turns either into a local folder; `locate_model` applies the apps' lookup
order (env var, then the repo a Space bundle was built for, then ``artifacts/<app>/``, then the
default Hub repo). Saving writes
``config.json``, ``metrics.json`` and a model card next to the weights, and `push_folder`
uploads that exact folder.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import (
    EvalResult,
    HfApi,
    ModelCard,
    ModelCardData,
    constants,
    snapshot_download,
)
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from safetensors import SafetensorError

from shared.errors import UserInputError

WEIGHTS = "model.safetensors"  # PyTorchModelHubMixin's file name; never a pickle

DEFAULT_HUB_ORG = "dl-labs-demo"  # placeholder org; set HUB_ORG to publish under your own
# Each app's default model repo, under $HUB_ORG. Training pushes there; Spaces preload it.
REPO_NAMES = {
    "anomaly": "anomaly-autoencoder",
    "cbow": "cbow-word2vec",
    "transfer": "transfer-cnn",
    "detect": "detect-fcos",  # the transfer app's Detect tab
    "anomaly_uses": "anomaly-uses",  # the anomaly app's "What else an autoencoder does" tab
}
# Written by spaces/deploy.py beside a bundle's app.py: {"<app>": "org/name"}, the repos the
# Space was built for (the same ones its front matter preloads into the HF cache).
BUNDLE_MODELS = "models.json"
# The Hub's own rule: names of letters, digits, "-", "_" and "." up to 96 characters.
_REPO_ID = re.compile(
    r"^(?P<repo>[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95})(?:@(?P<rev>[\w./-]{1,200}))?$"
)


class ModelSourceError(UserInputError):
    """A model source that cannot be used. The message is written for the person who gave it."""


@dataclass(frozen=True)
class ModelLocation:
    """Where an app's model came from: a folder, or a message saying why there is none."""

    folder: Path | None
    source: str
    error: str | None = None


def resolve_source(source: str | os.PathLike, required: Sequence[str] = ("config.json",)) -> Path:
    """Return a local folder for `source`, downloading (or reading the HF cache) for a repo id."""
    text = str(source).strip()
    if not text:
        raise ModelSourceError("The model source is empty: give a folder or a Hub repo id.")
    if ".." in re.split(r"[\\/@]", text):
        raise ModelSourceError(f"Model source {text!r} contains '..'; give a plain path or id.")
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # '~someone' with no such user: nothing to expand, no such folder
        path = Path(text)
    if path.is_dir():
        folder = path.resolve()
    elif path.exists():
        raise ModelSourceError(f"Model source {text!r} is a file; give the folder that holds it.")
    elif match := _REPO_ID.match(text):
        folder = Path(_download(match["repo"], match["rev"]))
    elif text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise ModelSourceError(f"Model folder {text!r} does not exist.")
    else:
        raise ModelSourceError(
            f"{text!r} is neither an existing folder nor a Hub repo id like 'org/name'."
        )
    missing = [name for name in required if not (folder / name).is_file()]
    if missing:
        present = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        raise ModelSourceError(
            f"Model folder {text!r} is missing {', '.join(missing)} (it holds: {present})."
        )
    return folder


def _download(repo_id: str, revision: str | None) -> str:
    where = f"{repo_id}@{revision}" if revision else repo_id
    try:
        return snapshot_download(repo_id, revision=revision)
    except (OfflineModeIsEnabled, LocalEntryNotFoundError) as err:
        if constants.HF_HUB_OFFLINE:
            raise ModelSourceError(
                f"HF_HUB_OFFLINE is set and there is no cached copy of {where!r}. "
                "Go online once, or train a model locally."
            ) from err
        raise ModelSourceError(
            f"Could not reach the Hugging Face Hub for {where!r} and no cached copy exists. "
            "Check your connection, or train a model locally."
        ) from err
    except RepositoryNotFoundError as err:
        raise ModelSourceError(f"Hub repo {repo_id!r} does not exist or is private.") from err
    except RevisionNotFoundError as err:
        raise ModelSourceError(f"Hub repo {repo_id!r} has no revision {revision!r}.") from err
    except HfHubHTTPError as err:
        raise ModelSourceError(f"The Hub refused {where!r}: {err}") from err


def artifacts_dir() -> Path:
    """Where local training writes models: ``$ARTIFACTS_DIR`` or ``./artifacts``."""
    return Path(os.environ.get("ARTIFACTS_DIR", "artifacts")).resolve()


def default_repo(app: str) -> str:
    return f"{os.environ.get('HUB_ORG', DEFAULT_HUB_ORG)}/{REPO_NAMES[app]}"


def bundle_repo(app: str, app_dir: Path | None) -> str | None:
    """The model repo a Space bundle in `app_dir` was built for, if it is one."""
    file = Path(app_dir) / BUNDLE_MODELS if app_dir is not None else None
    if file is None or not file.is_file():
        return None
    repo = load_json(file).get(app)
    return str(repo) if repo else None


def locate_model(
    app: str, required: Sequence[str] = ("config.json",), app_dir: Path | None = None
) -> ModelLocation:
    """Find an app's model: ``$<APP>_MODEL``, the bundle's repo, ``artifacts/<app>/``, the default.

    `app_dir` is the folder of the app's `app.py`; in a Space bundle it holds ``models.json``.
    """
    env_var = f"{app.upper()}_MODEL"
    local = artifacts_dir() / app
    if env := os.environ.get(env_var, "").strip():
        source, label = env, f"${env_var} ({env})"
    elif bundled := bundle_repo(app, app_dir):
        source, label = bundled, f"{bundled} (the repo this Space was built for)"
    elif local.is_dir():
        source = label = str(local)
    else:
        source = label = default_repo(app)
    try:
        return ModelLocation(resolve_source(source, required), label)
    except ModelSourceError as err:
        hint = (
            f"No {app} model loaded from {label}: {err} "
            f"Train one with `python -m training.{app}` (or `make train`), "
            f"or set {env_var} to a model folder or Hub repo id."
        )
        return ModelLocation(None, label, hint)


def save_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def write_model_card(
    folder: Path,
    *,
    title: str,
    summary: str,
    library_name: str,
    tags: Sequence[str],
    datasets: Sequence[str],
    eval_results: Sequence[EvalResult],
    command: str,
    usage: str,
    pipeline_tag: str | None = None,
    extra: str = "",
) -> ModelCard:
    """Write ``README.md``: metadata with `model-index` results, then a human-readable page."""
    data = ModelCardData(
        model_name=title,
        library_name=library_name,
        tags=list(tags),
        datasets=list(datasets),
        eval_results=list(eval_results),
        pipeline_tag=pipeline_tag,
        license="mit",
    )
    rows = "\n".join(
        f"| {r.dataset_name} | {r.metric_name or r.metric_type} | {r.metric_value:.4g} |"
        for r in eval_results
    )
    body = f"""
# {title}

{summary}

## Results

| dataset | metric | value |
|---|---|---|
{rows}

## Use

```python
{usage.strip()}
```

## Training

```bash
{command}
```

The resolved training configuration is in `config.json`, every metric in `metrics.json`.
{extra}"""
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n{body}")
    card.save(Path(folder) / "README.md")
    return card


def check_repo_id(repo_id: str) -> str:
    """`repo_id` if it is a plain Hub repo id ('org/name', no revision); else a named error."""
    if not _REPO_ID.match(repo_id) or "@" in repo_id:
        raise ModelSourceError(f"{repo_id!r} is not a Hub repo id like 'org/name'.")
    return repo_id


def push_folder(
    folder: Path,
    repo_id: str,
    repo_type: str = "model",
    message: str = "",
    token: str | None = None,
) -> str:
    """Create `repo_id` if needed and upload `folder` as it is; return the repo URL.

    `token` is a signed-in visitor's (an app's Hub push); None uses the machine's saved token.
    """
    check_repo_id(repo_id)
    api = HfApi()
    sdk = "gradio" if repo_type == "space" else None
    auth = {"token": token} if token else {}  # none given: huggingface_hub's saved token
    url = api.create_repo(repo_id, repo_type=repo_type, exist_ok=True, space_sdk=sdk, **auth)
    api.upload_folder(
        repo_id=repo_id,
        folder_path=str(folder),
        repo_type=repo_type,
        commit_message=message or f"Upload {Path(folder).name}",
        **auth,
    )
    return str(url)


def load_mixin(model_cls: type, config_cls: type, source: str | os.PathLike, what: str):
    """Load a `PyTorchModelHubMixin` model from a folder or Hub repo id, strictly.

    `config.json` must build a `config_cls` and every weight must be present and fit it:
    the mixin's own default (`strict=False`) would ignore missing weights silently. `what`
    names the model in the messages ("an autoencoder").
    """
    folder = resolve_source(source, required=("config.json", WEIGHTS))
    try:
        config = config_cls(**load_json(folder / "config.json"))
    except (TypeError, ValueError) as err:
        raise ModelSourceError(f"{folder / 'config.json'} is not {what} config: {err}") from None
    try:
        return model_cls.from_pretrained(folder, config=config, strict=True)
    except SafetensorError as err:
        raise ModelSourceError(
            f"{folder / WEIGHTS} is not a valid safetensors file ({err})."
        ) from None
    except RuntimeError as err:  # missing, unexpected or misshapen weights
        first = str(err).splitlines()[0]
        raise ModelSourceError(
            f"The weights in {folder} do not fit its config.json: {first}"
        ) from None
