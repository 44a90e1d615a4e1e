"""Train Word2Vec CBOW vectors with gensim, evaluate them and save a pickle-free artifact.

    python -m training.cbow --quick --out /tmp/cbow        # seconds: Lee's news corpus only
    python -m training.cbow                                # built-in corpus: CBOW + skip-gram
    python -m training.cbow --corpus builtin-small --architecture cbow   # no dictionary: faster
    python -m training.cbow --corpus my_texts/ --epochs 20 --stopwords --phrases
    python -m training.cbow --corpus big.txt --max-final-vocab 50000   # bound the vocabulary
    python -m training.cbow --corpus text8                 # online only: gensim-data's text8
    python -m training.cbow --push-to-hub you/cbow-word2vec

The output folder holds vectors.bin (word2vec binary), config.json, metrics.json and README.md;
with `--architecture both` (the default) also skipgram.bin, skip-gram vectors trained on the same
corpus, compared with CBOW in metrics.json's `skipgram` entry. The shipped vectors stay CBOW.
`--full-model PATH` also writes gensim's trainable model (a pickle) for local continued
training; it goes outside the output folder so it is never pushed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, fields, replace
from pathlib import Path

from shared.cbow import CBOWInputError
from shared.cbow.corpus import (
    Corpus,
    PrepareOptions,
    builtin_corpus,
    corpus_files,
    corpus_stats,
    prepare,
    read_text_file,
)
from shared.cbow.evaluate import evaluate, neighbours
from shared.cbow.vectors import (
    SKIPGRAM,
    SKIPGRAM_FILE,
    CBOWConfig,
    TrainResult,
    save_model,
    train,
)
from shared.training import add_common_args, maybe_push, output_dir, training_command

# --quick: Lee's 58k tokens alone. That few tokens need a shorter window and milder
# down-sampling than the built-in corpus's defaults to learn anything in 10 epochs (~1 s).
QUICK_SETTINGS = {"epochs": 10, "window": 5, "sample": 1e-3}
QUICK_SKIPGRAM = {"epochs": 3, "window": 5}  # an epoch costs ~window CBOW epochs: keep it short
BUILTIN_CORPORA = ("builtin", "builtin-small")
ARCHITECTURES = ("cbow", "skipgram", "both")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--corpus",
        default="builtin",
        help="'builtin': gensim's Wikipedia sample + Lee's news + the GCIDE dictionary's "
        "definitions (3M tokens); 'builtin-small': without the dictionary (0.5M tokens); "
        "'text8' downloads gensim-data's text8 (online only); else a .txt file or a folder",
    )
    parser.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        default="both",
        help="what to train on the corpus; 'both' ships CBOW and saves skip-gram beside it, "
        "compared in metrics.json",
    )
    parser.add_argument(
        "--skipgram-window",
        type=int,
        default=SKIPGRAM["window"],
        help="skip-gram's window, words on each side (--architecture skipgram or both)",
    )
    parser.add_argument(
        "--skipgram-epochs",
        type=int,
        default=SKIPGRAM["epochs"],
        help="skip-gram's passes over the corpus (--architecture skipgram or both)",
    )
    defaults = CBOWConfig()
    help_text = {
        "vector_size": "dimensions of each word vector",
        "window": "context words on EACH side (gensim's convention; the course's 2 is 1 here)",
        "negative": "noise words drawn per (context, target) pair",
        "min_count": "ignore words seen fewer times than this",
        "sample": "down-sampling threshold for frequent words",
        "alpha": "initial learning rate (decays linearly to min_alpha)",
        "min_alpha": "final learning rate",
        "epochs": "passes over the corpus",
        "workers": "training threads",
    }
    for name, text in help_text.items():
        value = getattr(defaults, name)
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=type(value), default=value, help=text
        )
    parser.add_argument(
        "--max-final-vocab",
        type=int,
        default=None,
        help="keep at most this many words, raising min_count as gensim does (the app caps "
        "it at min(50,000, 5M / vector size)); none: no cap",
    )
    parser.add_argument(
        "--keep-case", action="store_true", help="do not lowercase your corpus (--corpus only)"
    )
    parser.add_argument(
        "--stopwords", action="store_true", help="remove gensim's stop words (--corpus only)"
    )
    parser.add_argument(
        "--phrases",
        action="store_true",
        help="join frequent pairs with gensim Phrases (--corpus only)",
    )
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="stop after the epoch that passes this"
    )
    parser.add_argument(
        "--full-model",
        type=Path,
        default=None,
        help="also save gensim's trainable model (a pickle) here; must be outside --out",
    )
    add_common_args(parser, "cbow")
    return parser.parse_args(argv)


def load_corpus(args: argparse.Namespace) -> Corpus:
    options = PrepareOptions(
        lowercase=not args.keep_case,
        remove_stopwords=args.stopwords,
        phrases=args.phrases,
        min_count=args.min_count,
    )
    if args.corpus in BUILTIN_CORPORA:
        dictionary = args.corpus == "builtin"
        return builtin_corpus(quick=args.quick, min_count=args.min_count, dictionary=dictionary)
    if args.corpus == "text8":
        import gensim.downloader  # online only: fetches ~30 MB from gensim-data on first use

        sentences = [list(chunk) for chunk in gensim.downloader.load("text8")]
        return Corpus("text8", sentences, corpus_stats(sentences, args.min_count))
    texts = []
    for path in corpus_files(args.corpus):
        text, note = read_text_file(path)
        texts.append(text)
        if note:
            print(note, file=sys.stderr)
    return prepare(texts, options, name=str(args.corpus))


def configs(args: argparse.Namespace) -> dict[str, CBOWConfig]:
    """The settings of each architecture to train, CBOW first: it is the one shipped."""
    cbow = CBOWConfig(
        **{f.name: getattr(args, f.name) for f in fields(CBOWConfig) if hasattr(args, f.name)},
        lowercase=not args.keep_case,
    )
    skipgram = {"epochs": args.skipgram_epochs, "window": args.skipgram_window}
    if args.quick:
        cbow, skipgram = replace(cbow, **QUICK_SETTINGS), QUICK_SKIPGRAM
    wanted = ["cbow", "skipgram"] if args.architecture == "both" else [args.architecture]
    every = {"cbow": cbow, "skipgram": replace(cbow, **skipgram, sg=True)}
    return {name: every[name] for name in wanted}


def report(result: TrainResult) -> dict:
    """Scores, the run's summary and the course's query words' neighbours, for metrics.json."""
    return evaluate(result.vectors) | result.summary() | {"neighbours": neighbours(result.vectors)}


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    out = output_dir(args.out, "cbow")
    if args.full_model is not None and out.resolve() in args.full_model.resolve().parents:
        raise SystemExit("--full-model must be outside --out: the output folder gets pushed.")
    settings = configs(args)
    try:
        corpus = load_corpus(args)
        stats = corpus.stats
        for note in corpus.notes:
            print(note, file=sys.stderr)
        print(
            f"corpus: {stats.documents} documents, {stats.tokens} tokens, {stats.vocabulary} words"
        )
        # the same prepared sentences for each architecture, so the comparison is fair
        results = {
            name: train(corpus.sentences, config, max_seconds=args.max_seconds)
            for name, config in settings.items()
        }
    except CBOWInputError as err:
        raise SystemExit(str(err)) from None
    shipped, config = next(iter(settings.items()))
    result = results[shipped]
    metrics = report(result)
    print({k: v for k, v in metrics.items() if k != "neighbours"})
    metrics["history"] = result.history
    skipgram = None
    if len(results) == 2:  # CBOW shipped, skip-gram saved beside it and compared
        sg, sg_config = results["skipgram"], settings["skipgram"]
        entry = report(sg)
        print({"skipgram": {k: v for k, v in entry.items() if k != "neighbours"}})
        metrics["skipgram"] = entry | {
            "config": asdict(sg_config),
            "vectors": SKIPGRAM_FILE,
            "history": sg.history,
        }
        skipgram = (sg.vectors, sg_config)
    corpus_info = {
        "name": corpus.name,
        **{k: v for k, v in stats.as_dict().items() if k not in ("top_words", "phrases")},
        "prepare": asdict(corpus.options) if corpus.options else "gensim simple_preprocess",
        "notes": corpus.notes,
    }
    save_model(
        out,
        result.vectors,
        config,
        corpus=corpus_info,
        metrics=metrics,
        command=training_command("training.cbow"),
        skipgram=skipgram,
    )
    if args.full_model is not None:
        args.full_model.parent.mkdir(parents=True, exist_ok=True)
        result.model.save(str(args.full_model))  # a pickle: load it only if you wrote it
    print(f"saved to {out}")
    maybe_push(out, args.push_to_hub)
    return out


if __name__ == "__main__":
    main()
