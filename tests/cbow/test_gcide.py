"""The GCIDE dictionary reader (shared/cbow/gcide.py) and the built-in corpus's three sources."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

from shared.cbow import corpus, gcide

# Two headwords in the package's layout: three definitions, one with two examples, one empty
TINY = {
    "virus": {
        "entry": "virus",
        "pos": [
            {
                "part_of_speech": "n.",
                "etymology": "[L., poison.]",
                "definitions": [
                    {"text": "The causative agent of a disease.", "examples": []},
                    {
                        "text": "A program that copies itself;",
                        "examples": ["a virus wiped the disk", "Antivirus 2 found it."],
                    },
                ],
            }
        ],
    },
    "zymase": {
        "entry": "zymase",
        "pos": [
            {
                "part_of_speech": "n.",
                "etymology": "",
                "definitions": [
                    {"text": "An enzyme in yeast.", "examples": []},
                    {"text": "-- 42 --", "examples": []},  # no word: no document
                ],
            },
            {"part_of_speech": "adj.", "etymology": "", "definitions": []},
        ],
    },
}


# TINY's documents, worked out by hand (simple_preprocess drops one-letter words and digits)
DOCS = [
    ["virus", "the", "causative", "agent", "of", "disease"],
    ["virus", "program", "that", "copies", "itself"]
    + ["virus", "wiped", "the", "disk", "antivirus", "found", "it"],  # its two examples
    ["zymase", "an", "enzyme", "in", "yeast"],  # "-- 42 --" holds no word: no document
]


def test_one_document_per_definition_after_its_headword_with_its_examples():
    assert list(gcide.definition_documents(TINY)) == DOCS


def test_read_documents_reads_the_files_in_the_order_given(tmp_path):
    a, z = tmp_path / "words_A.json", tmp_path / "words_Z.json"
    a.write_text(json.dumps({"virus": TINY["virus"]}))
    z.write_text(json.dumps({"zymase": TINY["zymase"]}))
    assert gcide.read_documents([z, a]) == [DOCS[2], DOCS[0], DOCS[1]]


def test_the_installed_package_holds_26_data_files():
    files = gcide.data_files()
    assert files is not None and [f.name for f in files] == [
        f"words_{chr(c)}.json" for c in range(ord("A"), ord("Z") + 1)
    ]
    assert all(f.is_file() for f in files)


def missing(name):
    raise importlib.metadata.PackageNotFoundError(name)


def test_without_the_package_there_are_no_data_files(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    assert gcide.data_files() is None


@pytest.mark.slow
def test_the_builtin_corpus_lists_its_three_sources_with_the_licence():
    built = corpus.builtin_corpus(dictionary=True)
    sources = built.stats.sources
    assert [s.name for s in sources] == [corpus.WIKI_NAME, corpus.LEE_NAME, gcide.NAME]
    assert built.name == corpus.BUILTIN_NAME and built.notes == []
    assert sum(s.tokens for s in sources) == built.stats.tokens
    assert sum(s.documents for s in sources) == built.stats.documents
    assert sources[2].documents > 150_000 and sources[2].tokens > 2_000_000
    assert sources[2].licence.startswith("GPL-3.0-or-later")
    assert sources[0].licence is None and sources[1].licence is None
    assert built.stats.as_dict()["sources"][2]["licence"] == gcide.LICENCE


def test_without_the_package_the_builtin_corpus_is_the_two_gensim_corpora(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    built = corpus.builtin_corpus(dictionary=True)
    assert [s.name for s in built.stats.sources] == [corpus.WIKI_NAME, corpus.LEE_NAME]
    assert built.name == corpus.SMALL_NAME
    assert built.notes == [corpus.NO_DICTIONARY] and "not installed" in corpus.NO_DICTIONARY
    assert built.stats.tokens == sum(s.tokens for s in built.stats.sources) > 500_000


def test_builtin_small_leaves_the_dictionary_out_and_says_nothing_is_missing():
    small = corpus.builtin_corpus()  # the default, as the app asks for it today
    assert corpus.builtin_corpus(dictionary=False).stats == small.stats
    assert [s.name for s in small.stats.sources] == [corpus.WIKI_NAME, corpus.LEE_NAME]
    assert small.name == corpus.SMALL_NAME and small.notes == []
    quick = corpus.builtin_corpus(quick=True)
    assert [s.name for s in quick.stats.sources] == [corpus.LEE_NAME]
    assert quick.stats.sources[0].tokens == quick.stats.tokens


def test_words_are_gensims_simple_preprocess_on_the_real_definitions():
    from gensim.utils import simple_preprocess

    entries = json.loads(gcide.data_files()[0].read_text(encoding="utf-8"))  # words_A.json
    texts = [
        " ".join([d["text"], *d["examples"]])
        for entry in entries.values()
        for part in entry["pos"]
        for d in part["definitions"]
    ]
    texts += ["Ünïcode façade x_y _under 12abc a ab " + "z" * 16, "ÀB-cd'ef 3.5 ok"]
    assert len(texts) > 10_000
    assert [gcide.words(t) for t in texts] == [simple_preprocess(t) for t in texts]
