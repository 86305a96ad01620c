"""`BuildPhraseStats`: what the query builder (engine/embedded/query.py, `PhraseStats`) learns about
one build: document frequencies, and per phrase (tokens at offsets in one field) its *exceptions*,
the cases that hold every token of the phrase in that field but not the phrase.

A phrase's match set is then the case-level AND of its tokens minus the exceptions, computed
without reading positions. Finding the exceptions is one phrase pass (what every query paid on
every search before: twice for the all-text match, ranked pass and facet pass, and once per
short-field scoring phrase), done the first time a phrase is asked for and kept for the life of
the backend: a build never changes, so they stay true. Measured at 100k synthetic cases
(docs/benchmarks.md): 業務委託 over all the text has 2 exceptions among 80,049 cases, 外部結合 0; a
phrase with more than MAX_EXCEPTIONS (再委託先: 9,924) is left to the phrase query.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import tantivy
from tantivy import Occur, Query

from engine.embedded.query import idf

# Exceptions are excluded by id (a disjunction of term queries under must_not); beyond this many
# that costs more than the phrase it replaces would.
MAX_EXCEPTIONS = 1000
# Phrases remembered (a few ids each, most none): ~15 per query word (the all-text match and
# two scoring phrases in each of six short fields, per variant).
CACHE_SIZE = 50_000

Key = tuple[str, tuple[tuple[int, str], ...], tuple[str, ...]]


class BuildPhraseStats:
    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, ids: list[str],
                 ord_field: str = "ord"):
        self._searcher, self._schema, self._ids, self._ord_field = searcher, schema, ids, ord_field
        self._num_docs = searcher.num_docs
        self._exceptions: OrderedDict[Key, tuple[str, ...] | None] = OrderedDict()
        self._pending: dict[Key, threading.Event] = {}
        self._lock = threading.Lock()

    def doc_freq(self, field: str, token: str) -> int:
        return self._searcher.doc_freq(field, token)

    def idf(self, field: str, token: str) -> float:
        return idf(self.doc_freq(field, token), self._num_docs)

    def exceptions(self, field: str, positions: tuple[tuple[int, str], ...],
                   tokens: tuple[str, ...]) -> tuple[str, ...] | None:
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
                while len(self._exceptions) > CACHE_SIZE:
                    self._exceptions.popitem(last=False)
            return found
        finally:
            with self._lock:
                self._pending.pop(key).set()

    def _find(self, field: str, positions: tuple[tuple[int, str], ...], tokens: tuple[str, ...]) -> tuple[str, ...] | None:
        phrase = Query.phrase_query(self._schema, field, list(positions))
        every = [(Occur.Must, Query.term_query(self._schema, field, t)) for t in tokens]
        query = Query.const_score_query(Query.boolean_query(every + [(Occur.MustNot, phrase)]), 0.0)
        result = self._searcher.search(query, limit=MAX_EXCEPTIONS + 1, count=False)
        if len(result.hits) > MAX_EXCEPTIONS:
            return None
        addresses = [address for _, address in result.hits]
        ords = self._searcher.fast_field_values(self._ord_field, addresses) if addresses else []
        return tuple(sorted(self._ids[o] for o in ords))
