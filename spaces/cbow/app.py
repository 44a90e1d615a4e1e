"""Word2Vec CBOW, step by step: prepare a corpus, see the training pairs, train, explore.

    python spaces/cbow/app.py          # serves on http://127.0.0.1:7860

The default vectors come from $CBOW_MODEL, the repo a Space bundle names in models.json,
artifacts/cbow/ or the Hub (`shared.hub`); vectors trained in the Train tab serve only the
session that trained them, and all sessions' vectors share one memory budget
($CBOW_SESSION_BUDGET_MB, default 1024): the least recently used go first, and their visitor
is told so and gets the default vectors again.
"""

from __future__ import annotations

import functools
import json
import tempfile
import threading
import time
import weakref
from dataclasses import asdict
from pathlib import Path

import explore_tab
import gradio as gr
import pandas as pd

from shared.app.errors import friendly
from shared.app.hub_push import push_trained, sign_in
from shared.app.launch import (
    MAX_FILE_SIZE,
    QUEUE_CONCURRENCY,
    TRAIN_CONCURRENCY,
    TRAIN_SECONDS,
    delete_cache,
    launch_kwargs,
    prepare_to_serve,
)
from shared.app.served import DefaultModel, load_default
from shared.app.store import SESSION_SECONDS, SessionStore, Ticket
from shared.cbow.corpus import (
    MAX_CORPUS_MB,
    MAX_VOCABULARY,
    MIN_TOKENS,
    MIN_VOCABULARY,
    Corpus,
    PrepareOptions,
    builtin_corpus,
    tokenize_text,
    user_corpus,
)
from shared.cbow.evaluate import ANALOGY_VOCAB, evaluate
from shared.cbow.explore import MAX_TOPK, MAX_WORD_CHARS
from shared.cbow.export import export_vectors, fresh_folder
from shared.cbow.pairs import course_pairs, gensim_pairs, pairs_table
from shared.cbow.scratch import TOY_SENTENCES, train_scratch
from shared.cbow.vectors import (
    MAX_VECTOR_CELLS,
    VECTORS_FILE,
    CBOWConfig,
    LoadedVectors,
    footprint,
    load_model,
    save_model,
    train,
    vocabulary_cap,
)
from shared.errors import UserInputError

HERE = Path(__file__).resolve().parent  # in a Space bundle, beside models.json
BUILTIN, MINE = "built-in corpus", "my text"
MAX_PAIRS_CHARS = 2_000  # the pairs panel is for reading, not for whole books
MAX_EPOCHS, MAX_VECTOR_SIZE = 50, 300  # with the time cap, they bound one in-app training run
MAX_SCRATCH_SENTENCES = 20
EXPORTS = Path(tempfile.gettempdir()) / "cbow-exports"  # one folder per download, kept 10 min
EXPORT_TTL = 600
HIDDEN = {"api_visibility": "undocumented"}  # callable by clients, not offered as an MCP tool
# Every session's vectors together; one session's are at most ~30 MB (MAX_VECTOR_CELLS), so the
# default 1 GB keeps ~35 visitors' vectors at their largest.
STORE = SessionStore.from_env("CBOW_SESSION_BUDGET_MB")


def served_model() -> DefaultModel[LoadedVectors]:
    """The default vectors (their metrics travel with them) and the status line."""
    return load_default("cbow", ("config.json", VECTORS_FILE), load_model, app_dir=HERE)


DEFAULT, _, STATUS = served_model()


def model_info() -> str:
    """Which model is loaded, or how to get one."""
    return STATUS


def session_model(ticket: Ticket | None) -> tuple[LoadedVectors | None, str]:
    """This session's own vectors, or None and why not (empty when it never trained)."""
    model = STORE.get(ticket)
    if ticket is None or model is not None:
        return model, ""
    return None, (
        f"Your {ticket.name} were removed to keep this app within its memory budget for all "
        "visitors' vectors (least recently used go first); the default vectors answer now. "
        "Train again to get yours back."
    )


def current(ticket: Ticket | None) -> LoadedVectors:
    model, evicted = session_model(ticket)
    if evicted:
        gr.Warning(evicted)
    model = model or DEFAULT
    if model is None:
        raise UserInputError(f"{evicted} No vectors loaded yet: train some in the Train tab.")
    return model


def read_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count) -> Corpus:
    if source == BUILTIN:
        return builtin_corpus(min_count=int(min_count), max_vocabulary=MAX_VOCABULARY)
    options = PrepareOptions(
        bool(lowercase), bool(stopwords), bool(phrases), int(min_count), MAX_VOCABULARY
    )
    return user_corpus([str(f) for f in files or []], pasted, options)


def cap_note(cap: int, min_count: int, used: int, dropped: int) -> str:
    """What the vocabulary cap did, in the words of the Prepare and Train results."""
    if not dropped:
        return f"The vocabulary cap of {cap:,} words drops nothing."
    return (
        f"The vocabulary cap of {cap:,} words raises min_count from {min_count} to {used} and "
        f"drops {dropped:,} more words."
    )


def prepare_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count):
    """Corpus statistics after each preparation step, and the most frequent words."""
    corpus = read_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count)
    s = corpus.stats
    lines = [
        f"**{corpus.name}**: {s.documents:,} documents, {s.tokens:,} tokens, "
        f"{s.vocabulary:,} distinct words.",
        f"`min_count={int(min_count)}` drops {s.dropped_words:,} rare words "
        f"({s.dropped_tokens:,} tokens) and keeps {s.kept_vocabulary:,}.",
        cap_note(MAX_VOCABULARY, int(min_count), s.capped_min_count, s.cap_dropped_words)
        + f" Training caps vector size x words at {MAX_VECTOR_CELLS:,}: at 300 dimensions, "
        f"{vocabulary_cap(300):,} words.",
    ]
    if s.stopwords_removed:
        lines.append(f"Stop-word removal dropped {s.stopwords_removed:,} tokens.")
    if s.phrases:
        lines.append(f"Phrases joined {len(s.phrases)}: {', '.join(s.phrases[:15])}")
    lines += [f"⚠️ {note}" for note in corpus.notes]
    top = pd.DataFrame(s.top_words, columns=["word", "count"])
    return "\n\n".join(lines), top


def show_pairs(text: str, window: float):
    """The (context -> target) pairs in the course's convention and in gensim's."""
    if not (text or "").strip():
        raise UserInputError("The sentence is empty: type a few words.")
    if len(text) > MAX_PAIRS_CHARS:
        raise UserInputError(f"The text is {len(text)} characters; the limit is {MAX_PAIRS_CHARS}.")
    tokens = tokenize_text(text)
    window = int(window)
    course = pairs_table(course_pairs(tokens, window))
    per_side = gensim_pairs(tokens, window // 2)
    note = (
        f"{len(tokens)} tokens. The course's window of {window} means {window} context words "
        f"in all, {window // 2} on each side; only words with a full context are targets. "
        f"The same context in gensim is `window={window // 2}`, counted per side: every word "
        f"is a target, and the {window // 2} word(s) at each edge get partial contexts."
    )
    headers = ["context", "target"]
    return (
        note,
        pd.DataFrame(course, columns=headers),
        pd.DataFrame(pairs_table(per_side), columns=headers),
    )


def train_vectors(
    source,
    files,
    pasted,
    lowercase,
    stopwords,
    phrases,
    min_count,
    vector_size,
    window,
    negative,
    epochs,
    ticket: Ticket | None = None,
    progress=gr.Progress(),  # noqa: B008 - how Gradio asks for a progress bar
):
    """Train CBOW vectors for this session, within the time and memory caps; evaluate them."""
    corpus = read_corpus(source, files, pasted, lowercase, stopwords, phrases, min_count)
    vector_size = int(min(vector_size, MAX_VECTOR_SIZE))
    config = CBOWConfig(
        vector_size=vector_size,
        window=int(window),
        negative=int(negative),
        min_count=int(min_count),
        epochs=int(min(epochs, MAX_EPOCHS)),
        max_final_vocab=vocabulary_cap(vector_size),
        lowercase=bool(lowercase) or source == BUILTIN,
    )

    def report(row):
        progress(
            (row["epoch"], config.epochs), desc=f"epoch {row['epoch']}: loss {row['loss']:,.0f}"
        )

    result = train(corpus.sentences, config, max_seconds=TRAIN_SECONDS, on_epoch=report)
    metrics = evaluate(result.vectors) | result.summary() | {"history": result.history}
    corpus_info = {"name": corpus.name, "tokens": corpus.stats.tokens}
    session = LoadedVectors(result.vectors, config, metrics, corpus_info)
    STORE.discard(ticket)  # this session's earlier vectors: replaced, not kept twice
    name = f"vectors trained on {corpus.name} at {time.strftime('%H:%M:%S UTC', time.gmtime())}"
    ticket = STORE.put(session, footprint(result.vectors), name)
    cap = cap_note(
        config.max_final_vocab, config.min_count, result.min_count_used, result.cap_dropped_words
    )
    status = (
        f"Trained on {corpus.name}: {len(result.vectors):,} words, "
        f"{len(result.history)} epochs in {metrics['train_seconds']:.1f} s "
        f"({result.stop_reason}). WordSim353 Spearman {score(metrics['wordsim353_spearman'])}. "
        f"{cap} These vectors now answer the Explore tab in this browser session only."
    )
    return (status, ticket, *model_panel(ticket))


def model_panel(ticket: Ticket | None):
    """Settings, metrics and loss curve of the vectors this session uses; the memory budget."""
    session, evicted = session_model(ticket)
    model = session or DEFAULT
    budget = f"Memory: {STORE.usage()}"
    if model is None:
        return "\n\n".join(filter(None, [evicted, STATUS, budget])), None, loss_frame([])
    m = model.metrics
    which = "Trained in this session" if session else "Default model"
    rows = [
        *([f"⚠️ {evicted}"] if evicted else []),
        f"**{which}** on {model.corpus.get('name', '?')}: {len(model.vectors):,} words, "
        f"{model.vectors.vector_size} dimensions.",
        f"WordSim353 Spearman **{score(m.get('wordsim353_spearman'))}** "
        f"({m.get('wordsim353_oov_percent', 100):.1f}% of pairs out of vocabulary); "
        f"Google analogy accuracy **{score(m.get('analogy_accuracy'))}** on "
        f"{m.get('analogy_questions', 0)} questions within the {ANALOGY_VOCAB:,} "
        "most frequent words.",
        budget,
    ]
    return "\n\n".join(rows), asdict(model.config), loss_frame(m.get("history", []))


def loss_frame(history: list[dict]) -> pd.DataFrame:
    """Loss per epoch as rows for `gr.LinePlot` (the browser draws it; hover reads values)."""
    rows = [(row["epoch"], row["loss"]) for row in history if "loss" in row]
    return pd.DataFrame(rows, columns=["epoch", "loss"])


def score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def scratch_demo(text: str):
    """Train the from-scratch PyTorch CBOW on a few sentences; show what it predicts."""
    sentences = [line for line in (text or "").splitlines() if line.strip()]
    if not sentences:
        raise UserInputError("Type at least one sentence of three words or more.")
    if len(sentences) > MAX_SCRATCH_SENTENCES:
        raise UserInputError(
            f"{len(sentences)} sentences; the teaching model takes {MAX_SCRATCH_SENTENCES}."
        )
    result = train_scratch(sentences)
    if not result.pairs:
        raise UserInputError("No sentence has three words, so there is no (context, target) pair.")
    rows = []
    for context, target in result.pairs:
        probs = dict(result.predict(context))
        best = max(probs, key=probs.get)
        rows.append([", ".join(context), target, best, round(probs[target], 3)])
    table = pd.DataFrame(rows, columns=["context", "target", "predicted", "P(target)"])
    history = [{"epoch": i + 1, "loss": v} for i, v in enumerate(result.losses)]
    return loss_frame(history), table


def export(ticket: Ticket | None) -> list[str]:
    """This session's vectors (or the default ones) as word2vec binary and Projector TSVs.

    Written once per set of vectors while the files last: the largest session model (16,666
    words x 300 dimensions) makes 76 MB of files in 1.6 s, and a visitor clicking again must not
    make another 76 MB each time (Gradio keeps one copy per distinct file in its cache).
    """
    model = current(ticket)
    paths = EXPORTED.get(model, [])
    if not paths or not all(Path(p).is_file() for p in paths):
        paths = [str(p) for p in export_vectors(model.vectors, fresh_folder(EXPORTS, EXPORT_TTL))]
        EXPORTED[model] = paths
    return paths


# each set of vectors' export files, forgotten with the vectors; one export runs at a time
EXPORTED: weakref.WeakKeyDictionary[LoadedVectors, list[str]] = weakref.WeakKeyDictionary()


@friendly
def push(ticket: Ticket | None, name: str, profile: gr.OAuthProfile | None,
         token: gr.OAuthToken | None) -> str:  # fmt: skip
    """Push this session's vectors to `<visitor>/<name>`: the folder and card the CLI writes."""
    model, evicted = session_model(ticket)
    if evicted:
        raise UserInputError(evicted)

    def save(folder: Path) -> None:
        command = "# trained in the CBOW app's Train tab"
        save_model(folder, model.vectors, model.config, corpus=model.corpus,
                   metrics=model.metrics, command=command)  # fmt: skip

    return push_trained(save if model else None, name, profile, token)


# Tools for agents (MCP) and API clients: the served vectors, answers in JSON.


def nearest_words(word: str, topk: int = 10) -> str:
    """The words whose CBOW vectors are nearest to a word, by cosine similarity.

    Args:
        word: one word of the vocabulary (lower-cased as the training corpus was; phrases use _)
        topk: how many neighbours to return, from 1 to 50

    Returns:
        JSON: the query word and its neighbours ({"word", "similarity"}), most similar first.
    """
    rows = explore_tab.similar(current(None), word, topk)
    return json.dumps({"word": word, "neighbours": rows.to_dict("records")})


def word_analogy(a: str, b: str, c: str, topk: int = 5) -> str:
    """Solve "b is to a as c is to ?" with word vectors: the words nearest to a - b + c.

    With a = king, b = man, c = woman the answer should be queen. The three inputs are never
    answers.

    Args:
        a: the word to start from (king)
        b: the word to subtract (man)
        c: the word to add (woman)
        topk: how many answers to return, from 1 to 50

    Returns:
        JSON: the answers ({"word", "similarity"} to a - b + c), best first.
    """
    rows = explore_tab.analogy(current(None), a, b, c, topk)
    return json.dumps({"query": f"{a} - {b} + {c}", "answers": rows.to_dict("records")})


def word_similarity(a: str, b: str) -> float:
    """Cosine similarity of two words' CBOW vectors, from -1 (opposite) to 1 (same direction).

    Args:
        a: the first word
        b: the second word
    """
    return explore_tab.pair_similarity(current(None), a, b)


# The page's first view: every tab already answered, from built-in data and the default vectors.
EXAMPLE_SENTENCE, MIN_COUNT = "It is a pleasant day", 3


def first_view() -> tuple:
    """What each tab shows before any click, with the Explore tab's query boxes to match.

    It doesn't depend on the visitor (a page load has no session vectors yet): made once, by
    the first page load (mostly reading the corpus and training the from-scratch model's 300
    epochs); visitors who arrive meanwhile wait for that one instead of repeating it.
    """
    with FIRST_VIEW_LOCK:
        return _first_view()


FIRST_VIEW_LOCK = threading.Lock()


@functools.cache
def _first_view() -> tuple:
    prepared = prepare_corpus(BUILTIN, None, "", True, False, False, MIN_COUNT)
    pairs = show_pairs(EXAMPLE_SENTENCE, 2)
    scratch = scratch_demo("\n".join(TOY_SENTENCES))
    # without vectors the Explore tab keeps its boxes; the status line says why it can't answer
    # (the page is built by the time a visitor loads it: `explore_outputs` is its Explore tab's)
    explored = explore_tab.first_view(DEFAULT) if DEFAULT else [gr.skip()] * len(explore_outputs)
    return *prepared, *pairs, *explored, *scratch


HOW_IT_WORKS = f"""
CBOW (continuous bag of words) learns a vector per word by predicting each word from its
neighbours. Each context word is a one-hot vector; the context vectors go through one shared
hidden layer (its weights are the word vectors), are averaged, and a softmax over the
vocabulary predicts the target. Below, a PyTorch version of under 100 lines trains live on
your sentences. gensim trains the real vectors the same way, but replaces the full softmax by
*negative sampling*: it scores the target against a few random "noise" words.

**Limits of this app:** uploads of .txt files only, at most {MAX_FILE_SIZE} per file and
{MAX_CORPUS_MB} MB of text in all; a corpus needs at least {MIN_TOKENS} tokens and
{MIN_VOCABULARY} words that pass `min_count`. One training run at a time per app
(`concurrency_limit={TRAIN_CONCURRENCY}`), stopped after the epoch that passes
{TRAIN_SECONDS} s, at most {MAX_EPOCHS} epochs and {MAX_VECTOR_SIZE} dimensions. Training keeps
at most {MAX_VOCABULARY:,} words and {MAX_VECTOR_CELLS:,} numbers (vector size x words), raising
`min_count` as gensim's `max_final_vocab` does; all visitors' trained vectors share a memory
budget of {STORE.budget / 2**20:,.0f} MB, and the least recently used are removed first. Query words
are at most {MAX_WORD_CHARS} characters; top-k is at most {MAX_TOPK}; the pairs panel reads
{MAX_PAIRS_CHARS} characters; the teaching model takes {MAX_SCRATCH_SENTENCES} sentences.
Nothing you upload is ever unpickled: the vectors load from word2vec binary format.
"""

with gr.Blocks(title="Word2Vec CBOW", delete_cache=delete_cache()) as demo:
    gr.Markdown("# Word2Vec CBOW\nPrepare a corpus, see CBOW's training pairs, train, explore.")
    info = gr.Markdown(STATUS)
    demo.load(friendly(model_info), outputs=info, api_name="model_info", **HIDDEN)
    session = gr.State(None, time_to_live=SESSION_SECONDS, delete_callback=STORE.discard)

    with gr.Tab("1. Prepare"):
        source = gr.Radio([BUILTIN, MINE], value=BUILTIN, label="Corpus", elem_id="source")
        # the built-in corpus comes prepared (gensim's simple_preprocess): only min_count applies
        with gr.Column(visible=False, elem_id="my-text") as my_text:
            with gr.Row():
                files = gr.File(
                    file_count="multiple", file_types=[".txt"], label=".txt files", elem_id="files"
                )
                pasted = gr.Textbox(lines=5, label="or paste text", elem_id="pasted")
            with gr.Row():
                lowercase = gr.Checkbox(True, label="lowercase")
                stopwords = gr.Checkbox(False, label="remove stop words")
                phrases = gr.Checkbox(False, label="detect phrases (gensim Phrases)")
        min_count = gr.Slider(1, 20, value=MIN_COUNT, step=1, label="min_count")
        prepare_button = gr.Button("Prepare", variant="primary", elem_id="prepare-button")
        stats = gr.Markdown(elem_id="stats")
        top_words = gr.Dataframe(label="most frequent words", interactive=False, elem_id="top")
    source.change(lambda s: gr.update(visible=s == MINE), source, my_text, queue=False,
                  api_visibility="private")  # fmt: skip
    corpus_inputs = [source, files, pasted, lowercase, stopwords, phrases, min_count]
    prepare_button.click(
        friendly(prepare_corpus), corpus_inputs, [stats, top_words], api_name="prepare", **HIDDEN
    )

    with gr.Tab("2. Training pairs"):
        sentence = gr.Textbox(EXAMPLE_SENTENCE, label="text", elem_id="pairs-text")
        course_window = gr.Slider(2, 10, value=2, step=2, label="course window (words in all)")
        pairs_button = gr.Button("Show pairs", variant="primary", elem_id="pairs-button")
        pairs_note = gr.Markdown(elem_id="pairs-note")
        with gr.Row():
            course_table = gr.Dataframe(
                label="the course's pairs", interactive=False, elem_id="course-pairs"
            )
            gensim_table = gr.Dataframe(label="gensim's pairs (per-side window)", interactive=False)
    pairs_outputs = [pairs_note, course_table, gensim_table]
    pairs_button.click(
        friendly(show_pairs), [sentence, course_window], pairs_outputs, api_name="pairs", **HIDDEN
    )

    with gr.Tab("3. Train"):
        gr.Markdown("Trains on the corpus chosen in the Prepare tab, with its preparation.")
        defaults = CBOWConfig()
        with gr.Row():
            vector_size = gr.Slider(10, MAX_VECTOR_SIZE, defaults.vector_size, step=10,
                                    label="vector size")  # fmt: skip
            window = gr.Slider(1, 15, defaults.window, step=1, label="window (per side)")
            negative = gr.Slider(1, 20, defaults.negative, step=1, label="negative samples")
            epochs = gr.Slider(1, MAX_EPOCHS, defaults.epochs, step=1, label="epochs")
        train_button = gr.Button("Train", variant="primary", elem_id="train-button")
        train_status = gr.Markdown(elem_id="train-status")
        with gr.Accordion("Push your trained vectors to the Hugging Face Hub", open=False):
            sign_in()
            with gr.Row():
                repo_name = gr.Textbox(value="cbow-word2vec", label="Repo name (in your account)",
                                       elem_id="repo-name", scale=3)  # fmt: skip
                push_button = gr.Button("Push to the Hub", elem_id="push", scale=1)
            push_text = gr.Markdown(elem_id="push-text")
        push_button.click(push, [session, repo_name], push_text, api_name="push", **HIDDEN)

    with gr.Tab("4. Explore"):
        explore_outputs = explore_tab.build(current, session)

    with gr.Tab("5. Model"):
        model_text = gr.Markdown(elem_id="model-text")
        model_settings = gr.JSON(label="settings")
        loss_plot = gr.LinePlot(x="epoch", y="loss", title="Training loss per epoch",
                                tooltip="all", elem_id="loss-plot")  # fmt: skip
        refresh_button = gr.Button("Refresh")
        gr.Markdown(
            "**Take the vectors with you:** word2vec binary (`KeyedVectors.load_word2vec_format("
            "path, binary=True)`), and `vectors.tsv` + `metadata.tsv` for the "
            "[Embedding Projector](https://projector.tensorflow.org) (Load, then pick both)."
        )
        export_button = gr.Button("Export the vectors", elem_id="export-button")
        export_files = gr.File(label="downloads", file_count="multiple", elem_id="exports")
        export_button.click(friendly(export), session, export_files, api_name="export",
                            concurrency_limit=TRAIN_CONCURRENCY, **HIDDEN)  # fmt: skip
    model_outputs = [model_text, model_settings, loss_plot]
    demo.load(friendly(model_panel), session, model_outputs, api_visibility="private")
    refresh_button.click(friendly(model_panel), session, model_outputs, api_name="model", **HIDDEN)
    train_button.click(
        friendly(train_vectors),
        [*corpus_inputs, vector_size, window, negative, epochs, session],
        [train_status, session, *model_outputs],
        api_name="train",
        concurrency_limit=TRAIN_CONCURRENCY,
        **HIDDEN,
    )

    with gr.Tab("How it works"):
        gr.Markdown(HOW_IT_WORKS)
        toy = gr.Textbox("\n".join(TOY_SENTENCES), lines=4, label="sentences, one per line")
        scratch_button = gr.Button("Train the from-scratch CBOW", elem_id="scratch-button")
        with gr.Row():
            scratch_loss = gr.LinePlot(x="epoch", y="loss", title="From-scratch CBOW",
                                       tooltip="all", elem_id="scratch-loss")  # fmt: skip
            scratch_table = gr.Dataframe(label="predictions", interactive=False)
        scratch_button.click(friendly(scratch_demo), toy, [scratch_loss, scratch_table],
                             api_name="scratch", **HIDDEN)  # fmt: skip

    demo.load(
        first_view,
        outputs=[stats, top_words, *pairs_outputs, *explore_outputs, scratch_loss, scratch_table],
        api_visibility="private",
    )  # fmt: skip
    for tool in (nearest_words, word_analogy, word_similarity):
        gr.api(friendly(tool), api_name=tool.__name__)  # the MCP tools and API endpoints, no UI

demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)

if __name__ == "__main__":
    prepare_to_serve()
    demo.launch(**launch_kwargs())
