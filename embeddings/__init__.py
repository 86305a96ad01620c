"""Dense embeddings behind one `Embedder` interface (no network: every model ships in a package or
a mounted directory). `get_embedder(name)` returns a process-wide instance."""
from embeddings.base import Embedder, EmbedderUnavailable, get_embedder, known_embedders
from embeddings.passages import case_passages, split_passages

__all__ = ["Embedder", "EmbedderUnavailable", "get_embedder", "known_embedders", "case_passages", "split_passages"]
