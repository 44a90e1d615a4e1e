"""Step (c), training: gensim CBOW with a per-epoch loss, a time cap, and pickle-free artifacts.

An artifact folder holds ``vectors.bin`` (word2vec binary format, which loads without
unpickling), ``config.json``, ``metrics.json`` and a model card. gensim's own ``.model`` files
are pickles: the full trainable model is written only on request, for local continued training,
and nothing here ever loads one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors, Word2Vec
from huggingface_hub import EvalResult
from scipy.sparse import csr_matrix
from tqdm.auto import tqdm

from shared.cbow import CBOWInputError
from shared.cbow.corpus import MAX_VOCABULARY, MIN_TOKENS, MIN_VOCABULARY, sources_table
from shared.hub import load_json, resolve_source, save_json, write_model_card

VECTORS_FILE = "vectors.bin"
SKIPGRAM_FILE = "skipgram.bin"  # skip-gram vectors trained beside the shipped CBOW ones
FULL_MODEL_FILE = "word2vec.model"  # a pickle: local continued training only, never loaded here
LOSS_PAIRS = 4096  # (context, target) pairs scored after each epoch: a steady loss in ~10 ms
# What one app session's vectors may hold, vector_size x vocabulary: 5M float32s are 19 MB, the
# MAX_VOCABULARY words at the default 100 dimensions, or 16,666 words at 300. The built-in
# corpus at min_count 5 (36,312 words) fits up to 137 dimensions; past that the cap raises
# its min_count. Measured for the largest
# (50,000 words x 100): +48 MB of RSS at the peak of training, +29 MB kept afterwards.
MAX_VECTOR_CELLS = 5_000_000
WORD_BYTES = 220  # RSS a vocabulary word costs besides its vector: 203-219 B measured


@dataclass
class CBOWConfig:
    """gensim Word2Vec settings. Defaults tuned on the built-in corpus (benchmarks/cbow.py)."""

    # Tuned on the built-in corpus (3.19M tokens with the GCIDE dictionary), gensim called
    # directly, 2 workers, one run each: WordSim353 Spearman (OOV) and Google analogies. Runs
    # of one setting differ by about +-0.02 (gensim's threads). Settings marked 0.5M were
    # tuned on the corpus without the dictionary and not measured again.
    vector_size: int = 100  # 0.5M: 150 and 200 measured no better, and train slower
    window: int = 15  # words per side; wide windows learn topical relatedness, which WordSim353
    # rates: 0.573 at 15 against 0.564 at 10 (10 epochs); 0.5M: 0.544 at 12, 0.534 at 20
    negative: int = 10  # 5-20 suit small corpora (Mikolov et al. 2013); 0.5M: 15 +0.01, 1.4x slower
    min_count: int = 5  # keeps 36,312 words, with 6.5% of WordSim353 pairs out of vocabulary;
    # 0.5M: rare words get poor vectors, 0.538-0.543 against 0.529-0.540 at 3
    sample: float = 1e-4  # down-samples "the", "of": 1e-5 starved training (0.322, 10 epochs);
    # 0.5M: 0.509 at gensim's 1e-3
    alpha: float = 0.025  # gensim's start rate; word2vec.c's CBOW 0.05 measured 0.522 vs 0.529
    min_alpha: float = 0.0001  # decays linearly to this over all epochs
    epochs: int = 15  # 0.630 (6.5% OOV), analogies 0.326 at 15 against 0.573 and 0.264 at 10;
    # 10 epochs took 40 s on a quiet 2-core machine, so 15 take about 60 s
    workers: int = 2  # the machines this runs on have 2 cores
    seed: int = 0
    max_final_vocab: int | None = None  # keep at most this many words, by raising min_count
    sg: bool = False  # skip-gram instead of CBOW (see SKIPGRAM for its own window and epochs)
    lowercase: bool = True  # how the corpus was prepared, so queries are normalized alike

    def gensim_kwargs(self) -> dict:
        """The settings as `Word2Vec(...)` keywords (`lowercase` is ours, not gensim's)."""
        kwargs = {k: v for k, v in asdict(self).items() if k != "lowercase"}
        return kwargs | {"sg": int(self.sg)}

    @classmethod
    def from_dict(cls, data: dict) -> CBOWConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Skip-gram beside CBOW: the settings it changes from CBOWConfig's, on the built-in corpus.
# Skip-gram makes one prediction per context word where CBOW makes one per target, so each of
# its epochs costs about as much as `window` of CBOW's. Window 5 and 3 epochs took 71 CPU
# seconds against CBOW's 104 (benchmarks/cbow.py, one run): WordSim353 0.438, analogies 0.146,
# 5 of the 10 nearest words of "virus" medical, against CBOW's 0.632, 0.332 and 9.
SKIPGRAM = {"window": 5, "epochs": 3}


@dataclass
class TrainResult:
    vectors: KeyedVectors
    model: Word2Vec  # the trainable model, for saving locally; never sent anywhere
    history: list[dict[str, float]] = field(default_factory=list)  # epoch, loss, seconds
    stop_reason: str = "finished"
    min_count_used: int = 0  # min_count after max_final_vocab raised it
    cap_dropped_words: int = 0  # words that passed min_count but not max_final_vocab

    def summary(self) -> dict:
        """What the run did, for metrics.json and the app."""
        return {
            "train_seconds": self.history[-1]["seconds"] if self.history else 0.0,
            "epochs_run": len(self.history),
            "stop_reason": self.stop_reason,
            "vocabulary": len(self.vectors),
            "min_count_used": self.min_count_used,
            "cap_dropped_words": self.cap_dropped_words,
        }


def architecture(config: CBOWConfig) -> str:
    return "skipgram" if config.sg else "cbow"


def vocabulary_cap(vector_size: int) -> int:
    """The most words the app trains at `vector_size`: both caps, on words and on cells."""
    return min(MAX_VOCABULARY, MAX_VECTOR_CELLS // vector_size)


def footprint(vectors: KeyedVectors) -> int:
    """Bytes a session's vectors hold: the float32 matrix and each word's bookkeeping."""
    return vectors.vectors.nbytes + len(vectors) * WORD_BYTES


def train(
    sentences: Sequence[list[str]],
    config: CBOWConfig,
    *,
    max_seconds: float | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train CBOW (or skip-gram, `config.sg`) on `sentences`, one gensim `train()` per epoch.

    `sentences` are token lists held in memory, so handing them to gensim's worker threads
    costs nothing per epoch (gensim's `corpus_file` mode matters past ~8 workers, where a
    Python iterator stops scaling; these machines have 2 cores).

    One call per epoch is what lets us stop at `max_seconds`; the learning rate still decays
    linearly across all epochs, as a single call would. The loss reported per epoch is
    `NegativeSamplingLoss` on a fixed sample of pairs. gensim's own counter
    (`get_latest_training_loss`, kept as ``gensim_loss``) is cumulative within a call, and
    with several workers it loses updates: each job copies the running total at its start
    and writes it back at its end (word2vec_inner.pyx), so concurrent jobs overwrite each
    other and the per-epoch numbers jump around.
    """
    # sg=0 is CBOW: predict the target from its averaged context (gensim's cbow_mean=1);
    # sg=1 is skip-gram: predict each context word from the target
    model = Word2Vec(**config.gensim_kwargs())
    # the raw counts stay until we have counted what max_final_vocab dropped
    model.build_vocab(corpus_iterable=sentences, keep_raw_vocab=True)
    passed = sum(count >= config.min_count for count in model.raw_vocab.values())
    model.raw_vocab = {}
    result = TrainResult(
        vectors=model.wv,
        model=model,
        min_count_used=model.effective_min_count,
        cap_dropped_words=passed - len(model.wv),
    )
    check_trainable(model.corpus_total_words, result, config)
    loss = NegativeSamplingLoss(model, sentences, config.seed)
    start = time.perf_counter()
    step = (config.alpha - config.min_alpha) / config.epochs
    bar = tqdm(range(1, config.epochs + 1), desc=architecture(config), unit="epoch")
    for epoch in bar:
        model.train(
            corpus_iterable=sentences,
            total_examples=model.corpus_count,
            epochs=1,
            start_alpha=config.alpha - step * (epoch - 1),
            end_alpha=config.alpha - step * epoch,
            compute_loss=True,
        )
        seconds = time.perf_counter() - start  # training time only, not the loss probe
        row = {
            "epoch": epoch,
            "loss": loss(),
            "gensim_loss": model.get_latest_training_loss(),
            "seconds": seconds,
        }
        result.history.append(row)
        bar.set_postfix(loss=f"{row['loss']:.4f}")
        if on_epoch is not None:
            on_epoch(row)
        if max_seconds is not None and seconds > max_seconds and epoch < config.epochs:
            result.stop_reason = f"time limit of {max_seconds:g} s after {epoch} epochs"
            break
    bar.close()
    return result


def check_trainable(tokens: int, result: TrainResult, config: CBOWConfig) -> None:
    if tokens < MIN_TOKENS:
        raise CBOWInputError(
            f"The corpus has {tokens} words after preparation; training needs at least "
            f"{MIN_TOKENS}. Add more text."
        )
    vocabulary = len(result.vectors)
    if vocabulary >= MIN_VOCABULARY:
        return
    if result.min_count_used > config.min_count:
        raise CBOWInputError(
            f"The vocabulary cap of {config.max_final_vocab:,} words raised min_count from "
            f"{config.min_count} to {result.min_count_used}, which leaves {vocabulary} words "
            f"(words tied at the cut all go) and drops {result.cap_dropped_words:,}; training "
            f"needs at least {MIN_VOCABULARY}. Use text whose words repeat more often."
        )
    raise CBOWInputError(
        f"Only {vocabulary} distinct words occur at least {config.min_count} times; training "
        f"needs at least {MIN_VOCABULARY}. Add text or lower min_count."
    )


class NegativeSamplingLoss:
    """The training objective, measured on a fixed sample of (context, target) windows.

    Per pair: -log s(h . v_out) - sum over k noise words of log s(-h . v_noise), with s the
    sigmoid and the noise words drawn once, like gensim draws them (unigram counts ** 0.75)
    (Mikolov et al. 2013, eq. 4). CBOW predicts the target (v_out) from h, the mean of its
    context words' vectors. Skip-gram predicts each context word from the target's own vector,
    so for a skip-gram model each sampled window gives one pair the other way round: `contexts`
    holds the target alone and `targets` one of its context words, drawn at random.
    """

    def __init__(self, model: Word2Vec, sentences: Sequence[list[str]], seed: int = 0):
        rng = np.random.default_rng(seed)
        index = model.wv.key_to_index
        picked = rng.choice(len(sentences), size=min(len(sentences), 256), replace=False)
        per_sentence = LOSS_PAIRS // len(picked) + 1
        targets, contexts = [], []
        for i in picked:
            ids = [index[w] for w in sentences[i] if w in index]
            for p in rng.permutation(len(ids))[:per_sentence]:
                context = ids[max(0, p - model.window) : p] + ids[p + 1 : p + 1 + model.window]
                if context:
                    targets.append(ids[p])
                    contexts.append(context)
        if model.sg:
            targets, contexts = [int(rng.choice(c)) for c in contexts], [[t] for t in targets]
        width = max(map(len, contexts), default=1)
        self.targets = np.array(targets, dtype=np.int64)
        self.contexts = np.array([c + [0] * (width - len(c)) for c in contexts], dtype=np.int64)
        self.mask = np.array([[1.0] * len(c) + [0.0] * (width - len(c)) for c in contexts])
        draws = rng.integers(0, model.cum_table[-1], size=(len(targets), model.negative))
        self.noise = np.searchsorted(model.cum_table, draws, side="right")
        self.model = model

    def __call__(self) -> float:
        if not len(self.targets):
            return float("nan")
        syn0, syn1 = self.model.wv.vectors, self.model.syn1neg
        # h as a sparse (pairs x vocabulary) averaging matrix times the vectors. Gathering
        # syn0[contexts] instead built a pairs x window x dims array each epoch (4,096 x 30 x
        # 100 at window 15, 98 MB in float64): benchmarks/cbow.py times both. float32 products
        # throughout, as gensim's own.
        n, width = self.contexts.shape
        weights = (self.mask / self.mask.sum(1, keepdims=True)).astype(syn0.dtype)
        average = csr_matrix(
            (weights.ravel(), self.contexts.ravel(), np.arange(0, n * width + 1, width)),
            shape=(n, len(syn0)),
        )
        h = average @ syn0
        positive = np.einsum("nd,nd->n", h, syn1[self.targets]).astype(np.float64)
        negative = np.matmul(syn1[self.noise], h[:, :, None])[..., 0].astype(np.float64)
        loss = np.logaddexp(0, -positive) + np.logaddexp(0, negative).sum(1)
        return float(loss.mean())


def save_model(
    folder: Path,
    vectors: KeyedVectors,
    config: CBOWConfig,
    *,
    corpus: dict,
    metrics: dict,
    command: str,
    skipgram: tuple[KeyedVectors, CBOWConfig] | None = None,
) -> None:
    """Write the vectors, config.json, metrics.json and a model card with the evaluation.

    `metrics` is written as given: the CLI and the app add the loss history to it (and the
    CLI its `skipgram` comparison). `skipgram`, vectors trained beside the shipped ones with
    their settings, go alongside in the same pickle-free format.
    """
    folder.mkdir(parents=True, exist_ok=True)
    vectors.save_word2vec_format(str(folder / VECTORS_FILE), binary=True)
    settings = {
        "cbow": asdict(config),
        "corpus": corpus,
        "vectors": VECTORS_FILE,
        "format": "word2vec binary (KeyedVectors.load_word2vec_format(path, binary=True))",
    }
    if skipgram is not None:
        skipgram[0].save_word2vec_format(str(folder / SKIPGRAM_FILE), binary=True)
        settings |= {"skipgram": asdict(skipgram[1]), "skipgram_vectors": SKIPGRAM_FILE}
    save_json(folder / "config.json", settings)
    save_json(folder / "metrics.json", metrics)
    kind = "Skip-gram" if config.sg else "CBOW"
    write_model_card(
        folder,
        title="Word2Vec CBOW",
        summary=(
            f"{kind} word vectors ({len(vectors)} words, {config.vector_size} dimensions) "
            f"trained with gensim on {corpus['name']} ({corpus['tokens']} tokens)."
        ),
        library_name="gensim",
        tags=["word2vec", "cbow", "word-embeddings"],
        datasets=[corpus["name"]],
        eval_results=eval_results(metrics),
        command=command,
        usage=f"""
from gensim.models import KeyedVectors
from huggingface_hub import hf_hub_download

path = hf_hub_download("ORG/NAME", "{VECTORS_FILE}")
vectors = KeyedVectors.load_word2vec_format(path, binary=True)  # no pickle involved
print(vectors.most_similar("king"))
""",
        extra=training_data(corpus) + skipgram_section(metrics.get("skipgram")),
    )


def training_data(corpus: dict) -> str:
    """The model card's training-data section: each source, its size and its licence."""
    if not corpus.get("sources"):
        return ""
    return f"\n## Training data\n\n{sources_table(corpus['sources'])}\n"


def skipgram_section(entry: dict | None) -> str:
    """The model card's note on the skip-gram vectors trained beside the shipped ones."""
    if not entry:
        return ""
    spearman = entry.get("wordsim353_spearman")
    analogies = entry.get("analogy_accuracy")
    return f"""
## Skip-gram beside CBOW

`{SKIPGRAM_FILE}` holds skip-gram vectors trained on the same corpus (window
{entry["config"]["window"]}, {entry["config"]["epochs"]} epochs, {entry["train_seconds"]:.0f} s):
WordSim353 Spearman {"n/a" if spearman is None else f"{spearman:.3f}"}, Google analogies
{"n/a" if analogies is None else f"{analogies:.3f}"}. `metrics.json`'s `skipgram` entry holds
the whole comparison.
"""


def eval_results(metrics: dict) -> list[EvalResult]:
    """The model-index entries; a metric that could not be computed is left out."""
    entries = [
        ("wordsim353_spearman", "wordsim353", "WordSim353", "spearmanr", "Spearman"),
        (
            "analogy_accuracy",
            "google-analogies",
            "Google analogies",
            "accuracy",
            f"Accuracy (top {metrics.get('analogy_restrict_vocab')} words)",
        ),
    ]
    return [
        EvalResult(
            task_type="word-embeddings",
            dataset_type=dataset_type,
            dataset_name=dataset_name,
            metric_type=metric_type,
            metric_name=metric_name,
            metric_value=metrics[key],
        )
        for key, dataset_type, dataset_name, metric_type, metric_name in entries
        if metrics.get(key) is not None
    ]


@dataclass(eq=False)  # one set of vectors is itself, not equal to a copy: hashable by identity
class LoadedVectors:
    vectors: KeyedVectors
    config: CBOWConfig
    metrics: dict
    corpus: dict
    folder: Path | None = None
    skipgram: KeyedVectors | None = None  # skip-gram vectors saved beside, when there are any


def load_model(source: str | Path) -> LoadedVectors:
    """Load a local folder or Hub repo id written by `save_model`, without unpickling."""
    folder = resolve_source(source, required=("config.json", VECTORS_FILE))
    data = load_json(folder / "config.json")
    metrics_path = folder / "metrics.json"
    skipgram_path = folder / SKIPGRAM_FILE
    return LoadedVectors(
        vectors=read_word2vec_binary(folder / VECTORS_FILE),
        config=CBOWConfig.from_dict(data.get("cbow", {})),
        metrics=load_json(metrics_path) if metrics_path.is_file() else {},
        corpus=data.get("corpus", {}),
        folder=folder,
        skipgram=read_word2vec_binary(skipgram_path) if skipgram_path.is_file() else None,
    )


def read_word2vec_binary(path: Path) -> KeyedVectors:
    """Parse word2vec binary format, refusing anything else (a pickle, a truncated file)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.readline(64).split()
    try:
        count, dim = (int(x) for x in header)
    except ValueError:
        raise CBOWInputError(
            f"{path.name} is not a word2vec binary file (its first line is not 'words dims')."
        ) from None
    # each row is at least a 1-byte word, a space and dim float32s: check before allocating
    if not (count > 0 and 0 < dim <= 10_000 and count * (dim * 4 + 2) <= size):
        raise CBOWInputError(
            f"{path.name} claims {count} words x {dim} dims, which does not fit its {size} bytes."
        )
    try:
        return KeyedVectors.load_word2vec_format(str(path), binary=True)
    except (ValueError, EOFError, UnicodeDecodeError) as err:
        raise CBOWInputError(f"{path.name} is not a valid word2vec binary file ({err}).") from None
