"""Wiring: settings → backend + embedder → Searcher; building the embedded index on first run."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from council_search.settings import Settings, get_settings
from engine.embedded import layout
from engine.searcher import Searcher

log = logging.getLogger(__name__)


def embedding_cache_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "cache" / "embeddings.sqlite3"


def ensure_index(settings: Settings | None = None, *, progress: bool | None = None) -> Path:
    """The current embedded build directory, building it from corpus records if there is none."""
    settings = settings or get_settings()
    try:
        return layout.current_build(settings.data_dir)
    except layout.IndexMissing:
        pass
    from embeddings import get_embedder
    from embeddings.cache import EmbeddingCache
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    print(f"no index under {settings.data_dir}; building it from {settings.records_dir} …", file=sys.stderr)
    embedder = get_embedder(settings.embedder, settings.embedder_model_dir)
    cache = EmbeddingCache(embedding_cache_path(settings))
    try:
        summary = build_index(settings.records_dir, EmbeddedWriter(settings.data_dir), embedder, cache,
                              progress=progress, on_problem=lambda p: print(f"skipped {p}", file=sys.stderr))
    finally:
        cache.close()
    print(summary.line(), file=sys.stderr)
    return layout.current_build(settings.data_dir)


def ensure_opensearch_index(settings: Settings | None = None, *, progress: bool | None = None) -> bool:
    """Load the corpus records into OpenSearch when its alias does not exist yet (`make opensearch`
    then `make run` on a fresh clone). True if it built; an existing alias is left alone (re-index
    with `council-search index`). Raises BackendUnavailable when the cluster cannot be reached."""
    settings = settings or get_settings()
    from embeddings import get_embedder
    from embeddings.cache import EmbeddingCache
    from engine.opensearch.client import unavailable_on_failure
    from engine.opensearch.writer import OpenSearchWriter
    from indexer.build import build_index

    writer = OpenSearchWriter.from_env()
    with unavailable_on_failure(writer.settings.url):
        if writer.client.indices.exists_alias(name=writer.settings.index):
            return False
    print(f"no OpenSearch index {writer.settings.index!r} at {writer.settings.url}; "
          f"loading it from {settings.records_dir} …", file=sys.stderr)
    embedder = get_embedder(settings.embedder, settings.embedder_model_dir)
    cache = EmbeddingCache(embedding_cache_path(settings))
    try:
        summary = build_index(settings.records_dir, writer, embedder, cache,
                              progress=progress, on_problem=lambda p: print(f"skipped {p}", file=sys.stderr))
    finally:
        cache.close()
    print(summary.line(), file=sys.stderr)
    return True


def load_searcher(settings: Settings | None = None, *, build_if_missing: bool = True) -> Searcher:
    settings = settings or get_settings()
    from embeddings import EmbedderUnavailable, get_embedder

    if settings.backend == "opensearch":
        from engine.opensearch.backend import OpenSearchBackend
        backend = OpenSearchBackend.from_env()
        # query vectors must come from the model that embedded the index (recorded in its _meta);
        # with the cluster down at start-up, the configured one (checked again on every kNN query)
        from engine.backend import BackendUnavailable
        try:
            embedder_name = backend.info().get("embedder") or settings.embedder
        except BackendUnavailable:
            embedder_name = settings.embedder
    elif settings.backend == "embedded":
        from engine.embedded.backend import EmbeddedBackend
        if build_if_missing:
            ensure_index(settings)
        backend = EmbeddedBackend.open(settings.data_dir)
        # query vectors must come from the model that embedded the index
        embedder_name = backend.meta.get("embedder")
        if embedder_name and embedder_name != settings.embedder:
            log.warning("index was embedded with %s (settings say %s): using %s for queries",
                        embedder_name, settings.embedder, embedder_name)
    else:
        raise ValueError(f"unknown backend {settings.backend!r} (embedded | opensearch)")
    embedder = None
    if embedder_name:
        try:
            embedder = get_embedder(embedder_name, settings.embedder_model_dir)
        except EmbedderUnavailable as exc:
            log.warning("semantic search disabled: %s", exc)
    return Searcher(backend, embedder, max_page_size=settings.max_page_size)
