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

WORDSIM = "wordsim353.tsv"
ANALOGIES = "questions-words.txt"
ANALOGY_VOCAB = 10_000  # frequent words only; also bounds the time: one search per question


def evaluate(vectors: KeyedVectors, analogies: bool = True) -> dict[str, float]:
    """WordSim353 Spearman/Pearson with its OOV rate, and Google analogy accuracy."""
    # gensim logs every section of the analogy test at INFO; keep the console readable
    logging.getLogger("gensim.models.keyedvectors").setLevel(logging.WARNING)
    pearson, spearman, oov = vectors.evaluate_word_pairs(datapath(WORDSIM))
    metrics = {
        "wordsim353_spearman": _number(spearman.statistic),
        "wordsim353_pearson": _number(pearson.statistic),
        "wordsim353_oov_percent": float(oov),
    }
    if analogies:
        accuracy, sections = vectors.evaluate_word_analogies(
            datapath(ANALOGIES), restrict_vocab=ANALOGY_VOCAB
        )
        total = sections[-1]  # gensim's last section is the total over all categories
        metrics |= {
            "analogy_accuracy": float(accuracy),
            "analogy_questions": len(total["correct"]) + len(total["incorrect"]),
            "analogy_restrict_vocab": ANALOGY_VOCAB,
        }
    return metrics


def _number(value: float) -> float:
    """Spearman is NaN when fewer than two pairs are in the vocabulary; report 0 instead."""
    value = float(value)
    return 0.0 if value != value else value
