"""Hold a bounded load against each app on 127.0.0.1 and write benchmarks/results/load.md.

    python benchmarks/load.py                      # all apps, 20 clients, 60 s per phase
    python benchmarks/load.py --apps cbow --clients 5 --seconds 10   # a quick look

For each app: start it as its own process (`python spaces/<app>/app.py`, the way Spaces runs it)
with the model in artifacts/<app>/, then
1. idle: `--clients` gradio_client clients call the app's main prediction endpoint for `--seconds`;
2. training: the same load while one more client runs in-app training over and over.
Report requests, errors, median and p95 latency, and the server's resident memory (RSS) before and
after. Targets (issue 6): 0 errors, RSS growth under 10%, training-phase p95 within 3x of idle p95.
Every loop is bounded in count and time, so the benchmark stops by itself.

    python benchmarks/load.py --train-largest --budget-mb 256 --seconds 60   # issue 14

`--train-largest` (plans anomaly, cbow, transfer, detect: the transfer app's Detect tab): every
client, its own session, trains the largest session model the app allows through its API, over
and over, and while its training waits in the queue asks which model answers it (its own, or
the default after an eviction, which must be said and never be an error). The server's RSS is
sampled every 0.5 s; the target (issue 14): peak RSS <= 1.2 x (store budget + idle RSS). The
table is appended to benchmarks/results/load.md (`--out`), the other sections are kept.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import itertools
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gradio_client import Client, handle_file

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "load.md"
MAX_REQUESTS_PER_CLIENT = 10_000  # a bound on top of the time limit


@dataclass
class Plan:
    app: str  # spaces/<app>/app.py
    predict: Callable[[Client], object]  # the app's main prediction call
    train: Callable[[Client], object]  # one in-app training run


def _inputs() -> tuple[str, str, str]:
    """A digit PNG to classify, a zip of two class folders to fine-tune on (both from sklearn's
    digits), and a CSV of 3,000 labelled ECG points: an upload the anomaly app scores afresh."""
    import io
    import tempfile
    import zipfile

    import numpy as np
    import pandas as pd
    from PIL import Image
    from sklearn.datasets import load_digits

    from shared.anomaly.builtin import load_builtin

    folder = Path(tempfile.mkdtemp(prefix="load-bench-"))
    ecg = load_builtin("ecg")
    frame = pd.DataFrame({"value": ecg.series[:3000], "label": ecg.point_labels[:3000]})
    frame.to_csv(folder / "ecg.csv", index=False)
    digits = load_digits()
    as_png = lambda img: Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((64, 64))  # noqa: E731
    as_png(digits.images[-1]).save(folder / "digit.png")
    with zipfile.ZipFile(folder / "classes.zip", "w") as zf:
        for label in (5, 6):
            for i in np.flatnonzero(digits.target == label)[:20]:
                buffer = io.BytesIO()
                as_png(digits.images[i]).save(buffer, format="PNG")
                zf.writestr(f"digit{label}/{i}.png", buffer.getvalue())
    return str(folder / "digit.png"), str(folder / "classes.zip"), str(folder / "ecg.csv")


IMAGE, CLASSES_ZIP, ECG_CSV = _inputs()
ANOMALY_TRAIN = ("ecg", 0, None, "table", "", 200, 1, False, "dense", 20, 0, "mean_std", 1.0)
PLANS: dict[str, Plan] = {
    # the built-in ECG test split: the app answers it from a cache (every visitor gets the same)
    "anomaly": Plan(
        app="anomaly",
        predict=lambda c: c.predict("ecg", 0, None, "", False, api_name="/detect"),
        train=lambda c: c.predict(*ANOMALY_TRAIN, api_name="/train"),
    ),
    # an uploaded CSV: parsed, windowed, scored and drawn on every request
    "anomaly-upload": Plan(
        app="anomaly",
        predict=lambda c: c.predict(
            "ecg", 0, handle_file(ECG_CSV), "label", False, api_name="/detect"
        ),
        train=lambda c: c.predict(*ANOMALY_TRAIN, api_name="/train"),
    ),
    "cbow": Plan(
        app="cbow",
        predict=lambda c: c.predict("king", 10, api_name="/most_similar"),
        train=lambda c: c.predict(
            "built-in corpus", None, "", True, False, False, 3, 100, 15, 10, 40, api_name="/train"
        ),
    ),
    "transfer": Plan(
        app="transfer",
        predict=lambda c: c.predict(handle_file(IMAGE), api_name="/classify"),
        train=lambda c: c.predict(handle_file(CLASSES_ZIP), 3, api_name="/fine_tune"),
    ),
}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def rss_mib(pid: int) -> float:
    """Resident memory of the server process and its children, in MiB."""
    pids = [pid]
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    pids += [int(p) for p in children.split()]
    total = 0
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def start_app(
    app: str, port: int, extra_env: dict[str, str] | None = None, repo: Path = REPO
) -> subprocess.Popen:
    """`repo`'s app (this checkout, or an older one: --serve-from) as its own process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(repo),  # that checkout's shared/, not an editable install's
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        f"{app.upper()}_MODEL": str(repo / "artifacts" / app),
        **(extra_env or {}),
    }
    return subprocess.Popen(
        [sys.executable, str(repo / "spaces" / app / "app.py")],
        env=env,
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def served_commit(repo: Path) -> str:
    """The commit `repo`'s apps were served at, "-dirty" when its tree had uncommitted changes."""
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=repo
    )
    return described.stdout.strip() or "?"


def client_for(url: str) -> Client:
    """A client of one app. The apps are served over plain HTTP on 127.0.0.1, where TLS does not
    apply; ssl_verify=False spares gradio_client an SSL context loaded with the CA bundle for
    every file it uploads or downloads (py-spy: half of the client's CPU, about 60 of 121 ms
    per uploaded-CSV request), CPU the 20 clients otherwise take from the server they measure."""
    return Client(url, verbose=False, ssl_verify=False)


def connect(url: str, proc: subprocess.Popen, timeout: float = 180) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client_for(url)
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app at {url} did not start") from None
            time.sleep(0.5)


def hammer(url: str, call: Callable[[Client], object], tally: Tally, stop_at: float) -> None:
    client = client_for(url)
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= stop_at:
            return
        start = time.perf_counter()
        try:
            call(client)
        except Exception as err:  # noqa: BLE001 - counted and reported, not raised
            with tally.lock:
                tally.errors.append(f"{type(err).__name__}: {str(err)[:120]}")
            continue
        with tally.lock:
            tally.latencies.append(time.perf_counter() - start)


def phase(url: str, plan: Plan, clients: int, seconds: float, training: bool) -> tuple[Tally, int]:
    tally, trains = Tally(), Tally()
    stop_at = time.monotonic() + seconds
    threads = [
        threading.Thread(target=hammer, args=(url, plan.predict, tally, stop_at))
        for _ in range(clients)
    ]
    if training:
        threads.append(threading.Thread(target=hammer, args=(url, plan.train, trains, stop_at)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 300)
    tally.errors += [f"training: {e}" for e in trains.errors]
    return tally, len(trains.latencies)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def run_app(app: str, clients: int, seconds: float, port: int, repo: Path = REPO) -> list[str]:
    proc = start_app(PLANS[app].app, port, repo=repo)
    url = f"http://127.0.0.1:{port}/"
    try:
        warm = connect(url, proc)
        PLANS[app].predict(warm)  # load lazily built things before measuring memory
        rows = []
        idle_p95 = None
        for training in (False, True):
            rss_before = rss_mib(proc.pid)
            tally, trained = phase(url, PLANS[app], clients, seconds, training)
            rss_after = rss_mib(proc.pid)
            lat = sorted(tally.latencies)
            p50, p95 = pct(lat, 50) * 1000, pct(lat, 95) * 1000
            if not training:
                idle_p95 = p95
            growth = 100 * (rss_after - rss_before) / rss_before
            ratio = f"{p95 / idle_p95:.2f}x" if training else "1.00x"
            rows.append(
                f"| {app} | {'training' if training else 'idle'} | {len(lat)} | "
                f"{len(tally.errors)} | {p50:.0f} | {p95:.0f} | {ratio} | {rss_before:.0f} | "
                f"{rss_after:.0f} | {growth:+.1f}% | {trained if training else '-'} |"
            )
            for err in sorted(set(tally.errors))[:5]:
                print(f"  {app}: {err}", file=sys.stderr)
            print(rows[-1], flush=True)
        return rows
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# --- --train-largest: every client trains the largest session model, over and over (issue 14) ---

QUEUED = {"STARTING", "JOINING_QUEUE", "IN_QUEUE"}  # a job the server has not started yet
USAGE = re.compile(
    r"Session models: (\d+), holding ([\d,.]+) MB of this app's ([\d,]+) MB budget "
    r"\((\d+) evicted"
)


@dataclass
class Largest:
    """One app's largest session model, trained by every client through the app's own API."""

    app: str  # spaces/<app>/app.py
    budget_env: str | None  # the store's budget variable; None: the app keeps no store
    default_budget_mb: float  # what the app uses when the variable is unset
    train: Callable[[Client, dict], object]  # submits one training run, returns the Job
    # which model answers the session: "own"; "default" with word of the eviction where the API
    # shows it; "unnamed": the default model with no such word (an error once a client trained)
    check: Callable[[Client, dict], str]
    usage: Callable[[Client], str] | None = None  # the store's usage line, where the API shows it


def made_up_words(n: int, length: int = 7) -> list[str]:
    """`n` distinct lowercase words (tests/cbow/test_corpus.py's generator)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(p) for p in itertools.islice(itertools.product(letters, repeat=length), n)]


def largest_inputs(anomaly_latent: int, transfer_classes: int) -> dict:
    """The uploads that make each app's largest session model (built once, in a temp folder).

    - cbow: tests/spaces/cbow/test_train_tab.py's text: MAX_VOCABULARY (50,000) words three
      times and 10,000 more twice; at min_count 2 the cap keeps exactly 50,000 words, at 100
      dimensions the most the vector_size x vocabulary cap (5,000,000) allows: 50,000 x
      (400 + 220) bytes = 29.6 MiB by the app's own `footprint`.
    - transfer: a zip of `transfer_classes` class folders of one digit each (the head grows
      with the classes; the rest of the session copy is the served model's size).
    - detect: six built-in digit scenes as a COCO zip of the 10 digits
      (`shared.detect.coco.write_scenes_zip`): 2.7 MiB of weights. The app takes up to 100
      categories, which weigh 2.9 MiB: the served detector's own 10 stand for them.
    - anomaly: a noisy sine 3,000 points longer than the longest window whose autoencoder
      fits the app's 20 MB cap on a model (`largest_window()`, 3,165 points: 20.0 MB).
    """
    import io
    import tempfile
    import zipfile

    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    from shared.anomaly.model import largest_window
    from shared.cbow.corpus import MAX_VOCABULARY
    from shared.detect.coco import write_scenes_zip

    folder = Path(tempfile.mkdtemp(prefix="load-largest-"))
    window = largest_window()
    n = window + 3000
    values = np.sin(np.arange(n) / 5) + np.random.default_rng(0).normal(0, 0.1, n)
    (folder / "series.csv").write_text("v\n" + "\n".join(f"{v:.4f}" for v in values))
    words = made_up_words(MAX_VOCABULARY + 10_000)
    kept, dropped = words[:MAX_VOCABULARY], words[MAX_VOCABULARY:]
    lines = [" ".join(kept[i : i + 20]) for i in range(0, len(kept), 20)] * 3
    lines += [" ".join(dropped[i : i + 20]) for i in range(0, len(dropped), 20)] * 2
    (folder / "largest.txt").write_text("\n".join(lines))

    digits = load_digits()
    with zipfile.ZipFile(folder / "classes.zip", "w") as zf:
        for k in range(transfer_classes):
            img = Image.fromarray((digits.images[k] * 255 / 16).astype(np.uint8)).resize((64, 64))
            buffer = io.BytesIO()
            img.save(buffer, format="PNG")
            zf.writestr(f"class{k:03d}/{k}.png", buffer.getvalue())

    write_scenes_zip(folder / "scenes.zip")
    return {
        "text": str(folder / "largest.txt"),
        "classes": str(folder / "classes.zip"),
        "scenes": str(folder / "scenes.zip"),
        "latent": anomaly_latent,
        "series": str(folder / "series.csv"),
        "window": window,
        "classes_n": transfer_classes,
    }


def _cbow_check(c: Client, inputs: dict) -> str:
    text, *_ = c.predict(api_name="/model")
    if "Trained in this session" in text:
        return "own"
    if "removed to keep this app" in text and "Default model" in text:
        return "default"  # evicted: told so by name, answered by the default vectors
    return "unnamed"


def _transfer_check(c: Client, inputs: dict) -> str:
    label = c.predict(handle_file(IMAGE), api_name="/classify")[0]["label"]
    return "own" if str(label).startswith("class") else "default"


def _detect_check(c: Client, inputs: dict) -> str:
    # the summary names a session's own detector ("Your fine-tuned detector (a.zip, ...).");
    # an evicted session's notice comes as a warning, and the served detector's answer names none
    *_, said = c.predict(3, 0.5, api_name="/detect_scene")
    return "own" if "Your fine-tuned detector" in said else "default"


def _anomaly_check(c: Client, inputs: dict) -> str:
    # the plan's model reads the largest window; the served ECG model reads 200 points
    _table, _curves, text, config = c.predict(api_name="/model_tab")
    if config.get("n_features") == inputs["window"]:
        return "own"
    return "default" if "removed to keep this app" in text else "unnamed"


# cbow: after source, files, pasted: lowercase, stop words, phrases, min_count 2; vector size
# 100, window 2, negative 2, epochs 1 (tests/spaces/cbow/test_train_tab.py's LARGEST_SETTINGS)
CBOW_LARGEST = (True, False, False, 2, 100, 2, 2, 1)
LARGEST: dict[str, Largest] = {
    "anomaly": Largest(
        app="anomaly",
        budget_env="ANOMALY_SESSION_BUDGET_MB",
        default_budget_mb=1024,
        # the series upload at the largest window, stride 1, dense, 1 epoch, the latent size,
        # the mean + k std rule and its k
        train=lambda c, i: c.submit(
            "ecg",
            0,
            handle_file(i["series"]),
            "series",
            "",
            i["window"],
            1,
            False,
            "dense",
            1,
            i["latent"],
            "mean_std",
            1.0,
            api_name="/train",
        ),  # fmt: skip
        check=_anomaly_check,
    ),
    "cbow": Largest(
        app="cbow",
        budget_env="CBOW_SESSION_BUDGET_MB",
        default_budget_mb=1024,
        train=lambda c, i: c.submit(
            "my text", [handle_file(i["text"])], "", *CBOW_LARGEST, api_name="/train"
        ),
        check=_cbow_check,
        usage=lambda c: c.predict(api_name="/model")[0],
    ),
    "transfer": Largest(
        app="transfer",
        budget_env="TRANSFER_SESSION_BUDGET_MB",
        default_budget_mb=1024,
        train=lambda c, i: c.submit(handle_file(i["classes"]), 1, api_name="/fine_tune"),
        check=_transfer_check,
        usage=lambda c: c.predict(api_name="/sessions"),
    ),
    "detect": Largest(
        app="transfer",
        budget_env="DETECT_SESSION_BUDGET_MB",
        default_budget_mb=256,
        train=lambda c, i: c.submit(handle_file(i["scenes"]), 1, api_name="/detect_fine_tune"),
        check=_detect_check,
    ),
}


@dataclass
class Visits:
    """What the clients of one --train-largest run saw."""

    trained: int = 0
    checks: dict[str, int] = field(default_factory=lambda: {"own": 0, "default": 0})
    evicted: int = 0  # a client that had trained found the default model answering instead
    withdrawn: int = 0  # training requests still queued at the deadline, taken back unrun
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for key, n in counts.items():
                setattr(self, key, getattr(self, key) + n)

    def error(self, step: str, err: Exception) -> None:
        with self.lock:
            self.errors.append(f"{step}: {type(err).__name__}: {str(err)[:160]}")

    def saw(self, seen: str) -> None:
        """A check by a client that has trained: its own model, or the default one."""
        if seen not in self.checks:
            raise RuntimeError("the default model answered without naming the evicted one")
        with self.lock:
            self.checks[seen] += 1
            self.evicted += seen == "default"


def visitor(url: str, plan: Largest, inputs: dict, visits: Visits, until: Deadline) -> None:
    """One client, its own session: train the largest model over and over. While its training
    waits in the queue (one runs at a time), it asks every `until.check_every` seconds which
    model answers it: others' trainings evict its model meanwhile. Checks right after each
    training too."""
    try:
        client = client_for(url)
    except Exception as err:  # noqa: BLE001 - counted and reported, not raised
        visits.error("connect", err)
        return
    has_own = False
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() >= until.stop_at:
            return
        try:
            job = plan.train(client, inputs)
            next_check = time.monotonic() + until.check_every
            while True:
                try:
                    job.result(timeout=0.5)
                    break
                except concurrent.futures.TimeoutError:
                    now = time.monotonic()
                    if now >= until.stop_at:
                        if job.status().code.name in QUEUED:
                            job.cancel()  # the visitor leaves: taken out of the queue unrun
                            visits.add(withdrawn=1)
                            return
                        job.result(timeout=until.drain_s)  # a running one is awaited
                        break
                    if has_own and now >= next_check:
                        try:
                            visits.saw(plan.check(client, inputs))
                        except Exception as err:  # noqa: BLE001 - counted, not raised
                            visits.error("check while queued", err)
                        next_check = time.monotonic() + until.check_every
        except Exception as err:  # noqa: BLE001 - counted and reported, not raised
            visits.error("train", err)
            continue
        visits.add(trained=1)
        has_own = True
        try:
            visits.saw(plan.check(client, inputs))
        except Exception as err:  # noqa: BLE001 - counted and reported, not raised
            visits.error("check after training", err)


@dataclass(frozen=True)
class Deadline:
    stop_at: float  # monotonic time after which no client starts another training
    drain_s: float  # how long a training already running then may take to answer
    check_every: float  # seconds between two checks while a client's training is queued


def idle_rss(pid: int, samples: int = 5) -> float:
    """The median of a few samples half a second apart, after two quiet seconds."""
    time.sleep(2)
    seen = []
    for _ in range(samples):
        seen.append(rss_mib(pid))
        time.sleep(0.5)
    return statistics.median(seen)


class Sampler(threading.Thread):
    """The server's RSS every `period` seconds, until stopped."""

    def __init__(self, pid: int, period: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.period = pid, period
        self.samples: list[tuple[float, float]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self.halt.is_set():
            self.samples.append((time.monotonic() - start, rss_mib(self.pid)))
            self.halt.wait(self.period)

    def stop(self) -> list[tuple[float, float]]:
        self.halt.set()
        self.join()
        return self.samples


def run_largest(
    name: str, inputs: dict, clients: int, seconds: float, port: int, budget_mb: float | None,
    drain_s: float, check_every: float, repo: Path = REPO,
) -> dict:  # fmt: skip
    plan = LARGEST[name]
    variable = plan.budget_env
    budget = {} if budget_mb is None else {variable: f"{budget_mb:g}"}
    proc = start_app(plan.app, port, budget, repo)
    url = f"http://127.0.0.1:{port}/"
    visits = Visits()
    try:
        warm = connect(url, proc)
        plan.check(warm, inputs)  # load lazily built things before measuring memory
        idle = idle_rss(proc.pid)
        sampler = Sampler(proc.pid)
        sampler.start()
        started = time.monotonic()
        until = Deadline(started + seconds, drain_s, check_every)
        threads = [
            threading.Thread(target=visitor, args=(url, plan, inputs, visits, until), daemon=True)
            for _ in range(clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, until.stop_at + drain_s + 120 - time.monotonic()))
        unfinished = sum(t.is_alive() for t in threads)
        time.sleep(2)  # the last answers' memory settles
        usage = ""
        if plan.usage is not None:
            try:
                usage = plan.usage(warm)
            except Exception as err:  # noqa: BLE001 - reported in the table
                usage = f"(usage not read: {type(err).__name__})"
        samples = sampler.stop()
        wall = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    budget = plan.default_budget_mb if budget_mb is None else budget_mb
    peak = max(r for _, r in samples)
    limit = 1.2 * (budget + idle)
    found = USAGE.search(usage or "")
    for err in sorted(set(visits.errors))[:8]:
        print(f"  {name}: {err}", file=sys.stderr)
    label = {
        "anomaly": f"anomaly, latent {inputs['latent']:,}",
        "transfer": f"transfer, {inputs['classes_n']} classes",
    }.get(name, name)
    return {
        "name": name,
        "label": label,
        "budget": budget,
        "store": plan.budget_env or "none",
        "wall": wall,
        "trained": visits.trained,
        "checks": visits.checks,
        "evicted": visits.evicted,
        "withdrawn": visits.withdrawn,
        "errors": len(visits.errors) + unfinished,
        "error_kinds": sorted(set(visits.errors))[:8],
        "idle": idle,
        "peak": peak,
        "peak_at": next(t for t, r in samples if r == peak),
        "end": samples[-1][1],
        "limit": limit,
        "met": peak <= limit,
        "usage": (
            f"{found[1]} models, {found[2]} MB, {found[4]} evicted" if found else usage or "-"
        ),
        "samples": len(samples),
    }


LARGEST_HEADER = (
    "| plan | budget MiB (store) | trainings | checks own / default | evicted seen | "
    "withdrawn at deadline | errors | idle RSS MiB | peak RSS MiB (at s) | end RSS MiB | "
    "peak - idle MiB | limit 1.2 x (budget + idle) | target | store at end |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def largest_row(r: dict) -> str:
    return (
        f"| {r['label']} | {r['budget']:g} ({r['store']}) | {r['trained']} | "
        f"{r['checks']['own']} / {r['checks']['default']} | {r['evicted']} | {r['withdrawn']} | "
        f"{r['errors']} | {r['idle']:.0f} | {r['peak']:.0f} ({r['peak_at']:.0f}) | "
        f"{r['end']:.0f} | {r['peak'] - r['idle']:+.0f} | {r['limit']:.0f} | "
        f"{'met' if r['met'] else '**missed**'} | {r['usage']} |"
    )


def main_largest(args: argparse.Namespace) -> None:
    """--train-largest: run each plan, print the table, append a section to RESULTS."""
    before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    start = time.strftime("%H:%M", time.gmtime())
    inputs = largest_inputs(args.anomaly_latent, args.transfer_classes)
    print(LARGEST_HEADER, flush=True)
    rows = []
    for name in args.apps:
        result = run_largest(
            name,
            inputs,
            args.clients,
            args.seconds,
            args.port,
            args.budget_mb.get(name, args.budget_mb.get("")),
            args.drain,
            args.check_every,
            args.serve_from,
        )
        rows.append(largest_row(result))
        print(rows[-1], flush=True)
        for err in result["error_kinds"]:
            rows.append(f"<!-- {name} error: {err} -->")
    after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    command = "python benchmarks/load.py " + " ".join(sys.argv[1:])
    commit = served_commit(args.serve_from)
    section = (
        f"\n## Issue 14: every client trains the largest session model "
        f"({start}-{time.strftime('%H:%M', time.gmtime())} UTC, "
        f"{time.strftime('%Y-%m-%d', time.gmtime())})\n\n"
        f"Command: `{command.strip()}` ({args.clients} clients, {args.seconds:g} s, "
        f"{os.cpu_count()} CPU cores, code at {commit}).\n"
        f"`uptime` before: `{before}`; after: `{after}`.\n\n"
        f"{LARGEST_HEADER}\n" + "\n".join(rows) + "\n"
    )
    with args.out.open("a") as out:
        out.write(section)
    print(f"appended to {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--apps",
        nargs="+",
        default=None,
        choices=sorted(set(PLANS) | set(LARGEST)),
        help="plans to run (default: all; with --train-largest: anomaly cbow transfer detect)",
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: 20)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per phase (default: 60)")
    parser.add_argument("--port", type=int, default=7871, help="server port (default: 7871)")
    parser.add_argument(
        "--serve-from",
        type=Path,
        default=REPO,
        help="serve the apps of this checkout (an older commit, with its artifacts/) to this "
        "file's clients, so two versions are measured by one harness (default: this checkout)",
    )
    largest = parser.add_argument_group(
        "--train-largest", "every client trains the largest session model (issue 14)"
    )
    largest.add_argument(
        "--train-largest",
        action="store_true",
        help="every client, its own session, trains the largest session model over and over; "
        "the server's RSS is sampled every 0.5 s; a section is appended to the results",
    )
    largest.add_argument(
        "--out",
        type=Path,
        default=RESULTS,
        help=f"the file each run's section is appended to, for every plan (default: "
        f"{RESULTS.relative_to(REPO)})",
    )
    largest.add_argument(
        "--budget-mb",
        nargs="+",
        default=[],
        metavar="[PLAN=]MB",
        help="the store budget each app is started with ($<APP>_SESSION_BUDGET_MB): MB for "
        "every plan, PLAN=MB for one (e.g. 256 transfer=16); default: the apps' own defaults",
    )
    largest.add_argument(
        "--drain",
        type=float,
        default=180,
        help="seconds a training already running at the deadline may take to answer (180)",
    )
    largest.add_argument(
        "--check-every",
        type=float,
        default=5,
        help="seconds between a waiting client's checks of which model answers it (5)",
    )
    largest.add_argument(
        "--anomaly-latent",
        type=int,
        default=0,
        help="the anomaly model's latent size (default: 0, the tutorial's; the app allows "
        "up to 1024, which sizes the scoring activations, not the weights)",
    )
    largest.add_argument(
        "--transfer-classes",
        type=int,
        default=600,
        help="class folders in the fine-tune zip, one image each (600: the app's image cap)",
    )
    args = parser.parse_args()
    args.serve_from = args.serve_from.resolve()
    try:
        args.budget_mb = {
            name: float(mb) for name, _, mb in (b.rpartition("=") for b in args.budget_mb)
        }
    except ValueError:
        parser.error(f"--budget-mb takes MB or PLAN=MB; got {args.budget_mb}")
    if args.train_largest:
        args.apps = args.apps or list(LARGEST)
        if unknown := [a for a in args.apps if a not in LARGEST]:
            parser.error(f"--train-largest plans are {', '.join(LARGEST)}; not {unknown}")
        main_largest(args)
        return
    args.apps = args.apps or sorted(PLANS)
    if unknown := [a for a in args.apps if a not in PLANS]:
        parser.error(
            f"plans are {', '.join(sorted(PLANS))} (or use --train-largest); not {unknown}"
        )
    header = (
        "| app | phase | requests | errors | median ms | p95 ms | p95 vs idle | RSS start MiB | "
        "RSS end MiB | RSS growth | training runs |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    print(header)
    rows = [
        row
        for app in args.apps
        for row in run_app(app, args.clients, args.seconds, args.port, args.serve_from)
    ]
    command = "python benchmarks/load.py " + " ".join(sys.argv[1:])
    served = served_commit(args.serve_from)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:  # a section of its own: earlier runs' sections stay
        out.write(
            f"\n## {args.clients} clients, {args.seconds:g} s per phase "
            f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n\n"
            f"Command: `{command.strip()}`, apps served at commit {served}, on "
            f"{os.cpu_count()} CPU cores, load average "
            f"{os.getloadavg()[0]:.2f} at the end.\n\n{header}\n" + "\n".join(rows) + "\n"
        )
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
