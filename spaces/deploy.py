"""Build a self-contained Hugging Face Space folder for one app, and optionally push it.

    python spaces/deploy.py anomaly --out build/space-anomaly
    python spaces/deploy.py cbow --out build/space-cbow --push-to-hub ORG/cbow-lab
    HUB_ORG=me python spaces/deploy.py transfer --out build/space-transfer
    python spaces/deploy.py transfer --out build/space-transfer --model ORG/transfer-cnn \
        --detector ORG/detect-fcos

The folder holds app.py (and the app's other modules), a copy of the shared/ package, the app's
pinned requirements.txt, models.json (the model repos the bundled app loads by default: the
transfer app also serves the detector of its Detect tab) and a README.md whose front matter
names those repos and preloads them into the Space's Hugging Face cache at build time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

from huggingface_hub import SpaceCard

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # run as a script from a checkout: find shared/ beside spaces/

from shared.hub import (  # noqa: E402
    BUNDLE_MODELS,
    REPO_NAMES,
    ModelSourceError,
    check_repo_id,
    default_repo,
    load_json,
    push_folder,
    save_json,
)

APPS = sorted(name for name in REPO_NAMES if (HERE / name / "app.py").is_file())
# Models an app serves besides its own, by their REPO_NAMES key: the transfer app's Detect tab,
# the anomaly app's "What else an autoencoder does" tab.
COMPANIONS = {"transfer": ("detect",), "anomaly": ("anomaly_uses",)}
FLAGS = {"detect": "--detector"}  # the companions a flag of build_bundle() names


def pinned_version(requirements: Path, package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", requirements.read_text(), re.M)
    if match is None:
        raise SystemExit(f"{requirements} does not pin {package}")
    return match[1]


def build_bundle(
    app: str, out: Path, model_repo: str | None = None, detector_repo: str | None = None
) -> Path:
    """Write the Space folder for `app` into `out` (which must be empty or missing)."""
    if app not in APPS:
        raise SystemExit(f"unknown app {app!r}; choose from {', '.join(APPS)}")
    if detector_repo and "detect" not in COMPANIONS.get(app, ()):
        raise SystemExit(f"--detector: the {app} app has no detector")
    models = {app: model_repo or default_repo(app)}
    given = {"detect": detector_repo}
    for companion in COMPANIONS.get(app, ()):
        models[companion] = given.get(companion) or default_repo(companion)
    for name, repo in models.items():
        try:
            check_repo_id(repo)
        except ModelSourceError as err:
            raise SystemExit(f"{FLAGS.get(name, '--model')}: {err}") from err
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; give a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    source = HERE / app
    for module in source.glob("*.py"):  # app.py and any tab modules it imports
        shutil.copy2(module, out / module.name)
    shutil.copy2(source / "requirements.txt", out / "requirements.txt")
    shutil.copytree(
        REPO / "shared", out / "shared", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    save_json(out / BUNDLE_MODELS, models)  # what the app loads; $<APP>_MODEL still wins
    card = SpaceCard.load(source / "README.md")
    card.data.sdk = "gradio"
    card.data.sdk_version = pinned_version(out / "requirements.txt", "gradio")
    card.data.app_file = "app.py"
    card.data.models = list(models.values())
    card.data.preload_from_hub = list(models.values())  # in the Space's HF cache at build time
    card.data.hf_oauth = True  # "Sign in with Hugging Face": a visitor pushes a model they trained
    card.data.hf_oauth_scopes = ["write-repos"]  # ... to a repo in their own account
    card.save(out / "README.md")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=APPS, help="which app to bundle")
    parser.add_argument("--out", type=Path, required=True, help="new or empty output folder")
    parser.add_argument(
        "--model",
        default=None,
        help="model repo the Space loads (default: $HUB_ORG/<app's repo name>)",
    )
    parser.add_argument(
        "--detector",
        default=None,
        help="transfer only: detector repo of the Detect tab (default: $HUB_ORG/detect-fcos)",
    )
    parser.add_argument(
        "--push-to-hub",
        metavar="ORG/SPACE",
        default=None,
        help="upload the folder to this Space (default: build only)",
    )
    args = parser.parse_args(argv)
    out = build_bundle(args.app, args.out, args.model, args.detector)
    print(f"built {out}: serves {', '.join(load_json(out / BUNDLE_MODELS).values())}")
    if args.push_to_hub:
        print(f"pushed to {push_folder(out, args.push_to_hub, repo_type='space')}")


if __name__ == "__main__":
    main()
