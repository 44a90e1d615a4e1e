"""One memo for answers that every visitor shares: made once, handed to each who asks.

Where an answer depends only on a few built-in choices (the served model on a built-in
dataset), making it again for every visitor costs more than the rest of the request. Measured
in the anomaly app on 2 cores (load 7): the served model's ECG answer (scoring 9,801 windows,
the threshold rules, the CSV and three figures) took 92-99 ms of CPU to make (230-250 ms
wall) and 0.07 ms to hand back from here, where Gradio's own work for that request was about
70 ms of server CPU: without the memo the built-in ECG plan of benchmarks/load.py would cost
the server more than twice as much per answer.

An answer can hold a file that something outside the app removes (a temp cleaner takes a CSV):
`fresh` says whether a kept answer still holds, and one that does not is made again.

Each asker gets the answer with update dicts of its own (`handed`): Gradio 6.31's
`postprocess_update_dict` pops "value" out of the `gr.update` dict an event returns, so a
second visitor handed the same dict got the slider, series and curves without their values (the
series of whatever that visitor scored before). tests/app/test_memo.py shows Gradio still does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """`make(*key)`, kept per key; at most `size` keys, the oldest made forgotten first."""

    def __init__(
        self, make: Callable[..., V], size: int, fresh: Callable[[V], bool] = lambda _: True
    ):
        self.make, self.size, self.fresh = make, size, fresh
        self.answers: dict[tuple[Hashable, ...], V] = {}
        self.lock = threading.Lock()  # the dict only: two first askers may both make it

    def __call__(self, *key: Hashable) -> V:
        with self.lock:
            answer = self.answers.get(key)
        if answer is not None and self.fresh(answer):
            return handed(answer)
        answer = self.make(*key)
        with self.lock:
            self.answers.pop(key, None)
            self.answers[key] = answer
            while len(self.answers) > self.size:
                del self.answers[next(iter(self.answers))]
        return handed(answer)


def handed(answer: V) -> V:
    """`answer` (a NamedTuple of outputs) with a copy of each `gr.update` dict in it: Gradio
    takes the value out of the one it is given. Other values are shared, not copied."""
    if isinstance(answer, tuple) and hasattr(answer, "_replace"):
        return answer._replace(
            **{k: dict(v) for k, v in answer._asdict().items() if isinstance(v, dict)}
        )
    return answer
