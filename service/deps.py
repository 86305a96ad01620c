"""Shared request plumbing: the searcher behind the app, and the dependencies that give routes their
validated parameters (the models are engine/api_params.py's, shared with the CLI, so the URL means the
same everywhere and a bad value gets the same error wherever it is given)."""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Annotated

from fastapi import Query, Request

from contract.backend import BackendUnavailable
from council_search.settings import Settings
from engine.api_params import SearchParams, SimilarParams, check_page_size

log = logging.getLogger("council_search.service")

if TYPE_CHECKING:  # engine.searcher imports the analyzers and embedders: not needed to define routes
    from engine.searcher import Searcher


class SearcherHolder:
    """Holds the app's searcher; loads it on first use if the app was created without one (so a
    backend that is down at start-up is retried on the next request rather than never)."""

    def __init__(self, settings: Settings, searcher: "Searcher | None" = None) -> None:
        self.settings = settings
        self._searcher = searcher
        self._owned = False  # a searcher passed in belongs to the caller; one we loaded is ours to close
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._searcher is not None

    def get(self) -> "Searcher":
        if self._searcher is None:
            with self._lock:
                if self._searcher is None:
                    self._searcher, self._owned = self._load(), True
        return self._searcher

    def reload(self) -> "Searcher":
        """Open the index afresh and swap it in. The previous searcher is not closed here: requests
        may still be using it; it is released when the last of them drops it."""
        new = self._load()
        with self._lock:
            self._searcher, self._owned = new, True
        return new

    def close(self) -> None:
        """At shutdown: close a searcher this holder opened (one passed in is left to its owner)."""
        with self._lock:
            if not self._owned:
                return
            searcher, self._searcher, self._owned = self._searcher, None, False
        if searcher is not None:
            searcher.backend.close()

    def _load(self) -> "Searcher":
        from engine.loader import load_searcher  # deferred: routes are defined without loading the engines
        try:
            # Never build inside a request: `council-search serve` / `index` build; the app only opens.
            searcher = load_searcher(self.settings)
        except BackendUnavailable:
            raise
        except OSError as exc:  # no index built yet (IndexMissing), or the index dir is unreadable
            raise BackendUnavailable(f"index not available: {exc}") from exc
        # The corpus vocabularies are a pass over the records (the abbreviation compounds: 5-13 s of
        # CPU at 100k cases; the search-box vocabulary: seconds to a minute): made in the background
        # now rather than by the first search with an abbreviation-like word or the first person to type.
        threading.Thread(target=warm_vocabularies, args=(searcher,), name="vocabularies", daemon=True).start()
        return searcher


def warm_vocabularies(searcher: "Searcher") -> None:
    # abbreviations first: a search waits for them, a suggestion box does not need to
    for build in (searcher.abbreviation_index, searcher.suggest_index):
        try:
            build()
        except Exception as exc:   # e.g. OpenSearch went away: the first request that needs it retries
            log.warning("corpus vocabulary not built in the background (%s): %s", build.__name__, exc)


def get_searcher(request: Request) -> "Searcher":
    return request.app.state.searcher_holder.get()


# The parameter dependencies are `async def`: they only compare numbers, and FastAPI runs a plain
# `def` dependency on a worker thread (a thread hop per request, ~0.1 ms of the JSON API's ~2 ms).

async def search_params(request: Request, params: Annotated[SearchParams, Query()]) -> SearchParams:
    """The search parameters of `/`, `/api/search`: FastAPI validates the query model (errors go
    through engine.api_params.param_error, as the CLI's do); the deployment's size cap applies here,
    before the backend is touched, so bad input is a 400 even when the backend is down."""
    check_page_size(params.size, request.app.state.settings.max_page_size)
    return params


async def similar_params(request: Request, params: Annotated[SimilarParams, Query()]) -> SimilarParams:
    check_page_size(params.size, request.app.state.settings.max_page_size)
    return params
