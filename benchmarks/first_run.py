"""First run: `make train` from an empty artifacts folder and the test suite, old against new.

    python benchmarks/first_run.py --baseline /tmp/base train-old train-new test-old test-new
    python benchmarks/first_run.py train-new          # this checkout only
    python benchmarks/first_run.py --report           # rewrite results/first_run.md

`--baseline` is a checkout of the commit compared against (here f38f737: `git worktree add
--detach /tmp/base f38f737`, with this checkout's .venv linked into it). Each measurement runs
the commands its version's `make train` / `make test` run, from its own checkout, into a fresh
empty artifacts folder (`ARTIFACTS_DIR`), one after another (never two at once), and records
wall time per command and the machine's load average before and after in
results/first_run.json; the report divides new by old. The first step of both trains is
`python -m training.pretrain`, so its wall time is the machine's speed.

Absolute times differ about 3x between machines of the same nominal size: compare the ratios,
measured on one machine in one sitting.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results" / "first_run.md"
RAW = HERE / "results" / "first_run.json"
OLD_MODELS = ("anomaly", "cbow", "transfer", "detect")


def load() -> str:
    return (
        " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if Path("/proc/loadavg").exists()
        else "n/a"
    )


def timed(command: list[str], cwd: Path, env: dict, allow_failures: bool = False) -> dict:
    """Run `command`, echoing its output; its wall seconds, load before/after and output tail."""
    print("$", " ".join(command), flush=True)
    before, start, cpu = load(), time.perf_counter(), _children_cpu()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu  # the command and every process under it, once reaped
    tail = (proc.stdout + proc.stderr)[-12000:]
    print(tail[-800:], flush=True)
    if proc.returncode and not allow_failures:  # pytest's 1: some tests failed, counted below
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}")
    return {
        "command": " ".join(command),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "load_before": before,
        "load_after": load(),
        "returncode": proc.returncode,
        "tail": tail,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def environment(checkout: Path, artifacts: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        PYTHONPATH=str(checkout), ARTIFACTS_DIR=str(artifacts), GRADIO_ANALYTICS_ENABLED="False"
    )
    return env


def train(checkout: Path, new: bool) -> dict:
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        env = environment(checkout, Path(tmp))
        if new:  # what `make train` runs now
            steps = [timed([python, "-m", "training.all"], checkout, env)]
        else:  # what f38f737's `make train` ran; its first step times the machine
            steps = [
                timed([python, "-m", f"training.{module}", "--out", f"{tmp}/{app}"], checkout, env)
                for app, module in [("pretrained", "pretrain")] + [(a, a) for a in OLD_MODELS]
            ]
        metrics = {
            name: json.loads((Path(tmp) / name / "metrics.json").read_text())
            for name in ("transfer", "detect")
        }
    return {
        "steps": steps,
        "total": round(sum(s["seconds"] for s in steps), 1),
        "few_label": sorted(metrics["transfer"].get("few_label", {})),
        "few": sorted(metrics["detect"].get("few", {}).get("results", {})),
    }


def test(checkout: Path, new: bool) -> dict:
    # --durations: where the time goes, kept in first_run.json (it costs nothing to print)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=40"]
    if new:
        command += ["-n", "auto", "--dist", "loadfile"]  # what `make test` runs
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        run = timed(command, checkout, environment(checkout, Path(tmp)), allow_failures=True)
    counts = dict(
        (k, int(n)) for n, k in re.findall(r"(\d+) (passed|failed|skipped|error)", run["tail"])
    )
    return {**run, "counts": counts}


def report(raw: dict) -> None:
    rows = []
    old, new = raw.get("train-old"), raw.get("train-new")
    if old and new:
        rows.append(
            f"| `make train`, empty artifacts/ | {old['total']:.0f} s | {new['total']:.0f} s "
            f"| {new['total'] / old['total']:.2f} | <= 0.33 | {old['steps'][0]['load_before']} / "
            f"{new['steps'][0]['load_before']} |"
        )
    told, tnew = raw.get("test-old"), raw.get("test-new")
    if told and tnew:
        rows.append(
            f"| pytest, as `make test` runs it | {told['seconds']:.0f} s ({told['counts']}) | "
            f"{tnew['seconds']:.0f} s ({tnew['counts']}) | {tnew['seconds'] / told['seconds']:.2f} "
            f"| <= 0.50 | {told['load_before']} / {tnew['load_before']} |"
        )
    lines = [
        "# First run: `make train` and `make test`, old (f38f737) against new",
        "",
        "Written by `python benchmarks/first_run.py --report` from `first_run.json`; every number",
        "is one run of the commands listed under it. Load: the 1-, 5- and 15-minute load averages",
        "when the run started (the machine has 2 cores).",
        "",
        "| what | old | new | new / old | target | load old / new |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        "## Commands and steps",
        "",
    ]
    for key in ("train-old", "train-new", "test-old", "test-new"):
        if key in raw:
            steps = raw[key].get("steps", [raw[key]])
            lines.append(f"- **{key}**:")
            lines += [
                f"  - `{s['command']}`: {s['seconds']:.0f} s wall, {s.get('cpu_seconds', 0):.0f} s"
                f" CPU (load {s['load_before']} -> {s['load_after']})"
                for s in steps
            ]
    lines += raw.get("notes", [])
    RESULTS.write_text("\n".join(lines) + "\n")
    print(RESULTS.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("runs", nargs="*", choices=["train-old", "train-new", "test-old", "test-new"])
    p.add_argument("--baseline", type=Path, help="a checkout of the old commit")
    p.add_argument("--report", action="store_true", help="rewrite results/first_run.md")
    args = p.parse_args()
    raw = json.loads(RAW.read_text()) if RAW.exists() else {}
    for run in args.runs:
        old = run.endswith("-old")
        if old and args.baseline is None:
            p.error(f"{run} needs --baseline")
        checkout = args.baseline.resolve() if old else REPO
        raw[run] = (train if run.startswith("train") else test)(checkout, new=not old)
        raw[run]["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        RAW.write_text(json.dumps(raw, indent=1) + "\n")
    if args.report or args.runs:
        report(raw)


if __name__ == "__main__":
    main()
