"""One memory budget for every model that visitors train in an app, whatever their session.

A public app keeps each visitor's trained model for a while, so that their next questions go
to it. Bounding each model is not enough: twenty visitors an hour each leaving 0.8 GB behind
exhausted a 16 GB Space (issue 14). This store holds every session's model under one total
budget and evicts the least recently used ones to make room for a new one. A session's
`gr.State` holds only the small `Ticket` that `put` returns; `get` answers None once the model
was evicted, and the app then tells the visitor so by the ticket's name and falls back to its
default model.

    store = SessionStore.from_env("CBOW_SESSION_BUDGET_MB")
    ticket = store.put(model, nbytes=footprint(model), name="vectors trained on notes.txt")
    model = store.get(ticket) or default_model
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from shared.errors import UserInputError

DEFAULT_BUDGET_MB = 1024  # per app: a 16 GB Space serves three apps with room to spare
MB = 2**20
SESSION_SECONDS = 3600  # a session, and the model it trained, live this long after its last use


@dataclass(frozen=True)
class Ticket:
    """What a session keeps: the key of its model in the store, and the model's name."""

    key: str
    name: str  # how the visitor would recognise it: "vectors trained on notes.txt"
    nbytes: int


class SessionStore:
    """Session models under one total budget in bytes, least recently used evicted first.

    Thread-safe: Gradio answers requests from a pool of threads.
    """

    def __init__(self, budget_bytes: int):
        if budget_bytes <= 0:
            raise ValueError(f"The session budget must be positive; got {budget_bytes} bytes.")
        self.budget = int(budget_bytes)
        self._items: OrderedDict[str, tuple[Ticket, Any]] = OrderedDict()  # oldest use first
        self._lock = threading.Lock()
        self.evictions = 0

    @classmethod
    def from_env(cls, variable: str, default_mb: float = DEFAULT_BUDGET_MB) -> SessionStore:
        """A store whose budget is `$variable` megabytes, or `default_mb` where it is unset."""
        text = os.environ.get(variable, "").strip()
        try:
            megabytes = float(text) if text else float(default_mb)
        except ValueError:
            raise ValueError(f"${variable} must be a number of megabytes; got {text!r}.") from None
        if not megabytes > 0:
            raise ValueError(f"${variable} must be a positive number of megabytes; got {text!r}.")
        return cls(int(megabytes * MB))

    def put(self, value: Any, nbytes: int, name: str) -> Ticket:
        """Keep `value`, evicting the least recently used models until it fits the budget.

        Then hand the memory that evicted models and finished training runs freed back to the
        system (`release_freed_memory`): otherwise glibc keeps it for later allocations of the
        same size, and a process whose store stayed within 74 MB grew by 53, 67, 93, 95 and
        116 MB over five trainings of the largest CBOW vectors, and 235 MB over ten; with the
        release it stayed at 88-137 MB over twelve (tests/spaces/cbow/test_train_tab.py's setting).
        """
        if nbytes > self.budget:
            raise UserInputError(
                f"The {name} would take {nbytes / MB:,.1f} MB, more than the "
                f"{self.budget / MB:,.0f} MB this app keeps for all visitors' models together."
            )
        ticket = Ticket(uuid.uuid4().hex, name, int(nbytes))
        with self._lock:
            while self._used() + ticket.nbytes > self.budget:
                self._items.popitem(last=False)
                self.evictions += 1
            self._items[ticket.key] = (ticket, value)
        release_freed_memory()
        return ticket

    def get(self, ticket: Ticket | None) -> Any | None:
        """The model behind `ticket`, now the most recently used; None if it was evicted."""
        if ticket is None:
            return None
        with self._lock:
            item = self._items.get(ticket.key)
            if item is None:
                return None
            self._items.move_to_end(ticket.key)
            return item[1]

    def discard(self, ticket: Ticket | None) -> None:
        """Forget `ticket`'s model (gr.State's `delete_callback` when a session expires)."""
        if ticket is not None:
            with self._lock:
                self._items.pop(ticket.key, None)

    @property
    def used(self) -> int:
        """Bytes held now, as the models' `nbytes` added up."""
        with self._lock:
            return self._used()

    def _used(self) -> int:
        return sum(ticket.nbytes for ticket, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def usage(self) -> str:
        """One line for the app's Model tab: how many models, how much of the budget."""
        with self._lock:
            count, used = len(self._items), self._used()
        return (
            f"Session models: {count}, holding {used / MB:,.1f} MB of this app's "
            f"{self.budget / MB:,.0f} MB budget ({self.evictions} evicted so far)."
        )


def release_freed_memory() -> bool:
    """Return freed heap pages to the system (glibc's malloc_trim); False where there is none."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return False  # not glibc (macOS has no malloc_trim)
    return bool(trim(0))
