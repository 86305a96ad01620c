"""Embedding cache: passage text → vector, keyed by sha256(embedder version + text), in one SQLite
file. Re-indexing unchanged records (or unchanged passages of changed records) costs no model
time; a different model or version never sees another's vectors."""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from embeddings.base import Embedder


def passage_key(version: str, text: str) -> bytes:
    return hashlib.sha256(f"{version}\0{text}".encode("utf-8")).digest()


class EmbeddingCache:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dim INTEGER, vec BLOB)")
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts` (rows in order), embedding only what the cache lacks."""
        keys = [passage_key(embedder.version, t) for t in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            unique = list(dict.fromkeys(keys))
            for i in range(0, len(unique), 500):
                chunk = unique[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, dim, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
                for key, dim, vec in rows:
                    if dim == embedder.dim:
                        found[key] = np.frombuffer(vec, dtype=np.float32)
        missing = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in found]
        self.hits += len(texts) - sum(1 for k in keys if k not in found)
        if missing:
            vectors = embedder.embed_passages([t for _, t in missing])
            self.misses += len(missing)
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (key, dim, vec) VALUES (?, ?, ?)",
                    [(k, embedder.dim, np.ascontiguousarray(v, dtype=np.float32).tobytes())
                     for (k, _), v in zip(missing, vectors)])
            for (k, _), v in zip(missing, vectors):
                found[k] = np.asarray(v, dtype=np.float32)
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)

    def close(self) -> None:
        with self._lock:
            self._db.close()
