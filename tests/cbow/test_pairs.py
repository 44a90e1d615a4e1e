"""Training pairs (shared/cbow/pairs.py), checked against tables worked out by hand."""

from __future__ import annotations

import pytest

from shared.cbow import CBOWInputError, course
from shared.cbow.corpus import tokenize_text
from shared.cbow.pairs import course_pairs, gensim_pairs, pairs_table, skipgram_pairs

FOX = ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]

# The course's window counts context words on both sides together: window // 2 per side.
COURSE = {
    2: [
        (["the", "brown"], "quick"),
        (["quick", "fox"], "brown"),
        (["brown", "jumps"], "fox"),
        (["fox", "over"], "jumps"),
        (["jumps", "the"], "over"),
        (["over", "lazy"], "the"),
        (["the", "dog"], "lazy"),
    ],
    4: [
        (["the", "quick", "fox", "jumps"], "brown"),
        (["quick", "brown", "jumps", "over"], "fox"),
        (["brown", "fox", "over", "the"], "jumps"),
        (["fox", "jumps", "the", "lazy"], "over"),
        (["jumps", "over", "lazy", "dog"], "the"),
    ],
    6: [
        (["the", "quick", "brown", "jumps", "over", "the"], "fox"),
        (["quick", "brown", "fox", "over", "the", "lazy"], "jumps"),
        (["brown", "fox", "jumps", "the", "lazy", "dog"], "over"),
    ],
    8: [(["the", "quick", "brown", "fox", "over", "the", "lazy", "dog"], "jumps")],
    10: [],  # five words a side don't fit in nine words
}

# gensim's window counts words on each side, and every word is a target.
GENSIM = {
    1: [
        (["quick"], "the"),
        (["the", "brown"], "quick"),
        (["quick", "fox"], "brown"),
        (["brown", "jumps"], "fox"),
        (["fox", "over"], "jumps"),
        (["jumps", "the"], "over"),
        (["over", "lazy"], "the"),
        (["the", "dog"], "lazy"),
        (["lazy"], "dog"),
    ],
    3: [
        (["quick", "brown", "fox"], "the"),
        (["the", "brown", "fox", "jumps"], "quick"),
        (["the", "quick", "fox", "jumps", "over"], "brown"),
        (["the", "quick", "brown", "jumps", "over", "the"], "fox"),
        (["quick", "brown", "fox", "over", "the", "lazy"], "jumps"),
        (["brown", "fox", "jumps", "the", "lazy", "dog"], "over"),
        (["fox", "jumps", "over", "lazy", "dog"], "the"),
        (["jumps", "over", "the", "dog"], "lazy"),
        (["over", "the", "lazy"], "dog"),
    ],
}


@pytest.mark.parametrize("window", sorted(COURSE))
def test_course_pairs_match_the_hand_written_table(window):
    assert course_pairs(FOX, window) == COURSE[window]


@pytest.mark.parametrize("window", sorted(GENSIM))
def test_gensim_pairs_match_the_hand_written_table(window):
    assert gensim_pairs(FOX, window) == GENSIM[window]


def test_default_windows_are_the_course_sentence_ones():
    assert course_pairs(FOX) == COURSE[2]  # two context words in all
    assert gensim_pairs(FOX) == GENSIM[1]  # one word each side


def test_two_words_are_each_others_context():
    assert gensim_pairs(["hello", "world"], 1) == [(["world"], "hello"), (["hello"], "world")]
    assert course_pairs(["hello", "world"], 2) == []  # neither has a word on both sides


def test_gensim_window_wider_than_the_text_takes_every_other_word():
    assert gensim_pairs(["a", "b", "c"], 10) == [
        (["b", "c"], "a"),
        (["a", "c"], "b"),
        (["a", "b"], "c"),
    ]


@pytest.mark.parametrize("tokens", [[], ["alone"]])
def test_no_pairs_without_two_words(tokens):
    assert gensim_pairs(tokens, 1) == [] and course_pairs(tokens, 2) == []


@pytest.mark.parametrize("window", [0, -1])
def test_gensim_window_must_be_at_least_one(window):
    with pytest.raises(CBOWInputError, match=f"at least 1; got {window}"):
        gensim_pairs(FOX, window)


@pytest.mark.parametrize("window", [-2, 0, 1, 3, 5])
def test_course_window_must_be_even_and_at_least_two(window):
    with pytest.raises(CBOWInputError, match=f"even number of at least 2; got {window}"):
        course_pairs(FOX, window)


def test_pairs_table_joins_the_context_and_keeps_the_target():
    assert pairs_table(COURSE[4][:2]) == [
        ["the, quick, fox, jumps", "brown"],
        ["quick, brown, jumps, over", "fox"],
    ]
    assert pairs_table([([], "alone")]) == [["", "alone"]]


def test_course_pairs_for_the_course_sentence():
    tokens = tokenize_text("It is a pleasant day")
    assert course_pairs(tokens, window=2) == [
        (["it", "a"], "is"),
        (["is", "pleasant"], "a"),
        (["a", "day"], "pleasant"),
    ]


def test_gensim_pairs_count_the_window_per_side_with_partial_edges():
    tokens = tokenize_text("It is a pleasant day")
    pairs = gensim_pairs(tokens, window=1)
    assert pairs[0] == (["is"], "it") and pairs[-1] == (["pleasant"], "day")
    assert pairs[1:-1] == course_pairs(tokens, window=2)
    assert gensim_pairs(tokens, window=2)[2] == (["it", "is", "pleasant", "day"], "a")


@pytest.mark.parametrize("window", [0, 1, 3])
def test_course_window_must_be_even(window):
    with pytest.raises(CBOWInputError, match="even number"):
        course_pairs(["a", "b", "c"], window)


# Skip-gram on the course's sentence, by hand: each target predicts each of its context words.
SKIPGRAM_COURSE = [  # the course's window of 2: one word each side, full windows only
    ("is", "it"),
    ("is", "a"),
    ("a", "is"),
    ("a", "pleasant"),
    ("pleasant", "a"),
    ("pleasant", "day"),
]
SKIPGRAM_GENSIM = [  # gensim's window of 1 a side: the edge words predict their one neighbour
    ("it", "is"),
    *SKIPGRAM_COURSE,
    ("day", "pleasant"),
]


def test_skipgram_pairs_for_the_course_sentence_match_the_hand_table():
    tokens = tokenize_text(course.SENTENCE)
    assert tokens == ["it", "is", "a", "pleasant", "day"]
    assert skipgram_pairs(course_pairs(tokens, course.WINDOW)) == SKIPGRAM_COURSE
    assert skipgram_pairs(gensim_pairs(tokens, course.WINDOW // 2)) == SKIPGRAM_GENSIM


def test_skipgram_reads_cbows_windows_the_other_way():
    cbow = course_pairs(FOX, 4)
    pairs = skipgram_pairs(cbow)
    assert len(pairs) == 4 * len(cbow)  # one pair per context word
    assert pairs[:4] == [("brown", "the"), ("brown", "quick"), ("brown", "fox"), ("brown", "jumps")]
    assert set(pairs) == {(t, w) for c, t in cbow for w in c}
    assert skipgram_pairs([]) == [] and skipgram_pairs([([], "alone")]) == []
