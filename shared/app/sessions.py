"""The one session contract every app follows: which model answers a visitor.

A visitor who trains in an app gets their own model for the rest of their session; everyone
else is answered by the app's served model. Every app (anomaly, CBOW, Classify, Detect) asks
one `Sessions` object:

    SESSIONS = Sessions(load_default("cbow", ...), "CBOW_SESSION_BUDGET_MB", what="vectors")
    session = SESSIONS.state()                  # the page's gr.State: a Ticket, or None
    model = SESSIONS.current(ticket)            # theirs, else the served one
    ticket = SESSIONS.replace(ticket, model, SESSIONS.nbytes(model), "vectors trained on a.txt")

A session's model lives in a `SessionStore` under one memory budget for all visitors; when it
was evicted to make room, the visitor is told so in one wording, as a `gr.Warning`, and the
served model answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

import gradio as gr

from shared.app.served import DefaultModel
from shared.app.store import DEFAULT_BUDGET_MB, MB, SESSION_SECONDS, SessionStore, Ticket
from shared.errors import UserInputError

if TYPE_CHECKING:
    import torch

M = TypeVar("M")


class Sessions(Generic[M]):
    """The served model, and each session's own under one budget (`$budget_variable` MB)."""

    def __init__(
        self,
        served: DefaultModel[M],
        budget_variable: str,
        *,
        default_mb: float = DEFAULT_BUDGET_MB,
        what: str = "model",
    ):
        self.served = served  # .model (None when none could be loaded), .metrics, .status
        self.store = SessionStore.from_env(budget_variable, default_mb)
        self.what = what  # how the page names a model: "model", "vectors", "detector"

    def state(self) -> gr.State:
        """A session's `gr.State` for its ticket: empty until the visitor trains, and freed with
        the model it names an hour after the session's last use."""
        return gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=self.store.discard)

    def evicted(self, ticket: Ticket | None) -> bool:
        """True when the session trained a model that the budget has since removed."""
        return ticket is not None and self.store.get(ticket) is None

    def notice(self, ticket: Ticket) -> str:
        """The one wording of an eviction, for every app."""
        plural = self.what.endswith("s")  # "vectors": their verbs agree
        was, answers, it = ("were", "answer", "them") if plural else ("was", "answers", "it")
        return (
            f"Your {ticket.name} {was} removed to keep this app within its memory budget for "
            "all visitors' models (least recently used go first); the app's own "
            f"{self.what} {answers} now. Train again to get {it} back."
        )

    def own(self, ticket: Ticket | None) -> M | None:
        """The session's own model, or None: it never trained, or (with a warning) was evicted."""
        model = self.store.get(ticket)
        if ticket is not None and model is None:
            gr.Warning(self.notice(ticket))
        return model

    def current(self, ticket: Ticket | None) -> M:
        """The model that answers this session: its own, else the served one."""
        model = self.own(ticket)
        if model is not None:
            return model
        if self.served.model is None:
            verb = "are" if self.what.endswith("s") else "is"
            raise UserInputError(f"No {self.what} {verb} loaded. {self.served.status}")
        return self.served.model

    def trained(self, ticket: Ticket | None) -> M | None:
        """The session's own model for a push or an export of it: None if it never trained; an
        evicted one is refused with the notice, since the served model is not theirs to push."""
        model = self.store.get(ticket)
        if ticket is not None and model is None:
            raise UserInputError(self.notice(ticket))
        return model

    def replace(self, ticket: Ticket | None, model: M, nbytes: int, name: str) -> Ticket:
        """This session trained again: its earlier model goes, the new one is kept."""
        self.store.discard(ticket)  # replaced, not kept twice
        return self.store.put(model, nbytes, name)

    def usage(self) -> str:
        """One line for the Model tab: how many session models, how much of the budget."""
        return self.store.usage()

    @property
    def budget_mb(self) -> float:
        return self.store.budget / MB

    @staticmethod
    def nbytes(module: torch.nn.Module) -> int:
        """What a session's copy of a torch module holds: its parameters and buffers."""
        tensors = [*module.parameters(), *module.buffers()]
        return sum(t.numel() * t.element_size() for t in tensors)
