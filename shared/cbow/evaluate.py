"""Step (d), judging the output: WordSim353 and the Google analogies, both shipped with gensim.

* WordSim353: 353 word pairs rated for relatedness by people. The score is the Spearman rank
  correlation between those ratings and the vectors' cosine similarities, over the pairs whose
  words are both in the vocabulary; the OOV rate says how many pairs were skipped.
* Google analogies: 19,544 questions "a is to b as c is to ?", answered by a - b + c. Only
  questions whose four words are among the `ANALOGY_VOCAB` most frequent words count, the
  restriction gensim's tutorial applies, so rare noisy words don't dominate the score.
"""

from __future__ import annotations

import logging

from gensim.models import KeyedVectors
from gensim.test.utils import datapath

from shared.cbow import course

WORDSIM = "wordsim353.tsv"
ANALOGIES = "questions-words.txt"
ANALOGY_VOCAB = 10_000  # frequent words only; also bounds the time: one search per question
NEIGHBOURS = 10  # nearest words kept per query word in metrics.json


def evaluate(vectors: KeyedVectors, analogies: bool = True) -> dict[str, float | None]:
    """WordSim353 Spearman/Pearson with its OOV rate, and Google analogy accuracy.

    A correlation is None when too few WordSim353 pairs are in the vocabulary to compute it.
    """
    # gensim logs every section of the analogy test at INFO; keep the console readable
    logging.getLogger("gensim.models.keyedvectors").setLevel(logging.WARNING)
    try:
        pearson, spearman, oov = vectors.evaluate_word_pairs(datapath(WORDSIM))
        metrics = {
            "wordsim353_spearman": _number(spearman.statistic),
            "wordsim353_pearson": _number(pearson.statistic),
            "wordsim353_oov_percent": float(oov),
        }
    except ValueError:  # gensim's answer when no pair has both words in the vocabulary
        metrics = {
            "wordsim353_spearman": None,
            "wordsim353_pearson": None,
            "wordsim353_oov_percent": 100.0,
        }
    if analogies:
        accuracy, sections = vectors.evaluate_word_analogies(
            datapath(ANALOGIES), restrict_vocab=ANALOGY_VOCAB
        )
        total = sections[-1]  # gensim's last section is the total over all categories
        questions = len(total["correct"]) + len(total["incorrect"])
        metrics |= {
            "analogy_accuracy": float(accuracy) if questions else None,
            "analogy_questions": questions,
            "analogy_restrict_vocab": ANALOGY_VOCAB,
        }
    return metrics


def neighbours(
    vectors: KeyedVectors, words: tuple[str, ...] = course.WORDS, topn: int = NEIGHBOURS
) -> dict[str, list[str]]:
    """The `topn` nearest words of each query word in the vocabulary, nearest first."""
    return {
        w: [n for n, _ in vectors.most_similar(w, topn=topn)]
        for w in words
        if w in vectors.key_to_index
    }


def _number(value: float) -> float | None:
    """A correlation, or None where it is undefined (NaN: too few pairs in the vocabulary)."""
    value = float(value)
    return None if value != value else value
