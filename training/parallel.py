"""Independent training runs in worker processes, with the results of running them one by one.

The comparisons behind the Model tabs (each method at each label budget and seed, each method on
few scenes) are independent runs. `run_jobs` hands them to `--workers` processes ('spawn', so it
works the same on Linux, macOS and Windows), each running one job at a time with torch on
`threads` threads (1 by default, like the training jobs). A run's arithmetic then does not depend
on how many others run beside it: its results are the same for any number of workers
(tests/training/test_parallel.py compares 1 and 2 workers on tiny configs, number for number).

A job names its function as "module:function" (so it pickles whether or not the caller runs as
`__main__`) and takes keyword arguments; it returns a picklable value. Each finished job prints
a progress line: how many are done, its name, its own summary and its seconds.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any


def default_workers() -> int:
    """The cores this process may use (its CPU affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def add_workers_arg(parser, what: str = "comparison runs") -> None:
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"worker processes for the {what}, each on --threads torch threads; the results "
        f"are the same for any number (default: the cores, here {default_workers()}; 1 with "
        "--quick, whose runs take less time than starting a worker)",
    )


def resolve_workers(args) -> None:
    """`--workers` not given: the cores, or 1 for a --quick run."""
    if args.workers is None:
        args.workers = 1 if args.quick else default_workers()
    if args.workers < 1:
        raise SystemExit("--workers: at least 1")


@dataclass
class Job:
    name: str  # what the progress line calls it
    function: str  # "module:function", importable in a fresh process
    kwargs: dict = field(default_factory=dict)
    # a one-line summary of the job's result for the progress line (called in the parent)
    summary: Callable[[Any], str] | None = None
    after: Sequence[str] = ()  # names of jobs whose results this one needs (as `needs=`)


def resolve(function: str) -> Callable:
    module, name = function.split(":")
    return getattr(importlib.import_module(module), name)


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _call(function: str, kwargs: dict, threads: int, quiet: bool) -> tuple[Any, float]:
    """Run one job; in a worker, its progress bars go nowhere (the parent prints per job)."""
    import torch

    torch.set_num_threads(threads)
    start = time.perf_counter()
    captured = io.StringIO()
    sink = contextlib.redirect_stderr(captured) if quiet else contextlib.nullcontext()
    try:
        with sink:
            result = resolve(function)(**kwargs)
    except Exception as err:
        if not quiet:
            raise
        # an exception may not pickle back to the parent (one holding a generator does not):
        # send its traceback and what the job wrote to stderr as text
        raise JobError(
            f"{function} failed:\n{traceback.format_exc()}\n{captured.getvalue()[-4000:]}"
        ) from err
    return result, time.perf_counter() - start


class JobError(RuntimeError):
    """A job failed in a worker process; the message holds its traceback."""


_SHARED: dict = {}  # the pool of `shared_pool`, while one is open


def _pool(workers: int, threads: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("spawn")  # torch's threads are not fork-safe
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(threads,)
    )


@contextlib.contextmanager
def shared_pool(workers: int, threads: int = 1):
    """One pool of `workers` processes for every `run_jobs` inside (their `workers` ignored):
    `python -m training.all` starts its workers once for its three steps, not once per step."""
    if workers <= 1 or _distributed():
        yield
        return
    with _pool(workers, threads) as pool:
        _SHARED["pool"] = pool
        try:
            yield
        finally:
            _SHARED.pop("pool", None)


def _distributed() -> bool:
    """Under torchrun every rank runs the same jobs together: no worker pool inside a rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def run_jobs(
    jobs: Sequence[Job], workers: int, threads: int = 1, label: str = ""
) -> dict[str, Any]:
    """Run `jobs` on `workers` processes (1: here, in order); return {job name: result}.

    A job whose `after` names other jobs runs once they are done, with their results passed as
    `needs={name: result}`. Jobs start in the order given, so put the longest first.
    """
    names = [job.name for job in jobs]
    if len(set(names)) != len(names):
        raise ValueError("job names must be unique")
    results: dict[str, Any] = {}
    prefix = f"{label}: " if label else ""
    done = 0
    start = time.perf_counter()

    def report(job: Job, result, seconds: float) -> None:
        nonlocal done
        done += 1
        summary = f": {job.summary(result)}" if job.summary else ""
        print(
            f"{prefix}[{done}/{len(jobs)}] {job.name}{summary} ({seconds:.0f} s, "
            f"{time.perf_counter() - start:.0f} s elapsed)",
            flush=True,
        )

    def kwargs_of(job: Job) -> dict:
        if not job.after:
            return job.kwargs
        return {**job.kwargs, "needs": {name: results[name] for name in job.after}}

    pending = list(jobs)
    pool = _SHARED.get("pool")
    if pool is None and (workers <= 1 or len(jobs) <= 1 or _distributed()):
        while pending:
            job = next((j for j in pending if all(n in results for n in j.after)), None)
            if job is None:
                raise ValueError(f"jobs wait on jobs that are not there: {pending}")
            pending.remove(job)
            result, seconds = _call(job.function, kwargs_of(job), threads, quiet=False)
            results[job.name] = result
            report(job, result, seconds)
        return results
    with contextlib.ExitStack() as stack:
        if pool is None:
            workers = min(workers, len(jobs))
            print(f"{prefix}{len(jobs)} runs on {workers} worker processes", flush=True)
            pool = stack.enter_context(_pool(workers, threads))
        running = {}
        while pending or running:
            for job in [j for j in pending if all(n in results for n in j.after)]:
                pending.remove(job)
                running[pool.submit(_call, job.function, kwargs_of(job), threads, True)] = job
            if not running:
                raise ValueError(f"jobs wait on jobs that are not there: {pending}")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                result, seconds = future.result()
                results[job.name] = result
                report(job, result, seconds)
    return results
