"""Wiring: settings → backend + embedder → Searcher. Only opens an index; building one (also the
first-run build of `serve`) is the indexer's job (`indexer.build.build_from_settings`)."""
from __future__ import annotations

import logging

from contract.backend import BackendUnavailable, SearchBackend
from council_search.settings import Settings, get_settings
from embeddings import EmbedderUnavailable, get_embedder
from engine.embedded.backend import EmbeddedBackend
from engine.opensearch.backend import OpenSearchBackend
from engine.searcher import Searcher

log = logging.getLogger(__name__)


def open_backend(settings: Settings) -> tuple[SearchBackend, str | None]:
    """The configured backend and the name of the embedder its index was built with (query vectors
    must come from that model). Raises IndexMissing (an OSError) when there is no embedded index."""
    if settings.backend == "opensearch":
        backend = OpenSearchBackend.from_env()
        # recorded in the index's _meta; with the cluster down at start-up, the configured one
        # (checked again on every kNN query)
        try:
            return backend, backend.info().get("embedder") or settings.embedder
        except BackendUnavailable:
            return backend, settings.embedder
    if settings.backend == "embedded":
        embedded = EmbeddedBackend.open(settings.data_dir)
        embedder_name = embedded.meta.get("embedder")
        if embedder_name and embedder_name != settings.embedder:
            log.warning("index was embedded with %s (settings say %s): using %s for queries",
                        embedder_name, settings.embedder, embedder_name)
        return embedded, embedder_name
    raise ValueError(f"unknown backend {settings.backend!r} (embedded | opensearch)")


def load_searcher(settings: Settings | None = None) -> Searcher:
    settings = settings or get_settings()
    backend, embedder_name = open_backend(settings)
    embedder = None
    if embedder_name:
        try:
            embedder = get_embedder(embedder_name, settings.embedder_model_dir)
        except EmbedderUnavailable as exc:
            log.warning("semantic search disabled: %s", exc)
    return Searcher(backend, embedder, max_page_size=settings.max_page_size, synonyms_file=settings.synonyms_file)
