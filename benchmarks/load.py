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
"""

from __future__ import annotations

import argparse
import os
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


def start_app(app: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        f"{app.upper()}_MODEL": str(REPO / "artifacts" / app),
    }
    return subprocess.Popen(
        [sys.executable, str(REPO / "spaces" / app / "app.py")],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def connect(url: str, proc: subprocess.Popen, timeout: float = 180) -> Client:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return Client(url, verbose=False)
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the app at {url} did not start") from None
            time.sleep(0.5)


def hammer(url: str, call: Callable[[Client], object], tally: Tally, stop_at: float) -> None:
    client = Client(url, verbose=False)
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


def run_app(app: str, clients: int, seconds: float, port: int) -> list[str]:
    proc = start_app(PLANS[app].app, port)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--apps",
        nargs="+",
        default=sorted(PLANS),
        choices=sorted(PLANS),
        help="apps to load (default: all)",
    )
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default: 20)")
    parser.add_argument("--seconds", type=float, default=60, help="seconds per phase (default: 60)")
    parser.add_argument("--port", type=int, default=7871, help="server port (default: 7871)")
    args = parser.parse_args()
    header = (
        "| app | phase | requests | errors | median ms | p95 ms | p95 vs idle | RSS start MiB | "
        "RSS end MiB | RSS growth | training runs |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    print(header)
    rows = [row for app in args.apps for row in run_app(app, args.clients, args.seconds, args.port)]
    command = "python benchmarks/load.py " + " ".join(sys.argv[1:])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        f"# Load: {args.clients} clients, {args.seconds:g} s per phase\n\n"
        f"Command: `{command.strip()}` on {os.cpu_count()} CPU cores.\n\n{header}\n"
        + "\n".join(rows)
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
