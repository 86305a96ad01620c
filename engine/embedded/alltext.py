"""`AllTextStats`: what the query builder (engine/embedded/query.py, `AllText`) learns about one
build's all-text bigram field: document frequencies, and per bigram phrase its *exceptions*, the
cases that hold every token of the phrase but not the phrase.

A phrase's match set is then the case-level AND of its tokens minus the exceptions, computed
without reading positions. Finding the exceptions is one phrase pass (what every query paid on
every search before, twice: ranked pass and facet pass), done the first time a phrase is asked
for and kept for the life of the backend: a build never changes, so they stay true. Measured at
100k synthetic cases (docs/benchmarks.md): 業務委託 has 2 exceptions among 80,049 cases, 外部結合 0;
a phrase with more than MAX_EXCEPTIONS (再委託先: 9,924) is left to the phrase query.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import tantivy
from tantivy import Occur, Query

from engine.embedded.query import bigram_chain, idf
from engine.embedded.schema import ALL_BIGRAMS

# Exceptions are excluded by id (a disjunction of term queries under must_not); beyond this many
# that costs more than the phrase it replaces would.
MAX_EXCEPTIONS = 1000
# Phrases remembered (a few ids each; ~100 bytes for most): the distinct query words of a busy day.
CACHE_SIZE = 20_000
_TOO_MANY = None


class AllTextStats:
    def __init__(self, searcher: tantivy.Searcher, schema: tantivy.Schema, ids: list[str],
                 ord_field: str = "ord"):
        self._searcher, self._schema, self._ids, self._ord_field = searcher, schema, ids, ord_field
        self._num_docs = searcher.num_docs
        self._exceptions: OrderedDict[tuple[str, ...], tuple[str, ...] | None] = OrderedDict()
        self._pending: dict[tuple[str, ...], threading.Event] = {}
        self._lock = threading.Lock()

    def doc_freq(self, token: str) -> int:
        return self._searcher.doc_freq(ALL_BIGRAMS, token)

    def idf(self, token: str) -> float:
        return idf(self.doc_freq(token), self._num_docs)

    def exceptions(self, sequence: tuple[str, ...]) -> tuple[str, ...] | None:
        while True:
            with self._lock:
                if sequence in self._exceptions:
                    self._exceptions.move_to_end(sequence)
                    return self._exceptions[sequence]
                pending = self._pending.get(sequence)
                if pending is None:
                    # this thread computes; concurrent askers (the ranked and the facet pass of
                    # the same search) wait for it instead of paying the phrase pass twice
                    self._pending[sequence] = threading.Event()
                    break
            pending.wait()
        try:
            found = self._find(sequence)
            with self._lock:
                self._exceptions[sequence] = found
                while len(self._exceptions) > CACHE_SIZE:
                    self._exceptions.popitem(last=False)
            return found
        finally:
            with self._lock:
                self._pending.pop(sequence).set()

    def _find(self, sequence: tuple[str, ...]) -> tuple[str, ...] | None:
        phrase = bigram_chain(self._schema, ALL_BIGRAMS, sequence)
        assert phrase is not None
        tokens = dict.fromkeys(sequence)
        every = [(Occur.Must, Query.term_query(self._schema, ALL_BIGRAMS, t)) for t in tokens]
        query = Query.const_score_query(Query.boolean_query(every + [(Occur.MustNot, phrase)]), 0.0)
        result = self._searcher.search(query, limit=MAX_EXCEPTIONS + 1, count=False)
        if len(result.hits) > MAX_EXCEPTIONS:
            return _TOO_MANY
        addresses = [address for _, address in result.hits]
        ords = self._searcher.fast_field_values(self._ord_field, addresses) if addresses else []
        return tuple(sorted(self._ids[o] for o in ords))
