"""shared/cbow/vectors.py in detail: the training loop's schedule, the loss sample, the artifact.

Small corpora built here, so each test trains in well under a second.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import quick_model
from gensim.models import KeyedVectors, Word2Vec
from huggingface_hub import ModelCard

from shared.cbow import CBOWInputError
from shared.cbow.corpus import MIN_TOKENS, MIN_VOCABULARY, builtin_corpus, prepare
from shared.cbow.vectors import (
    LOSS_PAIRS,
    SKIPGRAM_FILE,
    VECTORS_FILE,
    WORD_BYTES,
    CBOWConfig,
    NegativeSamplingLoss,
    TrainResult,
    eval_results,
    footprint,
    load_model,
    read_word2vec_binary,
    save_model,
    train,
)
from shared.errors import UserInputError

LETTERS = list("abcdefgh")
SENTENCES = [LETTERS] * 20  # 160 tokens, 8 words, each 20 times


def test_the_learning_rate_falls_linearly_over_all_epochs(monkeypatch):
    calls = []
    original = Word2Vec.train

    def spy(self, *args, **kwargs):
        calls.append((kwargs["start_alpha"], kwargs["end_alpha"], kwargs["epochs"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Word2Vec, "train", spy)
    train(SENTENCES, CBOWConfig(epochs=4, alpha=0.05, min_alpha=0.01, min_count=1))
    # 0.05 down to 0.01 in 4 equal steps of 0.01, one gensim call per epoch
    expected = [(0.05, 0.04, 1), (0.04, 0.03, 1), (0.03, 0.02, 1), (0.02, 0.01, 1)]
    assert len(calls) == 4
    for got, want in zip(calls, expected, strict=True):
        assert got == pytest.approx(want)


def test_each_epoch_reports_a_row_and_the_history_keeps_them():
    rows = []
    result = train(SENTENCES, CBOWConfig(epochs=3, min_count=1), on_epoch=rows.append)
    assert [r["epoch"] for r in rows] == [1, 2, 3] and result.history == rows
    assert all(set(r) == {"epoch", "loss", "gensim_loss", "seconds"} for r in rows)
    assert all(r["gensim_loss"] > 0 for r in rows)  # compute_loss is on
    assert all(0 < r["loss"] < 20 for r in rows)
    seconds = [r["seconds"] for r in rows]
    assert seconds == sorted(seconds) and seconds[0] > 0
    assert result.stop_reason == "finished"
    assert result.summary() == {
        "train_seconds": seconds[-1],
        "epochs_run": 3,
        "stop_reason": "finished",
        "vocabulary": 8,
        "min_count_used": 1,
        "cap_dropped_words": 0,
    }


def test_the_loss_is_measured_on_the_sample_the_seed_picks():
    config = CBOWConfig(epochs=2, min_count=1, seed=3)
    result = train(SENTENCES, config)
    final = NegativeSamplingLoss(result.model, SENTENCES, seed=3)()
    assert result.history[-1]["loss"] == pytest.approx(final, rel=1e-9)
    assert NegativeSamplingLoss(result.model, SENTENCES, seed=0)() != pytest.approx(final, rel=1e-9)


def test_the_progress_bar_counts_epochs_and_shows_the_loss(monkeypatch):
    from shared.cbow import vectors

    bars = []

    class Bar:  # records what tqdm would draw (tests run with TQDM_DISABLE)
        def __init__(self, iterable, **kwargs):
            self.iterable, self.kwargs, self.postfixes, self.closed = iterable, kwargs, [], False
            bars.append(self)

        def __iter__(self):
            return iter(self.iterable)

        def set_postfix(self, **kwargs):
            self.postfixes.append(kwargs)

        def close(self):
            self.closed = True

    monkeypatch.setattr(vectors, "tqdm", Bar)
    result = train(SENTENCES, CBOWConfig(epochs=3, min_count=1))
    (bar,) = bars
    assert list(bar.iterable) == [1, 2, 3] and bar.kwargs == {"desc": "cbow", "unit": "epoch"}
    assert bar.postfixes == [{"loss": f"{row['loss']:.4f}"} for row in result.history]
    assert bar.closed


def test_the_time_cap_stops_after_the_epoch_that_passes_it():
    capped = train(SENTENCES, CBOWConfig(epochs=5, min_count=1), max_seconds=0)
    assert capped.stop_reason == "time limit of 0 s after 1 epochs"
    assert len(capped.history) == 1 and capped.summary()["epochs_run"] == 1
    # the last epoch finishes the run: no time limit to report
    single = train(SENTENCES, CBOWConfig(epochs=1, min_count=1), max_seconds=0)
    assert single.stop_reason == "finished"
    generous = train(SENTENCES, CBOWConfig(epochs=2, min_count=1), max_seconds=600)
    assert generous.stop_reason == "finished" and len(generous.history) == 2


def test_an_empty_result_summarises_to_zero_seconds():
    vectors = KeyedVectors(4)
    result = TrainResult(vectors=vectors, model=None)
    assert result.summary()["train_seconds"] == 0.0 and result.summary()["epochs_run"] == 0


def test_settings_reach_gensim():
    config = CBOWConfig(vector_size=12, window=3, negative=4, min_count=2, epochs=1, seed=5)
    result = train(SENTENCES, config)
    model = result.model
    assert (model.vector_size, model.window, model.negative, model.sg) == (12, 3, 4, 0)
    assert (model.min_count, model.seed, model.epochs) == (2, 5, 1)
    assert result.vectors.vector_size == 12
    kwargs = config.gensim_kwargs()
    assert "lowercase" not in kwargs and kwargs["max_final_vocab"] is None
    assert set(kwargs) == set(CBOWConfig.__dataclass_fields__) - {"lowercase"}


def test_config_from_dict_ignores_keys_it_does_not_know():
    config = CBOWConfig.from_dict({"window": 3, "lowercase": False, "future_setting": 1})
    assert config == CBOWConfig(window=3, lowercase=False)


@pytest.mark.parametrize(
    ("tokens", "words", "message"),
    [
        (MIN_TOKENS - 1, MIN_VOCABULARY, f"has {MIN_TOKENS - 1} words after preparation"),
        (MIN_TOKENS, MIN_VOCABULARY - 1, f"Only {MIN_VOCABULARY - 1} distinct words"),
        (MIN_TOKENS, MIN_VOCABULARY, None),
    ],
)
def test_the_smallest_trainable_corpus(tokens, words, message):
    sentence = [LETTERS[i % words] for i in range(tokens)]
    config = CBOWConfig(min_count=1, epochs=1)
    if message is None:
        assert len(train([sentence], config).vectors) == words
    else:
        with pytest.raises(CBOWInputError, match=message):
            train([sentence], config)


def test_too_few_words_names_min_count():
    with pytest.raises(CBOWInputError) as err:
        train([LETTERS[:4] * 20], CBOWConfig(min_count=3, epochs=1))
    assert str(err.value) == (
        "Only 4 distinct words occur at least 3 times; training needs at least 5. Add text or "
        "lower min_count."
    )
    with pytest.raises(CBOWInputError) as err:
        train([["a"] * 10], CBOWConfig(min_count=1, epochs=1))
    assert str(err.value) == (
        "The corpus has 10 words after preparation; training needs at least 50. Add more text."
    )


# --- the loss sample: real (context, target) windows of the corpus ---------------------------


def model_for(sentences, window=2, negative=3) -> Word2Vec:
    return train(
        sentences, CBOWConfig(min_count=1, epochs=1, window=window, negative=negative)
    ).model


@pytest.mark.parametrize("window", [1, 2, 3])
def test_loss_pairs_are_the_windows_gensim_trains_on(window):
    model = model_for(SENTENCES, window=window)
    loss = NegativeSamplingLoss(model, SENTENCES)
    index = model.wv.key_to_index
    ids = [index[w] for w in LETTERS]
    # every sentence is a-h, so a target's context is fixed by its position
    expected = {ids[p]: ids[max(0, p - window) : p] + ids[p + 1 : p + 1 + window] for p in range(8)}
    # 20 sentences of 8 words: each gives all 8 of its pairs (4096 // 20 + 1 = 205 allowed)
    assert len(loss.targets) == 160
    assert sorted(np.bincount(loss.targets, minlength=8)) == [20] * 8
    for target, context, mask in zip(loss.targets, loss.contexts, loss.mask, strict=True):
        width = int(mask.sum())
        assert list(mask) == [1.0] * width + [0.0] * (len(mask) - width)
        assert list(context[:width]) == expected[target]
        assert not context[width:].any()  # padding is index 0 under a zero mask
    assert loss.contexts.shape[1] == 2 * window


def test_loss_samples_at_most_256_sentences_and_about_4096_pairs():
    rng = np.random.default_rng(1)
    many = [list(rng.permutation(LETTERS)) for _ in range(300)]
    loss = NegativeSamplingLoss(model_for(many), many)
    assert len(loss.targets) == 256 * 8  # 256 sentences, 17 pairs allowed each, 8 there
    long = [list(rng.choice(LETTERS, size=300)) for _ in range(20)]
    loss = NegativeSamplingLoss(model_for(long), long)
    assert len(loss.targets) == 20 * (LOSS_PAIRS // 20 + 1)  # 205 of each sentence's 300


def test_loss_takes_every_pair_of_every_sentence_once_when_they_fit():
    rng = np.random.default_rng(2)
    distinct = [list(rng.permutation(LETTERS)) for _ in range(20)]  # 20 different sentences
    model = model_for(distinct, window=1)
    loss = NegativeSamplingLoss(model, distinct)
    index = model.wv.key_to_index
    expected = sorted(
        (index[s[p]], tuple(index[w] for w in s[max(0, p - 1) : p] + s[p + 1 : p + 2]))
        for s in distinct
        for p in range(8)
    )
    got = sorted(
        (int(t), tuple(int(i) for i in c[: int(m.sum())]))
        for t, c, m in zip(loss.targets, loss.contexts, loss.mask, strict=True)
    )
    assert got == expected  # sentences drawn without replacement: none twice, none missed
    default = NegativeSamplingLoss(model, distinct)  # the default seed is 0
    assert np.array_equal(default.noise, NegativeSamplingLoss(model, distinct, seed=0).noise)


def test_noise_words_are_drawn_per_pair_from_the_vocabulary():
    model = model_for(SENTENCES, negative=4)
    loss = NegativeSamplingLoss(model, SENTENCES, seed=3)
    assert loss.noise.shape == (160, 4)
    assert loss.noise.min() >= 0 and loss.noise.max() < 8
    assert len(np.unique(loss.noise)) == 8  # 640 draws over 8 equally frequent words
    again = NegativeSamplingLoss(model, SENTENCES, seed=3)
    assert np.array_equal(again.noise, loss.noise) and np.array_equal(again.targets, loss.targets)
    other = NegativeSamplingLoss(model, SENTENCES, seed=4)
    assert not np.array_equal(other.noise, loss.noise)


def test_loss_without_any_pair_is_nan():
    model = model_for(SENTENCES)
    assert math.isnan(NegativeSamplingLoss(model, [["a"], ["b"]])())


def test_loss_matches_the_formula_for_one_pair_by_hand():
    model = model_for(SENTENCES, window=1, negative=1)
    loss = NegativeSamplingLoss(model, SENTENCES)
    target, context, noise = loss.targets[0], loss.contexts[0], loss.noise[0]
    width = int(loss.mask[0].sum())
    h = model.wv.vectors[context[:width]].mean(0)
    syn1 = model.syn1neg
    by_hand = np.logaddexp(0, -h @ syn1[target]) + np.logaddexp(0, h @ syn1[noise[0]])
    loss.targets, loss.contexts = loss.targets[:1], loss.contexts[:1]
    loss.mask, loss.noise = loss.mask[:1], loss.noise[:1]
    assert loss() == pytest.approx(float(by_hand), rel=1e-6)


# --- the artifact -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cbow") / "not" / "there" / "model"  # made as needed
    corpus = prepare([" ".join(LETTERS * 20)])
    config = CBOWConfig(vector_size=8, window=2, min_count=2, epochs=2, lowercase=False)
    result = train(corpus.sentences, config)
    metrics = {"wordsim353_spearman": 0.25, "analogy_accuracy": None, "epochs_run": 2}
    corpus_info = {"name": "letters", "tokens": 160, "prepare": "by hand"}
    metrics |= {"history": result.history}
    save_model(
        folder,
        result.vectors,
        config,
        corpus=corpus_info,
        metrics=metrics,
        command="python -m x --y",
    )
    return folder, result, config


def test_saved_folder_holds_vectors_config_metrics_and_card(saved):
    folder, result, config = saved
    assert {p.name for p in folder.iterdir()} == {
        "README.md",
        "config.json",
        "metrics.json",
        VECTORS_FILE,
    }
    data = json.loads((folder / "config.json").read_text())
    assert data["cbow"] == {**CBOWConfig().__dict__, **config.__dict__}
    assert data["corpus"] == {"name": "letters", "tokens": 160, "prepare": "by hand"}
    assert data["vectors"] == VECTORS_FILE
    assert data["format"] == (
        "word2vec binary (KeyedVectors.load_word2vec_format(path, binary=True))"
    )
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics == {
        "wordsim353_spearman": 0.25,
        "analogy_accuracy": None,
        "epochs_run": 2,
        "history": json.loads(json.dumps(result.history)),
    }
    card = ModelCard.load(folder / "README.md")
    assert card.data.library_name == "gensim" and card.data.model_name == "Word2Vec CBOW"
    assert card.text.lstrip().startswith("# Word2Vec CBOW\n")
    assert card.data.tags == ["word2vec", "cbow", "word-embeddings"]
    assert card.data.datasets == ["letters"]
    assert (
        "CBOW word vectors (8 words, 8 dimensions) trained with gensim on letters (160 tokens)."
        in (card.text)
    )
    assert "python -m x --y" in card.text
    assert f'hf_hub_download("ORG/NAME", "{VECTORS_FILE}")' in card.text
    assert "KeyedVectors.load_word2vec_format(path, binary=True)" in card.text


def test_saved_folder_loads_back_exactly(saved):
    folder, result, config = saved
    loaded = load_model(folder)
    assert loaded.config == config and loaded.folder == folder.resolve()
    assert loaded.corpus == {"name": "letters", "tokens": 160, "prepare": "by hand"}
    assert loaded.metrics["wordsim353_spearman"] == 0.25 and len(loaded.metrics["history"]) == 2
    assert loaded.vectors.index_to_key == result.vectors.index_to_key
    assert np.array_equal(loaded.vectors.vectors, result.vectors.vectors)


def test_a_folder_without_metrics_or_settings_loads_with_defaults(saved, tmp_path):
    folder, result, _ = saved
    copy = tmp_path / "bare"
    copy.mkdir()
    (copy / VECTORS_FILE).write_bytes((folder / VECTORS_FILE).read_bytes())
    (copy / "config.json").write_text("{}")
    loaded = load_model(copy)
    assert loaded.metrics == {} and loaded.corpus == {} and loaded.config == CBOWConfig()
    assert np.array_equal(loaded.vectors.vectors, result.vectors.vectors)


def test_a_folder_without_vectors_names_the_missing_file(saved, tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserInputError, match=VECTORS_FILE):
        load_model(tmp_path)


def test_model_index_lists_the_metrics_that_were_computed():
    metrics = {
        "wordsim353_spearman": 0.5,
        "analogy_accuracy": 0.25,
        "analogy_restrict_vocab": 10000,
    }
    first, second = eval_results(metrics)
    assert (first.task_type, first.dataset_type, first.dataset_name) == (
        "word-embeddings",
        "wordsim353",
        "WordSim353",
    )
    assert (first.metric_type, first.metric_name, first.metric_value) == (
        "spearmanr",
        "Spearman",
        0.5,
    )
    assert (second.task_type, second.dataset_type, second.dataset_name) == (
        "word-embeddings",
        "google-analogies",
        "Google analogies",
    )
    assert (second.metric_type, second.metric_name, second.metric_value) == (
        "accuracy",
        "Accuracy (top 10000 words)",
        0.25,
    )
    only = eval_results({"wordsim353_spearman": None, "analogy_accuracy": 0.1})
    assert [r.dataset_type for r in only] == ["google-analogies"]
    assert eval_results({}) == []


# --- the word2vec binary reader ----------------------------------------------------------------


def write_vectors(path, words: list[str], dim: int) -> KeyedVectors:
    vectors = KeyedVectors(dim)
    vectors.add_vectors(words, np.arange(len(words) * dim, dtype=np.float32).reshape(-1, dim))
    vectors.save_word2vec_format(str(path), binary=True)
    return vectors


@pytest.mark.parametrize(("words", "dim"), [(["a", "b"], 10_000), (["only"], 3), (["x"], 1)])
def test_reader_accepts_any_real_file_up_to_the_widest_vectors(tmp_path, words, dim):
    path = tmp_path / VECTORS_FILE
    written = write_vectors(path, words, dim)
    read = read_word2vec_binary(path)
    assert read.index_to_key == words and np.array_equal(read.vectors, written.vectors)


def test_reader_reads_at_most_64_bytes_looking_for_the_header(tmp_path):
    path = tmp_path / VECTORS_FILE
    path.write_bytes(b"1" + b" " * 100 + b"4\n" + b"a " + b"\0" * 16)  # no newline for 100 bytes
    with pytest.raises(CBOWInputError, match="its first line is not 'words dims'"):
        read_word2vec_binary(path)


@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        (b"1 10001\n", b"a " + b"\0" * 40_004, "claims 1 words x 10001 dims"),
        (b"0 5\n", b"\0" * 100, "claims 0 words x 5 dims"),
        (b"5 0\n", b"\0" * 100, "claims 5 words x 0 dims"),
        # 3 rows of at least 1 + 1 + 16 bytes need 54; the file has 44
        (b"3 4\n", b"a " + b"\0" * 18 + b"b " + b"\0" * 18, "claims 3 words x 4 dims"),
        (b"-2 4\n", b"\0" * 100, "claims -2 words"),
        (b"2 x\n", b"\0" * 100, "its first line is not 'words dims'"),
        (b"2\n", b"\0" * 100, "its first line is not 'words dims'"),
        (b"1 2 3\n", b"\0" * 100, "its first line is not 'words dims'"),
    ],
)
def test_reader_refuses_headers_that_do_not_fit(tmp_path, header, body, message):
    path = tmp_path / VECTORS_FILE
    path.write_bytes(header + body)
    with pytest.raises(CBOWInputError, match=message):
        read_word2vec_binary(path)


def test_reader_turns_a_corrupt_body_into_a_message(tmp_path):
    path = tmp_path / VECTORS_FILE
    path.write_bytes(b"2 1\n\xff\xfe " + b"\0" * 4 + b"\xff\xfd " + b"\0" * 4)  # not UTF-8 words
    with pytest.raises(CBOWInputError, match=f"{VECTORS_FILE} is not a valid word2vec binary file"):
        read_word2vec_binary(path)


def test_footprint_is_the_matrix_plus_each_words_bookkeeping(tmp_path):
    vectors = write_vectors(tmp_path / "v.bin", ["a", "b", "c"], 7)
    assert footprint(vectors) == 3 * 7 * 4 + 3 * WORD_BYTES


def test_quick_training_saves_and_reloads_identical_vectors(tmp_path):
    folder = quick_model("cbow")
    assert {p.name for p in folder.iterdir()} == {
        "README.md",
        "config.json",
        "metrics.json",
        VECTORS_FILE,
        SKIPGRAM_FILE,  # --architecture both is the default
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
    assert uploaded == {"README.md", "config.json", "metrics.json", VECTORS_FILE, SKIPGRAM_FILE}
    assert full.is_file()  # the pickle went elsewhere, so it is never pushed
    assert len(load_model(calls["folder_path"]).vectors) > 1000


def test_full_model_inside_the_output_folder_is_refused(tmp_path):
    from training import cbow as trainer

    with pytest.raises(SystemExit, match="outside --out"):
        trainer.main(["--quick", "--out", str(tmp_path), "--full-model", str(tmp_path / "m")])


# --- skip-gram beside CBOW --------------------------------------------------------------------


def test_sg_trains_skipgram_on_the_same_sentences():
    config = CBOWConfig(epochs=2, min_count=1, window=2, sg=True)
    assert config.gensim_kwargs()["sg"] == 1 and CBOWConfig().gensim_kwargs()["sg"] == 0
    result = train(SENTENCES, config)
    assert result.model.sg == 1 and len(result.history) == 2
    assert all(0 < row["loss"] < 20 for row in result.history)
    cbow = train(SENTENCES, CBOWConfig(epochs=2, min_count=1, window=2))
    assert cbow.model.sg == 0 and cbow.vectors.index_to_key == result.vectors.index_to_key


def test_skipgram_loss_predicts_one_context_word_from_the_target():
    model = train(SENTENCES, CBOWConfig(epochs=1, min_count=1, window=2, sg=True)).model
    loss = NegativeSamplingLoss(model, SENTENCES, seed=1)
    index = model.wv.key_to_index
    position = {index[w]: p for p, w in enumerate(LETTERS)}  # every sentence is a-h
    assert loss.contexts.shape == (160, 1) and loss.mask.tolist() == [[1.0]] * 160
    for (centre,), word in zip(loss.contexts, loss.targets, strict=True):
        assert 0 < abs(position[centre] - position[word]) <= 2  # a word of the centre's window
    # by hand: the target's own vector against the context word's and the noise words' outputs
    syn0, syn1 = model.wv.vectors, model.syn1neg
    by_hand = [
        np.logaddexp(0, -syn0[c] @ syn1[t]) + sum(np.logaddexp(0, syn0[c] @ syn1[k]) for k in n)
        for (c,), t, n in zip(loss.contexts, loss.targets, loss.noise, strict=True)
    ]
    assert loss() == pytest.approx(float(np.mean(by_hand)), rel=1e-5)


def test_skipgram_vectors_are_saved_beside_and_load_with_stock_gensim(tmp_path):
    corpus = prepare([" ".join(LETTERS * 20)])
    cbow_config = CBOWConfig(vector_size=8, window=2, min_count=2, epochs=2)
    sg_config = CBOWConfig(vector_size=8, window=1, min_count=2, epochs=3, sg=True)
    cbow, sg = train(corpus.sentences, cbow_config), train(corpus.sentences, sg_config)
    metrics = {"skipgram": {"config": sg_config.__dict__, "train_seconds": 1.5}}
    save_model(
        tmp_path,
        cbow.vectors,
        cbow_config,
        corpus={"name": "letters", "tokens": 160},
        metrics=metrics | {"wordsim353_spearman": None},
        command="x",
        skipgram=(sg.vectors, sg_config),
    )
    stock = KeyedVectors.load_word2vec_format(str(tmp_path / SKIPGRAM_FILE), binary=True)
    assert np.array_equal(stock.vectors, sg.vectors.vectors)
    stock = KeyedVectors.load_word2vec_format(str(tmp_path / VECTORS_FILE), binary=True)
    assert np.array_equal(stock.vectors, cbow.vectors.vectors)
    loaded = load_model(tmp_path)
    assert loaded.config == cbow_config
    assert np.array_equal(loaded.skipgram.vectors, sg.vectors.vectors)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["skipgram"] == sg_config.__dict__ and saved["skipgram_vectors"] == SKIPGRAM_FILE
    card = (tmp_path / "README.md").read_text()
    assert "## Skip-gram beside CBOW" in card and "window\n1, 3 epochs, 2 s" in card
    assert "WordSim353 Spearman n/a" in card


def test_the_sparse_loss_equals_the_dense_average_on_a_wide_window():
    rng = np.random.default_rng(5)
    sentences = [list(rng.choice(LETTERS, size=60)) for _ in range(30)]
    model = model_for(sentences, window=15, negative=5)
    loss = NegativeSamplingLoss(model, sentences)
    assert loss.contexts.shape[1] == 30
    syn0, syn1 = model.wv.vectors.astype(np.float64), model.syn1neg
    h = np.einsum("nc,ncd->nd", loss.mask, syn0[loss.contexts]) / loss.mask.sum(1, keepdims=True)
    dense = np.logaddexp(0, -np.einsum("nd,nd->n", h, syn1[loss.targets])) + np.logaddexp(
        0, np.einsum("nd,nkd->nk", h, syn1[loss.noise])
    ).sum(1)
    assert loss() == pytest.approx(float(dense.mean()), rel=1e-5)
