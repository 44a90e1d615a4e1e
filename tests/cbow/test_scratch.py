"""The from-scratch CBOW in PyTorch: shared/cbow/scratch.py."""

from __future__ import annotations

from shared.cbow.scratch import train_scratch


def test_from_scratch_cbow_learns_the_toy_sentences():
    result = train_scratch()
    assert result.losses[-1] < result.losses[0] / 10
    for context, target in result.pairs:
        assert result.predict(context)[0][0] == target
