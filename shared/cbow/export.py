"""Word vectors as files to take away: word2vec binary, and the Embedding Projector's TSVs.

The TensorFlow Embedding Projector (https://projector.tensorflow.org, "Load") reads a vectors
TSV (one row per word, one tab-separated column per dimension) and a metadata TSV (one word per
line, in the same order; a single column has no header line).
"""

from __future__ import annotations

import contextlib
import shutil
import time
import uuid
from pathlib import Path

import numpy as np
from gensim.models import KeyedVectors

from shared.cbow.vectors import VECTORS_FILE

PROJECTOR_VECTORS, PROJECTOR_METADATA = "vectors.tsv", "metadata.tsv"


def export_vectors(vectors: KeyedVectors, folder: Path) -> list[Path]:
    """Write `vectors` into `folder` as word2vec binary and as the Projector's two TSVs.

    Returns the three paths: binary, vectors TSV, metadata TSV. Nothing here is a pickle: the
    binary loads with `KeyedVectors.load_word2vec_format(path, binary=True)`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    binary, table, words = (
        folder / VECTORS_FILE,
        folder / PROJECTOR_VECTORS,
        folder / PROJECTOR_METADATA,
    )
    vectors.save_word2vec_format(str(binary), binary=True)
    # 7 significant digits, about what float32 resolves (the binary file is exact)
    np.savetxt(table, vectors.vectors, fmt="%.7g", delimiter="\t", encoding="utf-8")
    # tokens never hold whitespace (the tokenizers split on it), so a word is one TSV cell
    words.write_text("".join(f"{word}\n" for word in vectors.index_to_key), encoding="utf-8")
    return [binary, table, words]


def fresh_folder(root: Path, ttl_seconds: float) -> Path:
    """A new folder under `root` for one request's files, after deleting those past the TTL.

    Gradio copies a returned file into its own cache at once, so ours only has to outlive the
    request; the TTL leaves room for slow requests.
    """
    now = time.time()
    if root.is_dir():
        for old in root.iterdir():
            with contextlib.suppress(FileNotFoundError):  # another request may be at it too
                if now - old.stat().st_mtime > ttl_seconds:
                    shutil.rmtree(old, ignore_errors=True)
    folder = root / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    return folder
