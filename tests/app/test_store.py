"""The session-model store: one budget for all sessions, least recently used evicted first."""

from __future__ import annotations

import threading

import pytest

from shared.app.store import MB, SessionStore, Ticket
from shared.errors import UserInputError


def test_models_fit_the_budget_exactly_and_the_least_recently_used_goes_first():
    store = SessionStore(100)
    a = store.put("A", 40, "model a")
    b = store.put("B", 40, "model b")
    c = store.put("C", 20, "model c")  # 100 of 100: nothing evicted at exactly the budget
    assert (store.get(a), store.get(b), store.get(c)) == ("A", "B", "C")
    assert store.used == 100 and len(store) == 3 and store.evictions == 0
    assert store.get(a) == "A"  # a is now the most recently used, so b is the oldest
    d = store.put("D", 30, "model d")
    assert store.get(b) is None and store.evictions == 1
    assert (store.get(a), store.get(c), store.get(d)) == ("A", "C", "D")
    assert store.used == 90 and len(store) == 3


def test_a_big_model_evicts_as_many_old_ones_as_it_needs():
    store = SessionStore(100)
    tickets = [store.put(i, 25, f"model {i}") for i in range(4)]
    big = store.put("big", 70, "big model")
    assert [store.get(t) for t in tickets] == [None, None, None, 3]
    assert store.get(big) == "big" and store.used == 95 and store.evictions == 3


def test_a_model_over_the_whole_budget_is_refused_by_name_and_nothing_is_evicted():
    store = SessionStore(100 * MB)
    kept = store.put("kept", 60 * MB, "small model")
    with pytest.raises(UserInputError, match=r"vectors on big\.txt would take 100\.5 MB.*100 MB"):
        store.put("huge", int(100.5 * MB), "vectors on big.txt")
    assert store.get(kept) == "kept" and store.evictions == 0


def test_tickets_name_the_model_and_discard_frees_its_bytes():
    store = SessionStore(100)
    ticket = store.put("A", 60, "vectors trained on notes.txt")
    assert isinstance(ticket, Ticket)
    assert (ticket.name, ticket.nbytes) == ("vectors trained on notes.txt", 60)
    other = store.put("B", 40, "other")
    assert ticket.key != other.key
    store.discard(ticket)
    assert store.get(ticket) is None and store.used == 40 and store.evictions == 0
    store.discard(ticket)  # twice, or a ticket never stored: no error
    store.discard(None)
    assert store.get(None) is None and store.get(other) == "B"


def test_usage_line_reports_count_megabytes_budget_and_evictions():
    store = SessionStore(10 * MB)
    line = "Session models: {}, holding {} MB of this app's 10 MB budget ({} evicted so far)."
    assert store.usage() == line.format(0, "0.0", 0)
    store.put("A", 3 * MB, "a")
    assert store.usage() == line.format(1, "3.0", 0)
    store.put("B", 8 * MB, "b")
    assert store.usage() == line.format(1, "8.0", 1)


@pytest.mark.parametrize(
    ("value", "budget"), [(None, 1024 * MB), ("", 1024 * MB), ("64", 64 * MB), ("0.5", MB // 2)]
)
def test_budget_comes_from_the_environment(monkeypatch, value, budget):
    if value is None:
        monkeypatch.delenv("TEST_BUDGET_MB", raising=False)
    else:
        monkeypatch.setenv("TEST_BUDGET_MB", value)
    assert SessionStore.from_env("TEST_BUDGET_MB").budget == budget


def test_default_budget_can_be_chosen_per_app(monkeypatch):
    monkeypatch.delenv("TEST_BUDGET_MB", raising=False)
    assert SessionStore.from_env("TEST_BUDGET_MB", default_mb=256).budget == 256 * MB


@pytest.mark.parametrize("value", ["lots", "0", "-5", "nan"])
def test_a_bad_budget_says_what_it_must_be(monkeypatch, value):
    monkeypatch.setenv("TEST_BUDGET_MB", value)
    with pytest.raises(ValueError, match=r"\$TEST_BUDGET_MB must be a .*number of megabytes"):
        SessionStore.from_env("TEST_BUDGET_MB")


@pytest.mark.parametrize("budget", [0, -1])
def test_a_store_needs_a_positive_budget(budget):
    with pytest.raises(ValueError, match="must be positive"):
        SessionStore(budget)


def test_concurrent_puts_never_exceed_the_budget():
    store = SessionStore(1000)
    over = []

    def visitor(i: int) -> None:
        for j in range(200):
            ticket = store.put((i, j), 7 + (i + j) % 50, f"model {i}.{j}")
            store.get(ticket)
            if store.used > store.budget:
                over.append(store.used)

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert over == [] and 0 < store.used <= 1000
    assert store.evictions + len(store) == 8 * 200
