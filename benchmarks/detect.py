"""Detection benchmark: issue 13's targets on this machine -> benchmarks/results/detect.md.

Every training setting runs with three seeds (different scenes and initial heads, the same
held-out test scenes per seed), one torch thread per run, several runs side by side.

    nice -n 5 python benchmarks/detect.py --glyphs artifacts/pretrained \\
        --digits artifacts/transfer --both DIR                 # ~40 min on a busy 2-core box
    python benchmarks/detect.py --quick                        # a minute: the table's shape

Sources (classification "pretrained model" folders in timm's layout, all `test_resnet`):
`--glyphs` part one's printed-letter model, `--digits` a classifier trained on handwritten
digits alone, `--both` one pretrained on glyphs and then fine-tuned on digits. The first one
given is the default source of every other row.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from shared.detect import hub_io, scenes  # noqa: E402
from shared.detect import train as recipe  # noqa: E402
from shared.detect.evaluate import predict  # noqa: E402
from shared.detect.model import default_config  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "detect.md"
SEEDS = (0, 1, 2)
TARGETS = {"map_50": 0.95, "map": 0.75, "few_gain": 0.20, "latency_ms": 25.0, "train_s": 120.0}


def run_job(job: dict) -> dict:
    """One training run in a worker process: mAP on the held-out scenes and seconds."""
    torch.set_num_threads(1)
    run = recipe.RecipeConfig(**job["recipe"])
    train = recipe.examples(scenes.make_scenes(job["scenes"], "train", job["seed"]))
    test = recipe.examples(scenes.make_scenes(run.test_scenes, "test", job["seed"]))
    config = default_config(classes=scenes.CLASSES)
    source = None if job["method"] == "scratch" else job["source"]
    detector = recipe.build(config, source, job["seed"])
    start = time.perf_counter()
    recipe.train(detector, train, run.stage_config(few=job["few"]), job["method"], seed=job["seed"])
    seconds = time.perf_counter() - start
    result = recipe.evaluate(detector, test)
    if job.get("save"):
        hub_io.save(detector, Path(job["save"]), {"benchmark": job})
    return {**job, "map": result["map"], "map_50": result["map_50"], "seconds": seconds}


def jobs_for(args, run: recipe.RecipeConfig) -> list[dict]:
    sources = {k: v for k, v in (("glyphs", args.glyphs), ("digits", args.digits),
                                 ("both", args.both)) if v}  # fmt: skip
    default = next(iter(sources))
    base = {"recipe": dataclasses.asdict(run)}
    jobs = []
    for seed in SEEDS[: args.seeds]:
        # full size: head only and fine-tuned side by side, so both see the same load
        for method in ("fine_tuned", "head_only"):
            save = str(args.save) if (seed, method) == (0, "fine_tuned") and args.save else None
            jobs.append({**base, "setting": "full", "few": False, "scenes": run.scenes,
                         "method": method, "source": sources[default], "source_name": default,
                         "seed": seed, "save": save})  # fmt: skip
        for method in recipe.METHODS:
            jobs.append({**base, "setting": "few", "few": True, "scenes": run.few_scenes,
                         "method": method, "source": sources[default], "source_name": default,
                         "seed": seed})  # fmt: skip
        for name, path in sources.items():
            if name != default:  # head only: the purest test of what the backbone brings
                jobs.append({**base, "setting": "few", "few": True, "scenes": run.few_scenes,
                             "method": "head_only", "source": path, "source_name": name,
                             "seed": seed})  # fmt: skip
    # longest first, so the side-by-side workers finish together
    return sorted(jobs, key=lambda job: job["setting"] != "full")


def latency(folder: Path, size: int, repeats: int = 50) -> float:
    """Median milliseconds to detect one `size` x `size` scene, one thread, after warm-up."""
    torch.set_num_threads(1)
    loaded = hub_io.load(folder)
    config = dataclasses.replace(loaded.config, img_size=size)
    detector = type(loaded.model)(config)  # same weights; FCOS is fully convolutional
    detector.load_state_dict(loaded.model.state_dict())
    x = recipe.examples(scenes.make_scenes(1, "test", 0, size=size))[0][0]
    times = []
    for i in range(repeats + 5):
        start = time.perf_counter()
        predict(detector, [x])
        if i >= 5:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def load() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def verdict(met: bool) -> str:
    return "met on every seed" if met else "MISSED"


def stats(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--glyphs", default=None, help="part one's glyph pretrained model folder")
    p.add_argument("--digits", default=None, help="a digit classifier folder")
    p.add_argument("--both", default=None, help="glyphs, then digits: a classifier folder")
    p.add_argument("--workers", type=int, default=3, help="runs side by side (default: 3)")
    p.add_argument("--seeds", type=int, default=len(SEEDS), help="seeds per setting (default: 3)")
    p.add_argument("--save", type=Path, default=None, help="keep seed 0's fine-tuned detector")
    p.add_argument("--quick", action="store_true", help="tiny runs: the report's shape only")
    p.add_argument(
        "--time-default-run", action="store_true", help="also time `python -m training.detect`"
    )
    p.add_argument("--out", type=Path, default=RESULTS, help=f"report (default: {RESULTS})")
    p.add_argument(
        "--report-from", type=Path, default=None,
        help="write the report from a results JSON this script saved, without training",
    )  # fmt: skip
    args = p.parse_args()
    if args.report_from:
        saved = json.loads(args.report_from.read_text())
        lat = {int(size): ms for size, ms in saved["latency"].items()}
        report(args, recipe.RecipeConfig(**saved["recipe"]), saved["results"], lat,
               None, saved["wall"], *saved["load"], note=saved.get("note"))  # fmt: skip
        return
    if not (args.glyphs or args.digits or args.both):
        p.error("give at least one source: --glyphs, --digits or --both")
    run = recipe.RecipeConfig()
    if args.quick:
        run = recipe.RecipeConfig(scenes=24, test_scenes=8, epochs=2, few_scenes=8, few_epochs=2)
    jobs = jobs_for(args, run)
    started, load_before = time.perf_counter(), load()
    print(f"{len(jobs)} runs on {args.workers} workers; load {load_before}", flush=True)
    results = []
    context = get_context("spawn")  # fresh interpreters: no torch thread pools inherited
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        for result in pool.map(run_job, jobs):
            results.append(result)
            print(
                f"{result['setting']} {result['method']} {result['source_name']} seed "
                f"{result['seed']}: mAP@0.5 {result['map_50']:.3f} mAP {result['map']:.3f} "
                f"{result['seconds']:.0f} s",
                flush=True,
            )
    wall, load_after = time.perf_counter() - started, load()
    lat = {}
    if args.save:
        lat = {size: latency(args.save, size) for size in (128, 320)}
    saved = {"recipe": dataclasses.asdict(run), "results": results, "latency": lat,
             "wall": wall, "load": [load_before, load_after]}  # fmt: skip
    args.out.with_suffix(".json").write_text(json.dumps(saved, indent=1))
    default_run = time_default_run(args) if args.time_default_run else None
    report(args, run, results, lat, default_run, wall, load_before, load_after)


def time_default_run(args) -> dict:
    """`python -m training.detect` as `make train` runs it, timed end to end."""
    source = args.glyphs or args.digits or args.both
    out = Path("/tmp") / f"detect-default-run-{os.getpid()}"
    command = [sys.executable, "-m", "training.detect", "--out", str(out),
               "--pretrained-from", source]  # fmt: skip
    before = load()
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=RESULTS.parents[2])
    total = time.perf_counter() - start
    metrics = hub_io.load(out).metrics
    shipped = metrics["full"]["results"]["fine_tuned"]["train_seconds"]
    return {"total": total, "shipped": shipped, "load": f"{before} -> {load()}",
            "command": " ".join(["python", *command[1:]])}  # fmt: skip


def report(args, run, results, lat, default_run, wall, load_before, load_after, note=None) -> None:
    """Write the markdown report; `note` replaces the line about this invocation (a report
    assembled from saved runs says where each came from)."""

    def pick(setting, method, source=None):
        return [
            r for r in results
            if r["setting"] == setting and r["method"] == method
            and (source is None or r["source_name"] == source)
        ]  # fmt: skip

    default = results[0]["source_name"]
    lines = [
        "# Detection benchmark (issue 13)",
        "",
        note
        or f"`{' '.join(['python', *sys.argv])}`, {len(results)} training runs, "
        f"{args.workers} side by side, one torch thread each; {wall / 60:.1f} min wall. "
        f"Load average (1/5/15 min) {load_before} before, {load_after} after: the 2 cores "
        "were shared with other jobs, so seconds are upper bounds; mAP does not depend on it.",
        "",
        f"Scenes: {run.scenes} training scenes ({run.epochs} epochs) or {run.few_scenes} "
        f"({run.few_epochs} epochs), {run.test_scenes} test scenes of held-out digits, "
        "128x128, 2-6 digits of 20-40 px. FCOS on test_resnet features (strides 4-32), "
        "64-channel FPN, 2-conv heads. mAP by torchmetrics (faster-coco-eval). Mean ± std "
        "(min-max) over seeds " + ", ".join(map(str, SEEDS[: args.seeds])) + ".",
        "",
        "| setting | source | method | mAP@0.5 | mAP@[.5:.95] | train s |",
        "|---|---|---|---|---|---|",
    ]
    groups = dict.fromkeys((r["setting"], r["source_name"], r["method"]) for r in results)
    for setting, source, method in groups:
        rows = pick(setting, method, source)
        scenes_n = run.scenes if setting == "full" else run.few_scenes
        name = source if method != "scratch" else "none"
        lines.append(
            f"| {scenes_n} scenes | {name} | {method.replace('_', ' ')} | "
            f"{stats([r['map_50'] for r in rows])} | {stats([r['map'] for r in rows])} | "
            f"{np.mean([r['seconds'] for r in rows]):.0f} |"
        )
    lines += ["", "## Targets", ""]
    full = pick("full", "fine_tuned")
    head = pick("full", "head_only")
    for method, rows in (("head only (the detector training saves)", head), ("fine-tuned", full)):
        m50, m = [r["map_50"] for r in rows], [r["map"] for r in rows]
        lines.append(
            f"- Pretrained backbone, {method}, {run.scenes} scenes: mAP@0.5 {stats(m50)} (target "
            f">= {TARGETS['map_50']}: {verdict(min(m50) >= TARGETS['map_50'])}); mAP {stats(m)} "
            f"(target >= {TARGETS['map']}: {verdict(min(m) >= TARGETS['map'])})."
        )
    m50, m = [r["map_50"] for r in full], [r["map"] for r in full]
    scratch = [r["map_50"] for r in pick("few", "scratch")]
    for method in ("head_only", "fine_tuned"):
        values = [r["map_50"] for r in pick("few", method, default)]
        gains = [a - b for a, b in zip(values, scratch, strict=True)]
        lines.append(
            f"- {run.few_scenes} scenes, {method.replace('_', ' ')} ({default}) minus scratch, "
            f"mAP@0.5 per seed: {', '.join(f'{g:+.3f}' for g in gains)} (target >= "
            f"+{TARGETS['few_gain']}: {'met' if min(gains) >= TARGETS['few_gain'] else 'MISSED'})."
        )
    ratio = np.mean([r["seconds"] for r in full]) / np.mean([r["seconds"] for r in head])
    lines.append(
        f"- Head only against full fine-tuning, {run.scenes} scenes: head only trains "
        f"{ratio:.2f}x as fast (side by side, same load); mAP@0.5 "
        f"{stats([r['map_50'] for r in head])} against {stats(m50)}, mAP "
        f"{stats([r['map'] for r in head])} against {stats(m)}."
    )
    if lat:
        lines.append(
            f"- Detecting one scene (median of 50, one thread, seed 0's detector): 128 px "
            f"{lat[128]:.1f} ms (target <= {TARGETS['latency_ms']:g} ms: "
            f"{'met' if lat[128] <= TARGETS['latency_ms'] else 'MISSED'}), "
            f"320 px {lat[320]:.1f} ms."
        )
    if default_run:
        lines.append(
            f"- Default training run `{default_run['command']}`: {default_run['total']:.0f} s end "
            f"to end (the shipped fine-tuned detector {default_run['shipped']:.0f} s of it, the "
            f"few-scene comparison the rest); target <= {TARGETS['train_s']:.0f} s: "
            f"{'met' if default_run['total'] <= TARGETS['train_s'] else 'MISSED'}; load "
            f"{default_run['load']}."
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
