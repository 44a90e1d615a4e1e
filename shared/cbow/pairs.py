"""Step (b), generating the training data: CBOW's (context -> target) pairs, and skip-gram's.

Two conventions count the window differently, and the app shows both side by side:

* The course's: a window of 2 means two context words *in all*, one on each side, and only
  words with a full context become targets. "It is a pleasant day" gives
  ([it, a], is), ([is, pleasant], a), ([a, day], pleasant).
* gensim's `window` counts words on *each* side, and every word is a target: the words near
  the edges get partial contexts. (While training, gensim also shrinks each window at random
  to 1..window words, which weights near words more; the table shows the widest window.)

Skip-gram reads the same windows the other way: it predicts each context word from the target,
one (target -> context word) pair per context word, where CBOW predicts the target from the
average of its context. "It is a pleasant day" in the course's window of 2 gives
(is -> it), (is -> a), (a -> is), (a -> pleasant), (pleasant -> a), (pleasant -> day).
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.cbow import CBOWInputError

Pair = tuple[list[str], str]  # (context words, target word)
SkipGramPair = tuple[str, str]  # (target word, one context word)


def course_pairs(tokens: Sequence[str], window: int = 2) -> list[Pair]:
    """Pairs with `window` context words in all (window // 2 per side), full contexts only."""
    if window < 2 or window % 2:
        raise CBOWInputError(
            f"The course's window counts context words on both sides together, so it must be "
            f"an even number of at least 2; got {window}."
        )
    side = window // 2
    return [
        ([*tokens[i - side : i], *tokens[i + 1 : i + 1 + side]], tokens[i])
        for i in range(side, len(tokens) - side)
    ]


def gensim_pairs(tokens: Sequence[str], window: int = 1) -> list[Pair]:
    """Pairs with up to `window` context words on each side; edge words get partial contexts."""
    if window < 1:
        raise CBOWInputError(
            f"gensim's window is words per side and must be at least 1; got {window}."
        )
    return [
        ([*tokens[max(0, i - window) : i], *tokens[i + 1 : i + 1 + window]], tokens[i])
        for i in range(len(tokens))
        if len(tokens) > 1
    ]


def pairs_table(pairs: Sequence[Pair]) -> list[list[str]]:
    """Rows for a table: context words, then the target."""
    return [[", ".join(context), target] for context, target in pairs]


def skipgram_pairs(pairs: Sequence[Pair]) -> list[SkipGramPair]:
    """Skip-gram's (target, context word) pairs for the windows of CBOW's `pairs`, in order."""
    return [(target, word) for context, target in pairs for word in context]
