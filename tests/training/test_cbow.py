"""Every flag of `python -m training.cbow` runs, and the saved artifact carries what it asked."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import folder_files
from gensim.models import KeyedVectors

from shared.cbow import corpus as builtin
from shared.cbow import gcide
from shared.cbow.corpus import tokenize_text
from shared.cbow.vectors import SKIPGRAM, SKIPGRAM_FILE, VECTORS_FILE, LoadedVectors, load_model
from training import cbow as trainer

# the default --architecture both saves skip-gram's vectors beside CBOW's
ARTIFACT_FILES = {"README.md", "config.json", "metrics.json", VECTORS_FILE, SKIPGRAM_FILE}
# 608 tokens in 40 paragraphs: capitals for --keep-case, stop words for --stopwords, "new york"
# in 8 paragraphs for --phrases, and a name of its own in each, so that Phrases' vocabulary is
# large enough for "new york" to score over its threshold
NAMES = ["".join(p) for p in itertools.product("bklmt", "aeiou", "nrs")][:40]  # none is a stop word
ROWS = [
    (verb, place, animal, city, act)
    for verb, place in [("meets", "sea"), ("greets", "hills"), ("thanks", "river"),
                        ("calls", "town")]
    for animal, city in [("cat", "New York"), ("dog", "Paris"), ("horse", "Rome"),
                         ("bird", "Oslo"), ("fish", "Lima")]
    for act in ("sleep", "run")
]  # fmt: skip
CORPUS = "\n\n".join(
    f"The King of {city} {verb} the Queen of the {place} and {animal}s {act} with {name}."
    for (verb, place, animal, city, act), name in zip(ROWS, NAMES, strict=True)
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "kings.txt"
    path.write_text(CORPUS)
    return path


def run(corpus: Path, out: Path, *flags: str) -> LoadedVectors:
    """Train on `corpus` with `flags` (2 epochs unless they say otherwise); load the result."""
    epochs = [] if "--epochs" in flags or "--quick" in flags else ["--epochs", "2"]
    folder = trainer.main(["--corpus", str(corpus), "--out", str(out), *epochs, *flags])
    assert folder == out and {p.name for p in out.iterdir()} == ARTIFACT_FILES
    return load_model(out)


def counts(text: str = CORPUS) -> Counter:
    return Counter(tokenize_text(text))


def words(model: LoadedVectors) -> set[str]:
    return set(model.vectors.key_to_index)


def vector_size_16(m: LoadedVectors) -> None:
    assert m.vectors.vector_size == 16


def three_epochs(m: LoadedVectors) -> None:
    assert m.metrics["epochs_run"] == 3 and len(m.metrics["history"]) == 3


def seen_eleven_times(m: LoadedVectors) -> None:
    assert words(m) == {w for w, c in counts().items() if c >= 11}  # 8 words
    assert len(words(m)) == 8


def capped_at_eight(m: LoadedVectors) -> None:
    # the 9th most frequent word is seen 10 times, so min_count 11 keeps the top 8 of the 27
    # words seen at least 5 times (the default min_count)
    assert len(m.vectors) == 8
    assert (m.metrics["min_count_used"], m.metrics["cap_dropped_words"]) == (11, 19)


def case_kept(m: LoadedVectors) -> None:
    assert {"King", "Queen", "The"} <= words(m) and not {"king", "queen"} & words(m)


def no_stop_words(m: LoadedVectors) -> None:
    assert not {"the", "of", "and", "with"} & words(m)
    assert m.corpus["prepare"]["remove_stopwords"] is True
    assert m.corpus["tokens"] == 608 - (120 + 80 + 40 + 40)


def new_york_joined(m: LoadedVectors) -> None:
    assert "new_york" in words(m) and not {"new", "york"} & words(m)
    assert m.corpus["prepare"]["phrases"] is True
    assert m.corpus["tokens"] == 608 - 8  # each of the 8 "new york" became one token


def stopped_after_one_epoch(m: LoadedVectors) -> None:
    assert m.metrics["epochs_run"] == 1 and m.metrics["stop_reason"].startswith("time limit of 0 s")


# (flags, what the saved config must say, a check on the loaded vectors and metrics)
SETTINGS = [
    (["--vector-size", "16"], {"vector_size": 16}, vector_size_16),
    (["--window", "3"], {"window": 3}, None),
    (["--negative", "3"], {"negative": 3}, None),
    (["--sample", "0.01"], {"sample": 0.01}, None),
    (["--alpha", "0.05"], {"alpha": 0.05}, None),
    (["--min-alpha", "0.001"], {"min_alpha": 0.001}, None),
    (["--workers", "1"], {"workers": 1}, None),
    (["--seed", "7"], {"seed": 7}, None),
    (["--epochs", "3"], {"epochs": 3}, three_epochs),
    (["--min-count", "11"], {"min_count": 11}, seen_eleven_times),
    (["--max-final-vocab", "8"], {"max_final_vocab": 8}, capped_at_eight),
    (["--keep-case"], {"lowercase": False}, case_kept),
    (["--stopwords"], {}, no_stop_words),
    # Phrases needs a pair seen min_count times; "new york" is seen 8 times
    (["--phrases", "--min-count", "3"], {"min_count": 3}, new_york_joined),
    (["--max-seconds", "0", "--epochs", "5"], {"epochs": 5}, stopped_after_one_epoch),
]


@pytest.mark.parametrize(
    ("flags", "config", "check"), SETTINGS, ids=[" ".join(f) for f, _, _ in SETTINGS]
)
def test_each_flag_reaches_the_saved_model(corpus, tmp_path, flags, config, check):
    model = run(corpus, tmp_path / "model", *flags)
    saved = json.loads((tmp_path / "model" / "config.json").read_text())["cbow"]
    for key, value in config.items():
        assert saved[key] == value, key
        assert getattr(model.config, key) == value, key
    # nothing else moved from its default
    defaults = json.loads(json.dumps(trainer.CBOWConfig(epochs=2).__dict__))
    changed = {k for k in saved if saved[k] != defaults[k]} - {"epochs", "lowercase"}
    assert changed <= set(config)
    if check is not None:
        check(model)
    assert model.corpus["name"] == str(corpus)
    if not {"--stopwords", "--phrases"} & set(flags):
        assert model.corpus["tokens"] == sum(counts().values()) == 608


def test_the_seed_makes_a_single_thread_run_repeatable(corpus, tmp_path):
    first, again, other = (
        run(corpus, tmp_path / name, "--workers", "1", "--seed", seed).vectors
        for name, seed in [("a", "3"), ("b", "3"), ("c", "4")]
    )
    assert np.array_equal(first.vectors, again.vectors)
    assert not np.allclose(first.vectors, other.vectors)


def test_quick_trains_on_lee_with_its_short_settings(tmp_path):
    model = load_model(trainer.main(["--quick", "--out", str(tmp_path / "q")]))
    assert model.corpus["name"] == "Lee news corpus (quick)"
    assert model.config.epochs == 10 and model.config.window == 5 and model.config.sample == 1e-3
    assert model.metrics["epochs_run"] == 10 and len(model.vectors) > 1000


def test_corpus_text8_reads_gensim_data(tmp_path, monkeypatch):
    chunks = [tokenize_text(CORPUS)[i : i + 100] for i in range(0, 608, 100)]
    asked = []
    # the downloader's load is replaced: nothing is fetched (and conftest refuses any socket)
    monkeypatch.setattr("gensim.downloader.load", lambda name: asked.append(name) or chunks)
    model = load_model(trainer.main(["--corpus", "text8", "--out", str(tmp_path), "--epochs", "1"]))
    assert asked == ["text8"] and model.corpus["name"] == "text8"
    assert model.corpus["tokens"] == sum(map(len, chunks))


def test_push_to_hub_uploads_exactly_the_output_folder(corpus, tmp_path, fake_hub):
    out, full = tmp_path / "model", tmp_path / "elsewhere" / "word2vec.model"
    run(corpus, out, "--push-to-hub", "someone/cbow-kings", "--full-model", str(full))
    assert fake_hub["create"]["repo_id"] == "someone/cbow-kings"
    assert fake_hub["create"]["repo_type"] == "model"
    upload = fake_hub["upload"]
    assert upload["repo_id"] == "someone/cbow-kings" and upload["repo_type"] == "model"
    assert upload["folder_path"] == str(out)
    # what was uploaded, byte for byte, is the saved folder, and reloads as the same vectors
    uploaded = fake_hub["log"][-1][2]
    assert set(uploaded) == ARTIFACT_FILES
    assert uploaded == folder_files(out)
    assert full.is_file()  # the pickle went elsewhere, so it is never pushed
    copy = tmp_path / "downloaded"
    copy.mkdir()
    for name, data in uploaded.items():
        (copy / name).write_bytes(data)
    assert np.array_equal(load_model(copy).vectors.vectors, load_model(out).vectors.vectors)


def test_an_invalid_repo_id_stops_before_anything_is_uploaded(corpus, tmp_path, fake_hub):
    with pytest.raises(Exception, match="repo"):
        run(corpus, tmp_path / "model", "--push-to-hub", "not a repo id")
    assert "upload" not in fake_hub


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


def saved_files(out: Path) -> set[str]:
    return {p.name for p in out.iterdir()}


def test_architecture_both_ships_cbow_and_saves_skipgram_beside_it(corpus, tmp_path):
    out = tmp_path / "both"
    model = run(corpus, out, "--architecture", "both", "--skipgram-epochs", "3")
    assert model.config.sg is False and model.metrics["epochs_run"] == 2
    entry = model.metrics["skipgram"]
    assert entry["config"]["sg"] is True and entry["vectors"] == SKIPGRAM_FILE
    assert entry["config"]["epochs"] == entry["epochs_run"] == len(entry["history"]) == 3
    assert entry["config"]["window"] == SKIPGRAM["window"]  # the default --skipgram-window
    assert {"wordsim353_spearman", "wordsim353_oov_percent", "analogy_accuracy"} <= set(entry)
    assert entry["train_seconds"] > 0 and entry["vocabulary"] == len(model.vectors)
    # the same query words' neighbours, side by side
    assert set(entry["neighbours"]) == set(model.metrics["neighbours"]) == {"king"}
    assert len(entry["neighbours"]["king"]) == 10
    saved = json.loads((out / "config.json").read_text())
    assert saved["skipgram"] == entry["config"] and saved["skipgram_vectors"] == SKIPGRAM_FILE
    # both files load with stock gensim, no pickle involved, and hold different vectors
    cbow = KeyedVectors.load_word2vec_format(str(out / VECTORS_FILE), binary=True)
    skipgram = KeyedVectors.load_word2vec_format(str(out / SKIPGRAM_FILE), binary=True)
    assert cbow.index_to_key == skipgram.index_to_key == model.vectors.index_to_key
    assert np.array_equal(cbow.vectors, model.vectors.vectors)
    assert np.array_equal(skipgram.vectors, model.skipgram.vectors)
    assert not np.allclose(cbow.vectors, skipgram.vectors)
    assert "## Skip-gram beside CBOW" in (out / "README.md").read_text()


def test_architecture_cbow_trains_cbow_alone(corpus, tmp_path):
    out = trainer.main(
        ["--corpus", str(corpus), "--out", str(tmp_path), "--epochs", "2", "--architecture", "cbow"]
    )
    assert saved_files(out) == ARTIFACT_FILES - {SKIPGRAM_FILE}
    model = load_model(out)
    assert model.config.sg is False and "skipgram" not in model.metrics
    assert model.skipgram is None


def test_architecture_skipgram_ships_skipgram_with_its_window(corpus, tmp_path):
    out = trainer.main(
        [
            "--corpus",
            str(corpus),
            "--out",
            str(tmp_path),
            "--architecture",
            "skipgram",
            "--skipgram-window",
            "2",
            "--skipgram-epochs",
            "4",
        ]
    )
    assert saved_files(out) == ARTIFACT_FILES - {SKIPGRAM_FILE}
    model = load_model(out)
    assert model.config.sg is True and model.config.window == 2 and model.config.epochs == 4
    assert model.metrics["epochs_run"] == 4 and "skipgram" not in model.metrics
    saved = json.loads((out / "config.json").read_text())["cbow"]
    assert saved["sg"] is True and saved["window"] == 2
    assert "Skip-gram word vectors" in (out / "README.md").read_text()


def test_skipgram_window_reaches_the_skipgram_model_only(corpus, tmp_path):
    model = run(corpus, tmp_path / "w", "--window", "3", "--skipgram-window", "1")
    assert model.config.window == 3 and model.metrics["skipgram"]["config"]["window"] == 1


def fake_sources(source: str) -> tuple[tuple[str, ...], ...]:
    """Each built-in source as a tiny corpus of its own words, so a test trains in a second."""
    words = {builtin.WIKI_NAME: "wiki", builtin.LEE_NAME: "lee", gcide.NAME: "dict"}[source]
    return tuple((words, f"{words}{i % 7}", "the", "king") for i in range(60))


@pytest.mark.parametrize(
    ("flag", "name", "sources"),
    [
        ("builtin", builtin.BUILTIN_NAME, [builtin.WIKI_NAME, builtin.LEE_NAME, gcide.NAME]),
        ("builtin-small", builtin.SMALL_NAME, [builtin.WIKI_NAME, builtin.LEE_NAME]),
    ],
)
def test_corpus_builtin_or_small_names_its_sources(tmp_path, monkeypatch, flag, name, sources):
    monkeypatch.setattr(builtin, "source_documents", fake_sources)
    out = trainer.main(
        [
            "--corpus",
            flag,
            "--out",
            str(tmp_path),
            "--epochs",
            "1",
            "--min-count",
            "1",
            "--architecture",
            "cbow",
        ]
    )
    model = load_model(out)
    assert model.corpus["name"] == name and model.corpus["tokens"] == 240 * len(sources)
    assert [s["name"] for s in model.corpus["sources"]] == sources
    assert all(s["tokens"] == 240 and s["documents"] == 60 for s in model.corpus["sources"])
    assert ("dict" in model.vectors.key_to_index) == (flag == "builtin")
    card = (out / "README.md").read_text()
    assert "## Training data" in card and all(f"| {s} | 60 | 240 |" in card for s in sources)
    assert (gcide.LICENCE in card) == (flag == "builtin")


def test_corpus_builtin_without_the_package_falls_back_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(builtin, "source_documents", fake_sources)
    monkeypatch.setattr(gcide, "data_files", lambda: None)
    out = trainer.main(
        ["--out", str(tmp_path), "--epochs", "1", "--min-count", "1", "--architecture", "cbow"]
    )
    model = load_model(out)
    assert model.corpus["name"] == builtin.SMALL_NAME
    assert model.corpus["notes"] == [builtin.NO_DICTIONARY]
    assert builtin.NO_DICTIONARY in capsys.readouterr().err
