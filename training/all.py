"""Train every default model into artifacts/: what `make train` and the first `make demo` run.

    python -m training.all                # retrain all five folders (make train)
    python -m training.all --missing      # only the folders that are not there (make demo)
    python -m training.all --workers 1    # one process at a time

Three steps, each using every core (`--workers`, one torch thread per process):

1. the printed-letters source (`training.pretrain`) beside the anomaly and CBOW models;
2. the transfer classifier (`training.transfer`, fine-tuned from that source) and its
   comparisons: from scratch, head only and staged fine-tuning at every label budget;
3. the detector (`training.detect`, its backbone from the transfer classifier) and its
   few-scene comparison.

Every step prints what it is doing and a line per finished run; the folders and their
metrics.json are the ones each `python -m training.<app> --out artifacts/<app>` writes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from shared.hub import artifacts_dir
from training import parallel

# in the order they are trained: the source before transfer, transfer before detect
MODELS = ("pretrained", "anomaly", "cbow", "transfer", "detect")
MODULE = {"pretrained": "training.pretrain"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--missing",
        action="store_true",
        help="train only the folders without a config.json (a second `make demo` trains none)",
    )
    parallel.add_workers_arg(p, "models and comparisons")
    args = p.parse_args(argv)
    args.quick = False
    parallel.resolve_workers(args)
    return args


def main_job(module: str, argv: list[str]) -> str:
    """`python -m <module> <argv>`, from a worker process: as its own process, because a job
    may start processes of its own (gensim's corpus reader does), which a pool worker must not.
    Returns its last line of output, for the progress line."""
    proc = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"python -m {module} failed:\n{proc.stderr[-4000:]}")
    last = [line for line in proc.stdout.splitlines() if line.strip()][-1:]
    return last[0] if last else ""


def main(argv=None) -> None:
    args = parse_args(argv)
    root = artifacts_dir()
    todo = [m for m in MODELS if not (args.missing and (root / m / "config.json").is_file())]
    if not todo:
        print(f"all default models are in {root}/: nothing to train")
        return
    print(f"training {', '.join(todo)} into {root}/ on {args.workers} worker processes")
    start = time.perf_counter()

    def argv_of(name: str) -> list[str]:
        return ["--out", str(root / name)]

    with parallel.shared_pool(args.workers):  # the workers start once for the three steps
        _steps(args, todo, argv_of)
    print(f"trained {', '.join(todo)} in {time.perf_counter() - start:.0f} s")


def _steps(args, todo: list[str], argv_of) -> None:
    first = [name for name in ("pretrained", "anomaly", "cbow") if name in todo]
    if first:
        print(f"step 1/3: {', '.join(first)}", flush=True)
        jobs = [
            parallel.Job(name, "training.all:main_job",
                         {"module": MODULE.get(name, f"training.{name}"), "argv": argv_of(name)},
                         summary=str)
            for name in first
        ]  # fmt: skip
        parallel.run_jobs(jobs, args.workers, label="step 1/3")
    workers = ["--workers", str(args.workers)]
    for step, name in ((2, "transfer"), (3, "detect")):
        if name in todo:
            print(f"step {step}/3: {name} and its comparisons", flush=True)
            parallel.resolve(f"training.{name}:main")([*argv_of(name), *workers])


if __name__ == "__main__":
    main()
