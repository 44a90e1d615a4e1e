"""Word2Vec CBOW library: pairs, preparation, training, artifacts, exploration, evaluation."""

from __future__ import annotations

import codecs
import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import quick_model
from huggingface_hub import ModelCard

from shared.cbow import CBOWInputError, explore
from shared.cbow.corpus import (
    MAX_CORPUS_MB,
    MIN_TOKENS,
    PrepareOptions,
    builtin_corpus,
    prepare,
    read_text_file,
    tokenize_text,
    user_corpus,
)
from shared.cbow.evaluate import evaluate
from shared.cbow.pairs import course_pairs, gensim_pairs
from shared.cbow.scratch import train_scratch
from shared.cbow.vectors import (
    VECTORS_FILE,
    CBOWConfig,
    NegativeSamplingLoss,
    load_model,
    read_word2vec_binary,
    train,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


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


def test_quick_training_saves_and_reloads_identical_vectors(tmp_path):
    folder = quick_model("cbow")
    assert {p.name for p in folder.iterdir()} == {
        "README.md",
        "config.json",
        "metrics.json",
        VECTORS_FILE,
    }
    first, second = load_model(folder), load_model(folder)
    assert first.vectors.index_to_key == second.vectors.index_to_key
    assert np.array_equal(first.vectors.vectors, second.vectors.vectors)
    assert first.config.epochs == 10 and first.corpus["tokens"] > 50_000
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "gensim"
    spearman = card.data.eval_results[0].metric_value
    assert spearman == pytest.approx(first.metrics["wordsim353_spearman"])
    # and one more save of vectors trained here reproduces them bit for bit
    copy = tmp_path / "again.bin"
    first.vectors.save_word2vec_format(str(copy), binary=True)
    assert np.array_equal(read_word2vec_binary(copy).vectors, first.vectors.vectors)


def test_loss_falls_and_training_stops_at_the_time_cap():
    corpus = builtin_corpus(quick=True)  # Lee's news corpus: 58k tokens
    result = train(corpus.sentences, CBOWConfig(epochs=4, window=5, sample=1e-3))
    losses = [row["loss"] for row in result.history]
    assert len(losses) == 4 and losses[-1] < losses[0] - 0.2
    capped = train(corpus.sentences, CBOWConfig(epochs=15), max_seconds=0)
    assert len(capped.history) == 1 and "time limit" in capped.stop_reason


def test_negative_sampling_loss_is_the_textbook_formula():
    corpus = prepare(["a b c d e f g h " * 20])
    model = train(corpus.sentences, CBOWConfig(epochs=1, min_count=1, negative=2)).model
    loss = NegativeSamplingLoss(model, corpus.sentences)

    def log_sigmoid(x):
        return -np.log1p(np.exp(-x))

    by_hand = []
    for ctx, mask, target, noise in zip(
        loss.contexts, loss.mask, loss.targets, loss.noise, strict=True
    ):
        h = model.wv.vectors[ctx[mask > 0]].mean(0)
        by_hand.append(
            -log_sigmoid(h @ model.syn1neg[target])
            - sum(log_sigmoid(-h @ model.syn1neg[k]) for k in noise)
        )
    assert len(by_hand) > 50 and loss() == pytest.approx(np.mean(by_hand), rel=1e-5)


def test_evaluation_returns_numbers_in_range():
    metrics = load_model(quick_model("cbow")).metrics
    assert -1 <= metrics["wordsim353_spearman"] <= 1
    assert 0 <= metrics["wordsim353_oov_percent"] <= 100
    assert 0 <= metrics["analogy_accuracy"] <= 1 and metrics["analogy_questions"] > 0
    again = evaluate(load_model(quick_model("cbow")).vectors, analogies=False)
    assert again["wordsim353_spearman"] == pytest.approx(metrics["wordsim353_spearman"])


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


def test_from_scratch_cbow_learns_the_toy_sentences():
    result = train_scratch()
    assert result.losses[-1] < result.losses[0] / 10
    for context, target in result.pairs:
        assert result.predict(context)[0][0] == target


def test_loader_refuses_a_file_that_is_not_word2vec_binary(tmp_path):
    path = tmp_path / VECTORS_FILE
    path.write_bytes(b"999999999 300\n" + b"\0" * 100)
    with pytest.raises(CBOWInputError, match="does not fit"):
        read_word2vec_binary(path)
    path.write_bytes(b"hello world\n")
    with pytest.raises(CBOWInputError, match="not a word2vec binary file"):
        read_word2vec_binary(path)


def test_push_uploads_the_saved_folder_which_reloads(tmp_path, fake_hub):
    from training import cbow as trainer

    out = tmp_path / "model"
    full = tmp_path / "full" / "word2vec.model"
    trainer.main(
        ["--quick", "--out", str(out), "--push-to-hub", "me/cbow", "--full-model", str(full)]
    )
    calls = fake_hub["upload"]
    assert calls["repo_id"] == "me/cbow" and calls["folder_path"] == str(out)
    uploaded = {p.name for p in Path(calls["folder_path"]).iterdir()}
    assert uploaded == {"README.md", "config.json", "metrics.json", VECTORS_FILE}
    assert full.is_file()  # the pickle went elsewhere, so it is never pushed
    assert len(load_model(calls["folder_path"]).vectors) > 1000


def test_full_model_inside_the_output_folder_is_refused(tmp_path):
    from training import cbow as trainer

    with pytest.raises(SystemExit, match="outside --out"):
        trainer.main(["--quick", "--out", str(tmp_path), "--full-model", str(tmp_path / "m")])


def test_help_states_every_default(capsys):
    from training import cbow as trainer

    with pytest.raises(SystemExit):
        trainer.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag in ("--vector-size", "--window", "--negative", "--min-count", "--epochs", "--workers"):
        assert flag in text
    assert text.count("(default:") >= 12


def test_cli_trains_on_a_folder_of_text_files(tmp_path, capsys):
    from training import cbow as trainer

    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "a.txt").write_text("the king rules the land and the queen rules the sea\n" * 20)
    (texts / "b.txt").write_bytes(
        "the café opens and the king drinks coffee\n".encode("cp1252") * 20
    )
    out = trainer.main(["--corpus", str(texts), "--out", str(tmp_path / "m"), "--epochs", "2"])
    assert "b.txt' is not UTF-8" in capsys.readouterr().err
    loaded = load_model(out)
    assert "café" in loaded.vectors.key_to_index and loaded.corpus["name"] == str(texts)
    assert loaded.corpus["prepare"]["lowercase"] is True
    (texts / "a.txt").write_text("tiny")
    (texts / "b.txt").unlink()
    with pytest.raises(SystemExit, match="training needs at least 50"):
        trainer.main(["--corpus", str(texts), "--out", str(tmp_path / "m2")])
