"""The from-scratch CBOW in PyTorch: shared/cbow/scratch.py."""

from __future__ import annotations

from shared.cbow.scratch import train_scratch


def test_from_scratch_cbow_learns_the_toy_sentences():
    result = train_scratch()
    assert result.losses[-1] < result.losses[0] / 10
    for context, target in result.pairs:
        assert result.predict(context)[0][0] == target


def test_predictions_name_each_pairs_most_likely_word_and_the_targets_probability():
    result = train_scratch()
    rows = result.predictions()
    assert [(context, target) for context, target, _, _ in rows] == result.pairs
    for context, target, best, p_target in rows:
        ranked = result.predict(context)
        assert best == ranked[0][0] == target  # it learned the toy pairs
        assert p_target == dict(ranked)[target] and 0.5 < p_target <= 1
