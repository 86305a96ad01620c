"""`BuildPhraseStats`: what the query builder (engine/embedded/query.py, `PhraseStats`) learns about
one build: document frequencies, and per phrase (tokens at offsets in one field) its *exceptions*,
the cases that hold every token of the phrase in that field but not the phrase.

A phrase's match set is then the case-level AND of its tokens minus the exceptions, computed
without reading positions. Finding the exceptions is one phrase pass (what every query paid on
every search before: twice for the all-text match, ranked pass and facet pass, and once per
short-field scoring phrase), done the first time a phrase is asked for and kept for the life of
the backend: a build never changes, so they stay true. Measured at 100k synthetic cases
(docs/benchmarks.md): 業務委託 over all the text has 2 exceptions among 80,049 cases, 外部結合 0; a
phrase with more exceptions than it pays to exclude (MAX_EXCEPTIONS, EXCEPTIONS_SHARE; 再委託先: 9,924),
or one in fewer than MIN_CANDIDATES cases, is left to the phrase query.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable

import tantivy
from tantivy import Occur, Query

from engine.embedded.query import idf

# A phrase whose rarest token is in fewer cases than this is left to the phrase query: reading the
# positions of so few cases costs < 0.3 ms (~100-200 ns a case at 100k), not worth a pass over the
# index to learn its exceptions nor a place in the cache (a long query of rare words adds nothing).
MIN_CANDIDATES = 2000
# Exceptions are excluded by id (query._exclude_ids). Excluding costs ~1-1.6 µs per id, the phrase
# it replaces ~0.1-0.25 µs per case holding all its tokens (reading their positions): so a phrase
# keeps its exceptions while they are at most MAX_EXCEPTIONS or 1/EXCEPTIONS_SHARE of those cases.
# At 1M cases 税務システム (123,399 cases with its tokens, 3,504 exceptions) counts in ~12 ms of
# CPU against 44 as a phrase; 再委託先 (264,601, 98,471) stays a phrase (docs/benchmarks.md).
MAX_EXCEPTIONS = 1000
EXCEPTIONS_SHARE = 8
# Bounded memory whatever the queries (docs/reliability.md §1): at most CACHE_SIZE phrases (~13 per
# query word: the all-text match and two scoring phrases in each of six short fields; a key is a few
# hundred bytes) and MAX_CACHED_IDS exception ids in all (references to the store's id strings,
# 8 bytes each): ≈ 10 MB at most. Least recently used phrases go first.
CACHE_SIZE = 20_000
MAX_CACHED_IDS = 1_000_000

Key = tuple[str, tuple[tuple[int, str], ...], tuple[str, ...]]


class BuildPhraseStats:
    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema,
                 ids_of: Callable[[list[tuple[Any, Any]]], list[str]]):
        # ids_of: the case ids of search hits (the backend's EmbeddedBackend._ids_of)
        self._searcher, self._schema, self._ids_of = searcher, schema, ids_of
        self._num_docs = searcher.num_docs
        self._exceptions: OrderedDict[Key, tuple[str, ...] | None] = OrderedDict()
        self._pending: dict[Key, threading.Event] = {}
        self._ids_held = 0
        self._lock = threading.Lock()

    def doc_freq(self, field: str, token: str) -> int:
        return self._searcher.doc_freq(field, token)

    def idf(self, field: str, token: str) -> float:
        return idf(self.doc_freq(field, token), self._num_docs)

    def exceptions(self, field: str, positions: tuple[tuple[int, str], ...],
                   tokens: tuple[str, ...]) -> tuple[str, ...] | None:
        if min(self.doc_freq(field, t) for t in tokens) < MIN_CANDIDATES:
            return None
        key = (field, positions, tokens)
        while True:
            with self._lock:
                if key in self._exceptions:
                    self._exceptions.move_to_end(key)
                    return self._exceptions[key]
                pending = self._pending.get(key)
                if pending is None:
                    # this thread computes; concurrent askers (the ranked and the facet pass of
                    # the same search) wait for it instead of paying the phrase pass twice
                    self._pending[key] = threading.Event()
                    break
            pending.wait()
        try:
            found = self._find(*key)
            with self._lock:
                self._exceptions[key] = found
                self._ids_held += len(found or ())
                while len(self._exceptions) > CACHE_SIZE or self._ids_held > MAX_CACHED_IDS:
                    _, dropped = self._exceptions.popitem(last=False)
                    self._ids_held -= len(dropped or ())
            return found
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _find(self, field: str, positions: tuple[tuple[int, str], ...], tokens: tuple[str, ...]) -> tuple[str, ...] | None:
        phrase = Query.phrase_query(self._schema, field, list(positions))
        every = [(Occur.Must, Query.term_query(self._schema, field, t)) for t in tokens]
        query = Query.const_score_query(Query.boolean_query(every + [(Occur.MustNot, phrase)]), 0.0)
        limit = MAX_EXCEPTIONS
        if EXCEPTIONS_SHARE:
            # the cases holding every token: a case-level AND, no positions read (~4 ms at 1M)
            holding = self._searcher.search(Query.boolean_query(every), limit=1, count=True).count or 0
            limit = max(limit, holding // EXCEPTIONS_SHARE)
        result = self._searcher.search(query, limit=limit + 1, count=False)
        if len(result.hits) > limit:
            return None
        return tuple(sorted(self._ids_of(result.hits)))
