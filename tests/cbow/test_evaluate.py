"""Word-vector evaluation: shared/cbow/evaluate.py."""

from __future__ import annotations

import pytest
from conftest import quick_model

from shared.cbow.evaluate import evaluate
from shared.cbow.vectors import load_model


def test_evaluation_returns_numbers_in_range():
    metrics = load_model(quick_model("cbow")).metrics
    assert -1 <= metrics["wordsim353_spearman"] <= 1
    assert 0 <= metrics["wordsim353_oov_percent"] <= 100
    assert 0 <= metrics["analogy_accuracy"] <= 1 and metrics["analogy_questions"] > 0
    again = evaluate(load_model(quick_model("cbow")).vectors, analogies=False)
    assert again["wordsim353_spearman"] == pytest.approx(metrics["wordsim353_spearman"])
