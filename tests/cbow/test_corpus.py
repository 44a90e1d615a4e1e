"""Corpus preparation (shared/cbow/corpus.py): statistics, phrases, bad text, the vocabulary cap."""

from __future__ import annotations

import codecs
import itertools

import pytest

from shared.cbow import CBOWInputError
from shared.cbow.corpus import (
    MAX_CORPUS_MB,
    MAX_VOCABULARY,
    MIN_TOKENS,
    PrepareOptions,
    capped_min_count,
    prepare,
    read_text_file,
    tokenize_text,
    user_corpus,
)
from shared.cbow.vectors import (
    MAX_VECTOR_CELLS,
    CBOWConfig,
    train,
    vocabulary_cap,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_preparation_statistics_on_a_small_text():
    text = "The cat sat on the mat.\n\nThe dog sat on the log. The cat ran!"
    corpus = prepare([text] * 3, PrepareOptions(min_count=4))
    s = corpus.stats
    assert s.documents == 6 and s.tokens == 3 * 15
    assert s.vocabulary == 8  # the cat sat on mat dog log ran
    assert s.top_words[0] == ("the", 15)
    assert s.kept_vocabulary == 4 and s.dropped_words == 4  # the, cat, sat, on are kept
    assert s.dropped_tokens == 4 * 3
    no_stop = prepare([text] * 3, PrepareOptions(min_count=1, remove_stopwords=True))
    assert no_stop.stats.stopwords_removed == 3 * 7  # the x4, on x2, and "the" again
    assert "the" not in {w for w, _ in no_stop.stats.top_words}


def test_phrases_join_frequent_pairs():
    filler = ["".join(letters) for letters in itertools.product("bcdfghkl", repeat=3)]
    text = "\n\n".join(f"{filler[i]} new york {filler[-i]}" for i in range(10))
    corpus = prepare([text, " ".join(filler)], PrepareOptions(phrases=True, min_count=2))
    assert "new_york" in corpus.stats.phrases


def test_keep_case_keeps_case():
    assert tokenize_text("King kings", lowercase=False) == ["King", "kings"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"   \n\n ", "is empty"),
        ("data.bin", b"hello", "not a .txt file"),
        ("nul.txt", b"abc\0def", "binary file"),
    ],
)
def test_bad_text_gets_a_message_that_names_it(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CBOWInputError, match=message):
        user_corpus([path])


@pytest.mark.parametrize(
    ("text", "message"),
    [("word " * 10, f"training needs at least {MIN_TOKENS}"), ("alpha beta " * 40, "min_count")],
)
def test_a_corpus_too_small_to_train_on_says_the_minimum(text, message):
    corpus = prepare([text])
    assert corpus.stats.tokens > 0  # preparation still reports what there is
    with pytest.raises(CBOWInputError, match=message):
        train(corpus.sentences, CBOWConfig(epochs=1))


def test_non_utf8_text_falls_back_and_says_so(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("café naïve déjà vu ".encode("cp1252") * 20)
    text, note = read_text_file(path)
    assert "café" in text and "not UTF-8" in note and "cp1252" in note
    assert user_corpus([path]).notes == [note]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_unicode_text_with_a_byte_order_mark_is_decoded_and_said(tmp_path, codec):
    path = tmp_path / "notepad.txt"
    text = "café naïve déjà vu, the king and the queen\n" * 20
    bom = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-32-be": codecs.BOM_UTF32_BE}.get(codec, b"")
    path.write_bytes(bom + text.encode(codec))  # utf-16 and utf-32 write their own BOM
    read, note = read_text_file(path)
    assert read.lstrip("\ufeff") == text
    assert note == f"'notepad.txt' is {codec[:6].upper()} text (it starts with a byte-order mark)."
    corpus = user_corpus([path])
    assert corpus.notes == [note] and corpus.stats.tokens == 20 * 9


ZH = "今天天气很好，我们一起去公园散步。公园里有很多人在跑步，还有孩子们在放风筝。\n"


def test_text_written_without_spaces_is_refused_with_what_the_tokenizer_found(tmp_path):
    path = tmp_path / "zh.txt"
    path.write_text(ZH * 30, encoding="utf-8")
    with pytest.raises(CBOWInputError) as info:
        user_corpus([path])
    assert str(info.value) == (
        "In zh.txt, words are not separated by spaces (Chinese, Japanese or Thai text?). The "
        "tokenizer splits words at spaces, digits and punctuation and keeps runs of letters, so "
        "it found 120 tokens of 4 distinct 'words', 8 letters long on average (the longest: "
        "'公园里有很多人在跑步'..., 10 letters). Put a space between the words first (a word "
        "segmenter such as jieba for Chinese does it), then load the text again."
    )
    segmented = "今天 天气 很 好 ， 我们 一起 去 公园 散步 。\n" * 30  # what jieba gives
    assert prepare([segmented]).stats.vocabulary == 9
    mixed = "The Beijing office (北京办事处很忙碌的) opened in May, and the team grew fast.\n" * 30
    assert prepare([mixed]).stats.tokens == 30 * 12  # a few long tokens among English words


def test_corpus_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as f:
        f.truncate(MAX_CORPUS_MB * 2**20 + 1)
    with pytest.raises(CBOWInputError, match=f"limit is {MAX_CORPUS_MB} MB"):
        user_corpus([path])


# counts 12, 11, 10, 9, 8, 7, 7, 6, 3 of nine words: 73 tokens
COUNTS = dict(zip("abcdefghi", [12, 11, 10, 9, 8, 7, 7, 6, 3], strict=True))
WORDS = {w: f"word{w}" for w in COUNTS}


def counted_text(counts: dict[str, int]) -> str:
    """Each word as often as `counts` says, interleaved so every word has neighbours."""
    rounds = max(counts.values())
    return "\n".join(" ".join(WORDS[w] for w, c in counts.items() if c > r) for r in range(rounds))


def made_up_words(n: int, length: int = 7) -> list[str]:
    """`n` distinct lowercase words of `length` letters (tokenize keeps runs of letters)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(p) for p in itertools.islice(itertools.product(letters, repeat=length), n)]


@pytest.mark.parametrize(
    ("cap", "min_count", "expected"),
    [
        (None, 2, 2),  # no cap: min_count as given
        (9, 2, 2),  # the cap holds every word
        (20, 1, 1),
        (8, 2, 4),  # the ninth word is seen 3 times: min_count 4 keeps eight
        (6, 2, 8),  # the seventh is tied with the sixth at 7: both go, five are kept
        (5, 2, 8),
        (4, 2, 9),
        (6, 9, 9),  # a min_count above the cap's keeps its own
        (0, 1, 13),
    ],
)
def test_capped_min_count_matches_gensims_rule(cap, min_count, expected):
    assert capped_min_count(COUNTS.values(), min_count, cap) == expected


@pytest.mark.parametrize(("cap", "kept", "used"), [(None, 9, 2), (8, 8, 4), (6, 5, 8)])
def test_preparation_and_training_agree_on_what_the_cap_drops(cap, kept, used):
    corpus = prepare([counted_text(COUNTS)], PrepareOptions(min_count=2, max_vocabulary=cap))
    s = corpus.stats
    assert (s.vocabulary, s.kept_vocabulary, s.vocabulary_cap) == (9, 9, cap)
    assert (s.capped_min_count, s.cap_dropped_words) == (used, 9 - kept)
    result = train(corpus.sentences, CBOWConfig(min_count=2, max_final_vocab=cap, epochs=1))
    assert len(result.vectors) == kept
    assert (result.min_count_used, result.cap_dropped_words) == (used, 9 - kept)
    assert result.summary()["min_count_used"] == used
    assert result.summary()["cap_dropped_words"] == 9 - kept
    expected = {WORDS[w] for w, c in COUNTS.items() if c >= used}
    assert set(result.vectors.key_to_index) == expected


def test_a_cap_that_leaves_too_few_words_says_what_it_did():
    text = " ".join(made_up_words(40) * 2)  # 40 words, each twice: all tied at the cut
    corpus = prepare([text], PrepareOptions(min_count=2))
    config = CBOWConfig(min_count=2, max_final_vocab=30, epochs=1)
    with pytest.raises(CBOWInputError) as err:
        train(corpus.sentences, config)
    assert str(err.value) == (
        "The vocabulary cap of 30 words raised min_count from 2 to 3, which leaves 0 words "
        "(words tied at the cut all go) and drops 40; training needs at least 5. Use text "
        "whose words repeat more often."
    )


def test_the_caps_numbers():
    assert MAX_VOCABULARY == 50_000 and MAX_VECTOR_CELLS == 5_000_000
    assert vocabulary_cap(10) == 50_000  # the word cap binds below 100 dimensions
    assert vocabulary_cap(100) == 50_000
    assert vocabulary_cap(101) == 49_504
    assert vocabulary_cap(300) == 16_666
