"""The explore functions (shared/cbow/explore.py), checked against answers worked out by hand.

The explore functions run on small hand-built vectors whose neighbours, analogy answers and
odd one out follow from their coordinates, so a wrong answer can't pass as "a valid list".
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import quick_model
from gensim.models import KeyedVectors

from shared.cbow import CBOWInputError, explore
from shared.cbow.vectors import load_model

# --- explore, on vectors built by hand -----------------------------------------------------
# Unit directions: e0 "person", e1 "male", e2 "female", e3 "royal", e4 "fruit", e5 "sweet",
# e6 "yellow". Every person word is the sum of two directions, so each has length sqrt(2) and
# king - man + woman = (e3 + e1) - (e0 + e1) + (e0 + e2) = e3 + e2 = queen, exactly.
E = np.eye(8, dtype=np.float32)
WORDS = {
    "man": E[0] + E[1],
    "woman": E[0] + E[2],
    "king": E[3] + E[1],
    "queen": E[3] + E[2],
    "apple": E[4] + E[5],
    "pear": E[4] + E[5] + E[6],
    "banana": E[4] + E[6],
    "prince": E[3] + E[1] + 0.5 * E[0],
    "new_york": E[7],
}


def hand_vectors(words: dict[str, np.ndarray] = WORDS) -> KeyedVectors:
    vectors = KeyedVectors(vector_size=len(next(iter(words.values()))))
    vectors.add_vectors(list(words), np.stack(list(words.values())))
    return vectors


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_most_similar_ranks_neighbours_by_cosine():
    vectors = hand_vectors()
    # apple=(1,1,0) on (fruit, sweet, yellow): pear=(1,1,1) at 2/sqrt(6), banana=(1,0,1) at 1/2
    top = explore.most_similar(vectors, "apple", topk=2)
    assert [w for w, _ in top] == ["pear", "banana"]
    assert [s for _, s in top] == pytest.approx([2 / np.sqrt(6), 0.5], abs=1e-6)
    # king's nearest is prince, (e3 + e1 + e0/2): 2 / (sqrt 2 * 1.5)
    king = explore.most_similar(vectors, "king", topk=3)
    assert king[0] == ("prince", pytest.approx(2 / (np.sqrt(2) * 1.5), abs=1e-6))
    assert {w for w, _ in king[1:]} == {"man", "queen"}  # both at 1/2
    assert all(s == pytest.approx(0.5, abs=1e-6) for _, s in king[1:])


def test_most_similar_returns_every_other_word_with_its_cosine():
    vectors = hand_vectors()
    everything = dict(explore.most_similar(vectors, "pear", topk=len(WORDS)))
    assert set(everything) == set(WORDS) - {"pear"}
    for word, score in everything.items():
        assert score == pytest.approx(cosine(WORDS["pear"], WORDS[word]), abs=1e-6), word
        assert isinstance(score, float)


def sixty_words() -> KeyedVectors:
    filler = {f"w{i:02d}": np.eye(80, dtype=np.float32)[i] for i in range(60)}
    filler["w00"] = filler["w00"] + np.eye(80, dtype=np.float32)[1]  # w01 is w00's neighbour
    return hand_vectors(filler)


@pytest.mark.parametrize(("asked", "given"), [(0, 1), (-3, 1), (1, 1), (3, 3), (1000, 50)])
def test_top_k_is_kept_between_1_and_50(asked, given):
    top = explore.most_similar(sixty_words(), "w00", topk=asked)
    assert len(top) == given and top[0][0] == "w01"


def test_default_top_k_is_10_for_neighbours_and_30_for_the_map():
    assert len(explore.most_similar(sixty_words(), "w00")) == 10
    points = explore.neighbourhood(sixty_words(), "W00")  # lowercased like the corpus
    assert len(points) == 31 and points[0]["word"] == "w00" and points[1]["word"] == "w01"


def test_similarity_is_the_cosine_of_the_two_words():
    vectors = hand_vectors()
    assert explore.similarity(vectors, "apple", "pear") == pytest.approx(2 / np.sqrt(6), abs=1e-6)
    assert explore.similarity(vectors, "man", "woman") == pytest.approx(0.5, abs=1e-6)
    assert explore.similarity(vectors, "man", "banana") == pytest.approx(0.0, abs=1e-6)
    assert explore.similarity(vectors, "queen", "queen") == pytest.approx(1.0, abs=1e-6)
    assert isinstance(explore.similarity(vectors, "man", "king"), float)


def test_analogy_answers_king_minus_man_plus_woman_with_queen():
    vectors = hand_vectors()
    answer = explore.analogy(vectors, "king", "man", "woman", topk=3)
    # the inputs are left out, and e3 + e2 is queen's own direction: cosine 1
    assert answer[0] == ("queen", pytest.approx(1.0, abs=1e-6))
    assert len(answer) == 3 and not {"king", "man", "woman"} & {w for w, _ in answer}
    assert all(isinstance(s, float) for _, s in answer)
    # and back: queen - woman + man = king, which now is no input
    assert explore.analogy(vectors, "queen", "woman", "man", topk=1) == [
        ("king", pytest.approx(1.0, abs=1e-6))
    ]


def test_a_flipped_analogy_gives_a_different_answer():
    # king - woman + man = e3 + 2 e1 - e2: not queen
    vectors = hand_vectors()
    flipped = explore.analogy(vectors, "king", "woman", "man", topk=1)
    assert flipped[0][0] == "prince" and flipped[0][1] < 0.9


def test_analogy_top_k_defaults_to_five():
    assert len(explore.analogy(hand_vectors(), "king", "man", "woman")) == 5


def test_odd_one_out_finds_the_word_least_like_the_group():
    vectors = hand_vectors()
    odd, scores = explore.odd_one_out(vectors, "apple, pear banana  king")
    assert odd == "king"
    # each word's cosine with the normalized mean of the four unit vectors, lowest first
    units = {w: WORDS[w] / np.linalg.norm(WORDS[w]) for w in ("apple", "pear", "banana", "king")}
    mean = sum(units.values()) / 4
    mean /= np.linalg.norm(mean)
    expected = sorted(((w, float(u @ mean)) for w, u in units.items()), key=lambda p: p[1])
    assert [w for w, _ in scores] == [w for w, _ in expected]
    assert [s for _, s in scores] == pytest.approx([s for _, s in expected], abs=1e-6)
    assert scores[0][0] == "king" and scores[-1][0] == "pear"


def test_odd_one_out_takes_a_list_and_drops_repeated_words():
    vectors = hand_vectors()
    odd, scores = explore.odd_one_out(vectors, ["man", "woman", "Man", "banana", "king"])
    assert odd == "banana" and [w for w, _ in scores].count("man") == 1 and len(scores) == 4
    with pytest.raises(CBOWInputError, match="at least 3 different words; got 2"):
        explore.odd_one_out(vectors, "apple pear apple")
    assert explore.odd_one_out(vectors, "apple,pear,queen")[0] == "queen"  # three is enough


def test_neighbourhood_maps_the_word_first_then_its_neighbours():
    vectors = hand_vectors()
    points = explore.neighbourhood(vectors, "apple", topk=2)
    assert [p["word"] for p in points] == ["apple", "pear", "banana"]
    assert [p["query"] for p in points] == [True, False, False]
    assert [p["similarity"] for p in points] == pytest.approx([1.0, 2 / np.sqrt(6), 0.5], abs=1e-6)
    # three points always lie in one plane, so a 2-D PCA keeps their distances exactly
    units = np.stack([WORDS[w] / np.linalg.norm(WORDS[w]) for w in ("apple", "pear", "banana")])
    xy = np.array([[p["x"], p["y"]] for p in points])
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        assert np.linalg.norm(xy[i] - xy[j]) == pytest.approx(
            np.linalg.norm(units[i] - units[j]), abs=1e-5
        )


@pytest.mark.parametrize(("topk", "perplexity"), [(5, 2.0), (8, 8 / 3)])
def test_tsne_map_uses_a_perplexity_of_a_third_of_the_neighbours(topk, perplexity):
    from sklearn.manifold import TSNE

    points = explore.neighbourhood(hand_vectors(), "king", topk=topk, method="tsne", seed=1)
    units = np.stack([WORDS[p["word"]] / np.linalg.norm(WORDS[p["word"]]) for p in points])
    # perplexity: (points - 1) / 3, at least 2 (the cap of 30 is never reached: top-k <= 50)
    xy = TSNE(perplexity=perplexity, random_state=1, init="pca").fit_transform(units)
    assert np.allclose([[p["x"], p["y"]] for p in points], xy, atol=1e-4)


def test_neighbourhood_keeps_case_when_told_and_seeds_tsne_with_0():
    vectors = hand_vectors({"Paris": E[0] + E[1], "paris": E[0], "rome": E[1]})
    words = [p["word"] for p in explore.neighbourhood(vectors, "Paris", 2, lowercase=False)]
    assert words[0] == "Paris" and set(words[1:]) == {"paris", "rome"}
    assert explore.neighbourhood(vectors, "PARIS", 2)[0]["word"] == "paris"
    with pytest.raises(CBOWInputError, match="'PARIS' is not in the vocabulary"):
        explore.neighbourhood(vectors, "PARIS", 2, lowercase=False)
    default = explore.neighbourhood(hand_vectors(), "king", topk=5, method="tsne")
    assert default == explore.neighbourhood(hand_vectors(), "king", topk=5, method="tsne", seed=0)


def test_neighbourhood_with_tsne_and_an_unknown_method():
    vectors = hand_vectors()
    points = explore.neighbourhood(vectors, "king", topk=5, method="tsne")
    assert [p["word"] for p in points][:2] == ["king", "prince"] and len(points) == 6
    assert all(np.isfinite([p["x"], p["y"]]).all() for p in points)
    with pytest.raises(CBOWInputError, match="Unknown map method 'umap'; choose 'pca' or 'tsne'"):
        explore.neighbourhood(vectors, "king", method="umap")


# --- explore's input checks ------------------------------------------------------------------


def test_queries_are_lowercased_like_the_corpus_unless_the_case_was_kept():
    vectors = hand_vectors({"Paris": E[0], "paris": E[1], "rome": E[0] + E[2]})
    assert explore.check_word(vectors, "  PARIS ") == "paris"
    assert explore.check_word(vectors, "Paris", lowercase=False) == "Paris"
    assert explore.similarity(vectors, "PARIS", "rome") == pytest.approx(0.0, abs=1e-6)
    assert explore.similarity(vectors, "Paris", "rome", lowercase=False) == pytest.approx(
        1 / np.sqrt(2), abs=1e-6
    )
    with pytest.raises(CBOWInputError, match="'PARIS' is not in the vocabulary"):
        explore.check_word(vectors, "PARIS", lowercase=False)
    # each function passes `lowercase` on for every word it checks
    assert explore.similarity(vectors, "rome", "Paris", lowercase=False) == pytest.approx(
        1 / np.sqrt(2), abs=1e-6
    )
    with pytest.raises(CBOWInputError, match="'ROME' is not in the vocabulary"):
        explore.similarity(vectors, "Paris", "ROME", lowercase=False)
    assert explore.similarity(vectors, "paris", "ROME") == pytest.approx(0.0, abs=1e-6)


def test_analogy_and_odd_one_out_lowercase_unless_told_not_to():
    vectors = hand_vectors()
    assert explore.analogy(vectors, "KING", "Man", "WOMAN", topk=1)[0][0] == "queen"
    with pytest.raises(CBOWInputError, match="'KING' is not in the vocabulary"):
        explore.analogy(vectors, "KING", "man", "woman", lowercase=False)
    with pytest.raises(CBOWInputError, match="'Man' is not in the vocabulary"):
        explore.analogy(vectors, "king", "Man", "woman", lowercase=False)
    assert explore.odd_one_out(vectors, "APPLE Pear banana KING")[0] == "king"
    with pytest.raises(CBOWInputError, match="'Pear' is not in the vocabulary"):
        explore.odd_one_out(vectors, "apple Pear banana king", lowercase=False)
    with pytest.raises(CBOWInputError, match="'Pear' is not in the vocabulary"):
        explore.most_similar(vectors, "Pear", lowercase=False)
    assert explore.most_similar(vectors, "PEAR", topk=1)[0][0] == "apple"


def test_word_limits_and_phrases():
    vectors = hand_vectors()
    assert explore.check_word(vectors, "new_york") == "new_york"  # a phrase is one word
    with pytest.raises(CBOWInputError, match="'new york' has spaces"):
        explore.check_word(vectors, "new york")
    # with a '_' in it, a spaced query is looked up as it is (and here not found)
    with pytest.raises(CBOWInputError, match="'new_york times' is not in the vocabulary"):
        explore.check_word(vectors, "new_york times")
    fifty = "x" * explore.MAX_WORD_CHARS
    with pytest.raises(CBOWInputError, match="is not in the vocabulary"):  # long, but allowed
        explore.check_word(vectors, fifty)
    with pytest.raises(CBOWInputError, match="The word is 51 characters long; the limit is 50"):
        explore.check_word(vectors, fifty + "x")
    for blank in ("", "   ", None):
        with pytest.raises(CBOWInputError, match="The word is empty"):
            explore.check_word(vectors, blank)


def test_each_query_word_is_named_in_its_message():
    vectors = hand_vectors()
    with pytest.raises(CBOWInputError, match="The first word is empty"):
        explore.similarity(vectors, "", "man")
    with pytest.raises(CBOWInputError, match="The second word is empty"):
        explore.similarity(vectors, "man", " ")
    for args, name in [(("", "man", "woman"), "word a"), (("king", "man", ""), "word c")]:
        with pytest.raises(CBOWInputError, match=f"The {name} is empty"):
            explore.analogy(vectors, *args)
    with pytest.raises(CBOWInputError, match="The word b is empty"):
        explore.analogy(vectors, "king", "", "woman")


def test_unknown_word_gets_close_spellings_and_the_vocabulary_size():
    vectors = hand_vectors()
    with pytest.raises(CBOWInputError) as err:
        explore.most_similar(vectors, "Appel")
    assert str(err.value) == "'Appel' is not in the vocabulary (9 words). Did you mean: apple?"
    with pytest.raises(CBOWInputError) as err:
        explore.most_similar(vectors, "zzzzzz")
    assert str(err.value) == "'zzzzzz' is not in the vocabulary (9 words)."


def test_suggestions_are_the_five_closest_spellings():
    words = ["cart", "carts", "card", "care", "cars", "carp", "dog"]
    vectors = hand_vectors({w: E[i] for i, w in enumerate(words)})
    near = explore.suggest(vectors, "carx")
    assert len(near) == 5 and set(near) <= {"cart", "carts", "card", "care", "cars", "carp"}
    assert explore.suggest(vectors, "dogs") == ["dog"]
    with pytest.raises(CBOWInputError) as err:
        explore.check_word(vectors, "carx")
    assert str(err.value).endswith(f"Did you mean: {', '.join(near)}?")
    assert explore.suggest(vectors, "elephant") == []


def test_unknown_word_suggests_words_by_spelling():
    vectors = load_model(quick_model("cbow")).vectors
    with pytest.raises(CBOWInputError, match=r"'polise' is not in the vocabulary.*police"):
        explore.most_similar(vectors, "polise")
    for word, message in [("", "empty"), ("x" * 51, "limit is 50"), ("two words", "spaces")]:
        with pytest.raises(CBOWInputError, match=message):
            explore.most_similar(vectors, word)


def test_explore_functions_answer_on_the_quick_vectors():
    vectors = load_model(quick_model("cbow")).vectors
    top = explore.most_similar(vectors, "Police", topk=5)  # queries are lowercased like the corpus
    assert len(top) == 5 and all(-1 <= s <= 1 for _, s in top) and "police" not in dict(top)
    assert explore.similarity(vectors, "police", "police") == pytest.approx(1.0, abs=1e-5)
    assert len(explore.analogy(vectors, "police", "man", "woman", topk=3)) == 3
    odd, scores = explore.odd_one_out(vectors, "police officers arrested cricket")
    assert odd in {w for w, _ in scores} and len(scores) == 4
    points = explore.neighbourhood(vectors, "police", topk=8, method="tsne")
    assert len(points) == 9 and points[0]["word"] == "police" and points[0]["query"]


# --- example queries: kept where the vocabulary has them, else its frequent words ------------
EXAMPLES = {
    "word": ("king",),
    "pair": ("man", "woman"),
    "analogy": ("king", "man", "woman"),
    "odd": ("france", "germany", "italy", "music"),
    "map": ("war",),
}


def vocabulary(words: list[str]) -> KeyedVectors:
    vectors = KeyedVectors(vector_size=3)
    rng = np.random.default_rng(0)
    vectors.add_vectors(words, rng.normal(size=(len(words), 3)).astype(np.float32))
    return vectors


def test_examples_are_kept_where_the_vocabulary_has_them_and_replaced_where_not():
    every = [w for words in EXAMPLES.values() for w in words]
    assert explore.examples(vocabulary([*every, "other"]), EXAMPLES) == EXAMPLES
    # a vocabulary of other words: frequent words of 4+ letters, most frequent first
    ex = explore.examples(
        vocabulary(["the", "of", "river", "a", "mountain", "3d", "valley", "lake", "sea"]),
        EXAMPLES,
    )
    assert ex["word"] == ("river",) and ex["pair"] == ("river", "mountain")
    assert ex["odd"] == ("river", "mountain", "valley", "lake") and ex["map"] == ("river",)
    # case kept: "King" is not "king"
    cased = explore.examples(
        vocabulary(["King", "Queen", "Man", "Woman", "War"]), EXAMPLES, lowercase=False
    )
    # ("Man" has three letters: it only fills the fourth place of the odd-one-out example)
    assert cased["word"] == ("King",) and cased["odd"] == ("King", "Queen", "Woman", "Man")
    # lower-cased like the corpus: "King" is asked as "king"
    assert explore.examples(vocabulary(every), {"word": ("King",)}) == {"word": ("King",)}


def test_a_tiny_vocabulary_still_gets_every_example_filled():
    ex = explore.examples(vocabulary(["a", "b", "c", "of", "to"]), EXAMPLES)
    assert ex["odd"] == ("a", "b", "c", "of") and ex["analogy"] == ("a", "b", "c")


def test_neighbour_ranks_count_the_nearer_words_by_hand():
    vectors = hand_vectors()
    # from king (e3 + e1), by cosine: prince 0.94; man and queen 0.5; every other word 0
    words = ["prince", "man", "queen", "apple", "new_york", "unknown"]
    ranks = explore.neighbour_ranks(vectors, "king", words)
    assert ranks["prince"] == 1
    assert {ranks["man"], ranks["queen"]} <= {2, 3}  # tied at 0.5, up to float rounding
    assert ranks["apple"] == ranks["new_york"] == 4  # prince, man and queen are nearer
    assert "unknown" not in ranks
    assert explore.neighbour_ranks(vectors, "king", ["king"]) == {}  # never its own neighbour
