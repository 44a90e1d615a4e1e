"""shared.app.sessions: the one contract for which model answers a visitor."""

from __future__ import annotations

import gradio as gr
import pytest
import torch

from shared.app.served import DefaultModel
from shared.app.sessions import Sessions
from shared.app.store import MB
from shared.errors import UserInputError

SERVED = DefaultModel("served", {"loss": [1.0]}, "Model loaded from `artifacts/x`.")


@pytest.fixture
def sessions(monkeypatch):
    monkeypatch.setenv("TEST_SESSION_BUDGET_MB", "1")
    return Sessions(SERVED, "TEST_SESSION_BUDGET_MB", what="vectors")


def test_a_session_gets_its_own_model_and_others_the_served_one(sessions):
    assert sessions.current(None) == "served" and sessions.own(None) is None
    ticket = sessions.replace(None, "mine", 1000, "vectors trained on a.txt")
    assert sessions.current(ticket) == "mine" and sessions.trained(ticket) == "mine"
    assert sessions.current(None) == "served"
    assert sessions.served.metrics == {"loss": [1.0]}  # the loaded record's, not read again


def test_training_again_replaces_the_sessions_model_instead_of_keeping_both(sessions):
    first = sessions.replace(None, "one", 600_000, "model one")
    second = sessions.replace(first, "two", 600_000, "model two")  # both would not fit 1 MB
    assert len(sessions.store) == 1 and sessions.store.evictions == 0
    assert sessions.current(second) == "two" and sessions.store.get(first) is None


def test_an_evicted_model_is_named_once_as_a_warning_and_the_served_one_answers(
    sessions, monkeypatch
):
    warned = []
    monkeypatch.setattr(gr, "Warning", warned.append)
    mine = sessions.replace(None, "mine", 700_000, "vectors trained on a.txt")
    sessions.replace(None, "theirs", 700_000, "vectors trained on b.txt")  # evicts mine
    assert sessions.evicted(mine)
    assert sessions.current(mine) == "served"
    assert len(warned) == 1 and "vectors trained on a.txt were removed" in warned[0]
    assert "app's own vectors answer now" in warned[0] and "Train again to get them" in warned[0]
    with pytest.raises(UserInputError, match="vectors trained on a.txt were removed"):
        sessions.trained(mine)  # the served model is not theirs to push
    assert sessions.trained(None) is None


def test_without_a_served_model_the_status_says_how_to_get_one(monkeypatch):
    none = DefaultModel(None, {}, "⚠️ **Model not trained yet.** Run `make train`.")
    sessions = Sessions(none, "UNSET_SESSION_BUDGET_MB")
    with pytest.raises(UserInputError, match="No model is loaded. .*make train"):
        sessions.current(None)
    assert sessions.budget_mb == 1024
    vectors = Sessions(none, "UNSET_SESSION_BUDGET_MB", what="vectors")
    with pytest.raises(UserInputError, match="No vectors are loaded"):
        vectors.current(None)


def test_the_notice_of_a_single_model_reads_in_the_singular():
    sessions = Sessions(SERVED, "UNSET_SESSION_BUDGET_MB", what="detector")
    ticket = sessions.store.put("mine", 10, "detector fine-tuned on 3 scenes")
    assert sessions.notice(ticket).startswith("Your detector fine-tuned on 3 scenes was removed")
    assert "the app's own detector answers now. Train again to get it back." in sessions.notice(
        ticket
    )


def test_nbytes_counts_parameters_and_buffers():
    module = torch.nn.BatchNorm1d(10)  # 20 parameters, 21 buffers (mean, var, batches seen)
    expected = 20 * 4 + 20 * 4 + 8
    assert Sessions.nbytes(module) == expected
    assert Sessions.nbytes(torch.nn.Linear(256, 256)) == (256 * 256 + 256) * 4 < MB
