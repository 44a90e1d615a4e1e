"""Step (d), the output: what the vectors say about words. Plain functions over KeyedVectors.

Every query word goes through `check_word`, so an empty, over-long or unknown word gets a
message that names it, and an unknown one gets the nearest vocabulary words by spelling.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
from gensim.models import KeyedVectors

from shared.cbow import CBOWInputError

EXAMPLE_WORDS = 5000  # most frequent words that example queries are made of
MAX_WORD_CHARS = 50  # longer than any English word; bounds the spelling search
MAX_TOPK = 50
SUGGESTIONS = 5
SUGGESTION_VOCAB = 50_000  # most frequent words searched for spelling suggestions (~50 ms)


def check_word(vectors: KeyedVectors, word: str, lowercase: bool = True, what: str = "word") -> str:
    """Normalize a query word the way the corpus was prepared, or explain why it can't be used."""
    word = (word or "").strip()
    if not word:
        raise CBOWInputError(f"The {what} is empty: type a word.")
    if len(word) > MAX_WORD_CHARS:
        raise CBOWInputError(
            f"The {what} is {len(word)} characters long; the limit is {MAX_WORD_CHARS}."
        )
    if " " in word and "_" not in word:
        raise CBOWInputError(
            f"The {what} {word!r} has spaces: give one word (phrases are joined by '_')."
        )
    key = word.lower() if lowercase else word
    if key not in vectors.key_to_index:
        near = suggest(vectors, key)
        hint = f" Did you mean: {', '.join(near)}?" if near else ""
        raise CBOWInputError(f"{word!r} is not in the vocabulary ({len(vectors)} words).{hint}")
    return key


def suggest(vectors: KeyedVectors, word: str, n: int = SUGGESTIONS) -> list[str]:
    """Vocabulary words closest to `word` in spelling (difflib's ratio), most frequent first."""
    candidates = vectors.index_to_key[:SUGGESTION_VOCAB]
    return difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)


def most_similar(
    vectors: KeyedVectors, word: str, topk: int = 10, lowercase: bool = True
) -> list[tuple[str, float]]:
    """The `topk` nearest words by cosine similarity."""
    key = check_word(vectors, word, lowercase)
    topk = int(min(max(topk, 1), MAX_TOPK))
    return [(w, float(s)) for w, s in vectors.most_similar(key, topn=topk)]


def similarity(vectors: KeyedVectors, a: str, b: str, lowercase: bool = True) -> float:
    """Cosine similarity of two words, in [-1, 1]."""
    return float(
        vectors.similarity(
            check_word(vectors, a, lowercase, "first word"),
            check_word(vectors, b, lowercase, "second word"),
        )
    )


def analogy(
    vectors: KeyedVectors, a: str, b: str, c: str, topk: int = 5, lowercase: bool = True
) -> list[tuple[str, float]]:
    """Words nearest to a - b + c (king - man + woman ~ queen), the three inputs excluded."""
    keys = [
        check_word(vectors, w, lowercase, name)
        for w, name in ((a, "word a"), (b, "word b"), (c, "word c"))
    ]
    result = vectors.most_similar(positive=[keys[0], keys[2]], negative=[keys[1]], topn=topk)
    return [(w, float(s)) for w, s in result]


def odd_one_out(
    vectors: KeyedVectors, words: Sequence[str] | str, lowercase: bool = True
) -> tuple[str, list[tuple[str, float]]]:
    """The word least like the others, and each word's similarity to the group's mean."""
    if isinstance(words, str):
        words = words.replace(",", " ").split()
    keys = list(dict.fromkeys(check_word(vectors, w, lowercase) for w in words))
    if len(keys) < 3:
        raise CBOWInputError(f"Give at least 3 different words; got {len(keys)}.")
    mean = vectors.get_mean_vector(keys, post_normalize=True)
    scores = [(k, float(np.dot(vectors.get_vector(k, norm=True), mean))) for k in keys]
    scores.sort(key=lambda pair: pair[1])
    return scores[0][0], scores


def neighbourhood(
    vectors: KeyedVectors,
    word: str,
    topk: int = 30,
    method: str = "pca",
    lowercase: bool = True,
    seed: int = 0,
) -> list[dict]:
    """A 2-D map of `word` and its `topk` neighbours: rows of word, x, y, similarity."""
    neighbours = most_similar(vectors, word, topk, lowercase)
    key = check_word(vectors, word, lowercase)
    words = [key, *(w for w, _ in neighbours)]
    sims = [1.0, *(s for _, s in neighbours)]
    points = np.stack([vectors.get_vector(w, norm=True) for w in words])
    if method == "pca":
        from sklearn.decomposition import PCA

        xy = PCA(n_components=2, random_state=seed).fit_transform(points)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        # perplexity must stay below the number of points; ~a third of them keeps groups local
        perplexity = max(2.0, min(30.0, (len(words) - 1) / 3))
        xy = TSNE(perplexity=perplexity, random_state=seed, init="pca").fit_transform(points)
    else:
        raise CBOWInputError(f"Unknown map method {method!r}; choose 'pca' or 'tsne'.")
    return [
        {"word": w, "x": float(x), "y": float(y), "similarity": s, "query": i == 0}
        for i, (w, (x, y), s) in enumerate(zip(words, xy, sims, strict=True))
    ]


def examples(
    vectors: KeyedVectors, wanted: dict[str, tuple[str, ...]], lowercase: bool = True
) -> dict[str, tuple[str, ...]]:
    """`wanted`'s queries, each kept when all its words are in the vocabulary, else made of its
    most frequent words of four letters or more (mostly not stop words), filled up with the
    other words where there are too few of those: any vectors get example queries that answer.
    """
    vocab = vectors.key_to_index
    frequent = [w for w in vectors.index_to_key[:EXAMPLE_WORDS] if len(w) >= 4 and w.isalpha()]
    if len(frequent) < 4:  # the odd-one-out example takes four
        frequent += [w for w in vectors.index_to_key if w not in frequent][: 4 - len(frequent)]

    def known(words: tuple[str, ...]) -> bool:
        return all((w.lower() if lowercase else w) in vocab for w in words)

    return {k: v if known(v) else tuple(frequent[: len(v)]) for k, v in wanted.items()}


def neighbour_ranks(vectors: KeyedVectors, word: str, others: Sequence[str]) -> dict[str, int]:
    """Where each of `others` ranks among `word`'s neighbours (1: the nearest), for those in
    the vocabulary: how near our vectors put the words the course shows next to "virus"."""
    distances = vectors.distances(word)  # 1 - cosine similarity to every word, in index order
    own = distances[vectors.key_to_index[word]]
    ranks = {}
    for other in others:
        if other in vectors.key_to_index and other != word:
            distance = distances[vectors.key_to_index[other]]
            # the words nearer than `other`, leaving out `word` itself
            ranks[other] = int((distances < distance).sum() - (own < distance)) + 1
    return ranks
