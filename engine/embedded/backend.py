"""`EmbeddedBackend`: the `SearchBackend` over one committed build directory (read-only)."""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import tantivy
from tantivy import Occur, Query

from contract import provenance
from contract.backend import FACETS, BackendUnavailable, Filters, Ranked, Sort
from contract.query import ParsedQuery
from engine.embedded import layout
from engine.embedded.phrases import BuildPhraseStats
from engine.embedded.query import filter_query, full_query, match_share
from engine.embedded.schema import SCHEMA_VERSION, facet_field
from engine.embedded.store import CaseStore
from engine.embedded.vectors import VectorIndex

# A filter matching at most this share of the cases is pushed down to the text leaves (see
# engine.embedded.query._within). Measured at 100k: one department (3.5 %) under
# "ガバメントクラウド 再委託" 26 -> 4 ms; two fiscal years (17 %) 44 -> 16 ms; a cheap one-bigram
# query (委託) pays ~1.5 ms for the two years, nothing for a single value.
PUSH_MAX_FRACTION = 0.2
COMPILED_CACHE_SIZE = 512
# Facet counts of a query estimated to match more than this share of the cases are counted over
# the cases it does NOT match: counts(filters) - counts(filters AND NOT query), the first cached
# per filters. A terms aggregation costs per matched case (at 100k, 委託: 93,970 cases, 7.7 ms of
# CPU), the complement's match far less (docs/benchmarks.md, "Keyword path, by profile").
COMPLEMENT_SHARE = 0.47
# The complement needs every value of a facet, not the top `size`: a terms aggregation this wide
# returns them all (a facet has tens to hundreds of values); a wider one falls back to counting
# the matches themselves (`sum_other_doc_count` says when values were left out).
ALL_VALUES = 10_000
BASE_COUNTS_CACHE_SIZE = 256


def _query_key(query: ParsedQuery) -> tuple:
    return (query.groups, query.excluded, query.case_number, query.case_id)


def _filters_key(filters: Filters) -> tuple:
    return (tuple(sorted((k, tuple(v)) for k, v in filters.selected.items() if v)),
            filters.date_from, filters.date_to)


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, build_dir: Path, *, facet_cache_size: int = 256):
        self.build_dir = Path(build_dir)
        # A build never changes, so facet counts per (query, filters) stay valid for the backend's
        # life: paging through a broad query (or the CSV export) aggregates once, not per page.
        self._facet_cache: OrderedDict[tuple, dict[str, list[tuple[str, int]]]] = OrderedDict()
        self._facet_cache_size = facet_cache_size
        self._facet_lock = threading.Lock()
        # Compiled tantivy queries per (query, filters, scoring): building one is ~0.4 ms of Python
        # for a two-word query (8 fields x variants x leaves); tantivy Query objects are immutable
        # and usable from any thread.
        self._compiled: OrderedDict[tuple, tantivy.Query] = OrderedDict()
        # per (filters, facet): every value's count under the filters alone (the complement's base)
        self._base_counts: OrderedDict[tuple, dict[str, int]] = OrderedDict()
        try:
            self.meta: dict[str, Any] = json.loads((self.build_dir / "meta.json").read_text(encoding="utf-8"))
            self.index = tantivy.Index.open(str(self.build_dir / "tantivy"))
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(f"cannot open index at {self.build_dir}: {exc}") from exc
        if self.meta.get("schema_version") != SCHEMA_VERSION:
            raise BackendUnavailable(
                f"the index at {self.build_dir} has schema version {self.meta.get('schema_version')}, this "
                f"version reads {SCHEMA_VERSION}: rebuild it with `council-search index`")
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        self.store = CaseStore(self.build_dir)
        # learned per phrase over the backend's life (engine/embedded/phrases.py): the match sets
        # of multi-token phrases without reading positions
        self.phrases = BuildPhraseStats(self.searcher, self.schema, self._ids_of)
        dim = self.meta.get("dim")
        self.vectors: VectorIndex | None = (
            VectorIndex.load(self.build_dir / "vectors", len(self.store), int(dim)) if dim else None)

    @classmethod
    def open(cls, data_dir: Path, **kwargs: Any) -> "EmbeddedBackend":
        """The build CURRENT points at (raises layout.IndexMissing if none)."""
        return cls(layout.current_build(Path(data_dir)), **kwargs)

    # -- SearchBackend -------------------------------------------------------------------
    def _query(self, query: ParsedQuery, filters: Filters, scoring: bool) -> tantivy.Query:
        push = self._push(filters)
        key = (_query_key(query), _filters_key(filters), scoring, push and _filters_key(push))
        with self._facet_lock:
            q = self._compiled.get(key)
            if q is not None:
                self._compiled.move_to_end(key)
                return q
        q = full_query(self.schema, query, filters, self.phrases, scoring=scoring, push=push)
        with self._facet_lock:
            self._compiled[key] = q
            while len(self._compiled) > COMPILED_CACHE_SIZE:
                self._compiled.popitem(last=False)
        return q

    def keyword(self, query: ParsedQuery, filters: Filters, sort: Sort, offset: int, limit: int) -> Ranked:
        limit = max(0, int(limit))
        if limit == 0:
            # a count alone (engine.searcher.count_matches): the match-only query has the same
            # matches without scoring them (at 100k, 外部結合 業務委託: ~2.5 ms of CPU, not ~10)
            result = self.searcher.search(self._query(query, filters, scoring=False), limit=1, count=True)
            return Ranked(ids=[], scores=[], total=int(result.count or 0))
        q = self._query(query, filters, scoring=True)
        if sort == Sort.relevance:
            result = self.searcher.search(q, limit=max(limit, 1), offset=offset, count=True)
        else:
            order = tantivy.Order.Desc if sort == Sort.newest else tantivy.Order.Asc
            result = self.searcher.search(q, limit=max(limit, 1), offset=offset, count=True,
                                          order_by_field="meeting_date", order=order)
        hits = result.hits[:limit]
        ids = self._ids_of(hits)
        if sort == Sort.relevance:
            scores = [float(s) for s, _ in hits]
        else:
            scores = [0.0] * len(hits)
        return Ranked(ids=ids, scores=scores, total=int(result.count or 0))

    def match_ids(self, query: ParsedQuery, filters: Filters, ids: list[str]) -> set[str]:
        """Which of `ids` the keyword query (with filters) matches (hybrid mode's exact totals and
        facet counts)."""
        known = [i for i in ids if i in self.store.ord_of]
        if not known:
            return set()
        if len(known) > PUSH_MAX_FRACTION * len(self.store):
            # The ids are a large share of the index (a small index: at 51 cases the hybrid window
            # is all of it): an id clause at every text leaf then costs more than it saves (0.3 ms
            # a call, four calls per hybrid query). Match the whole index with the compiled,
            # cached query and keep the ids asked about: the same set.
            q, limit = self._query(query, filters, scoring=False), len(self.store)
        else:
            q, limit = full_query(self.schema, query, filters, self.phrases, ids=known, scoring=False), len(known)
        return set(self._ids_of(self.searcher.search(q, limit=limit, count=False).hits)).intersection(known)

    def _ids_of(self, hits: list[tuple[Any, Any]]) -> list[str]:
        """The case ids of tantivy hits, in order (their `ord` fast field indexes the store)."""
        ords = self.searcher.fast_field_values("ord", [addr for _, addr in hits]) if hits else []
        return [self.store.ids[o] for o in ords]

    def _push(self, filters: Filters) -> Filters | None:
        """The single most selective filter (one facet's selection or the date range), if it
        keeps at most PUSH_MAX_FRACTION of the cases; one is enough: each pushed clause is
        re-instantiated at every text leaf."""
        n = len(self.store)
        best: Filters | None = None
        best_count = PUSH_MAX_FRACTION * n
        for name, values in filters.selected.items():
            if not values:
                continue
            postings = self.store.facet_postings.get(name, {})
            count = sum(len(postings.get(v, ())) for v in values)   # upper bound of the OR
            if count <= best_count:
                best, best_count = Filters({name: tuple(values)}), count
        if filters.date_from is not None or filters.date_to is not None:
            in_range = self.store.mask({}, filters.date_from, filters.date_to)
            count = n if in_range is None else int(in_range.sum())
            if count <= best_count:
                best = Filters(date_from=filters.date_from, date_to=filters.date_to)
        return best

    def knn(self, vector: np.ndarray, filters: Filters, k: int, exclude: tuple[str, ...] = ()) -> Ranked:
        if self.vectors is None:
            raise BackendUnavailable("this index was built without embeddings (semantic search unavailable)")
        excl = tuple(self.store.ord_of[i] for i in exclude if i in self.store.ord_of)
        mask = self.store.mask(filters.selected, filters.date_from, filters.date_to, excl)
        total = len(self.store) if mask is None else int(mask.sum())
        ords, scores = self.vectors.search(np.asarray(vector, dtype=np.float32), int(k), mask)
        return Ranked(ids=[self.store.ids[o] for o in ords], scores=[float(s) for s in scores],
                      total=min(total, len(ords)) if total else 0)

    def facet_counts(self, query: ParsedQuery, filters: Filters, size: int = 100) -> dict[str, list[tuple[str, int]]]:
        cached = self.cached_facet_counts(query, filters, size)
        if cached is not None:
            return cached
        key = (_query_key(query), _filters_key(filters), size)
        counts = self._facet_counts(query, filters, size)
        if self._facet_cache_size > 0:
            with self._facet_lock:
                self._facet_cache[key] = counts
                while len(self._facet_cache) > self._facet_cache_size:
                    self._facet_cache.popitem(last=False)
        return counts

    def cached_facet_counts(self, query: ParsedQuery, filters: Filters, size: int = 100
                            ) -> dict[str, list[tuple[str, int]]] | None:
        """The facet counts if this backend has them already, else None (no aggregation run): the
        searcher asks first, and only sends a count it has to compute to another thread."""
        key = (_query_key(query), _filters_key(filters), size)
        with self._facet_lock:
            cached = self._facet_cache.get(key)
            if cached is not None:
                self._facet_cache.move_to_end(key)
            return cached

    def _facet_counts(self, query: ParsedQuery, filters: Filters, size: int) -> dict[str, list[tuple[str, int]]]:
        out: dict[str, list[tuple[str, int]]] = {}
        selected = {name for name, values in filters.selected.items() if values}
        # one aggregation for all facets without a selection, one per selected facet (ignoring itself)
        plain = [name for name in FACETS if name not in selected]
        if plain:
            out.update(self._aggregate(query, filters, plain, size))
        for name in FACETS:
            if name in selected:
                out.update(self._aggregate(query, filters.without(name), [name], size))
        return {name: out.get(name, []) for name in FACETS}

    def _aggregate(self, query: ParsedQuery, filters: Filters, names: list[str], size: int) -> dict[str, list[tuple[str, int]]]:
        if match_share(query, self.phrases, len(self.store)) > COMPLEMENT_SHARE:
            counts = self._complement(query, filters, names, size)
            if counts is not None:
                return counts
        out, _ = self._terms(self._query(query, filters, scoring=False), names, size)
        return {name: list(values.items()) for name, values in out.items()}

    def _terms(self, q: tantivy.Query, names: list[str], size: int) -> tuple[dict[str, dict[str, int]], bool]:
        """Terms aggregations over `q`'s cases: per facet, its top `size` values (count descending,
        then value ascending: tantivy's order, kept by the dict) -> count; and whether any facet
        had values left out."""
        aggs = {name: {"terms": {"field": facet_field(name), "size": int(size)}} for name in names}
        result = self.searcher.aggregate(q, aggs)
        out, cut = {}, False
        for name in names:
            agg = result.get(name, {})
            out[name] = {str(b["key"]): int(b["doc_count"]) for b in agg.get("buckets", [])}
            cut = cut or bool(agg.get("sum_other_doc_count"))
        return out, cut

    def _complement(self, query: ParsedQuery, filters: Filters, names: list[str],
                    size: int) -> dict[str, list[tuple[str, int]]] | None:
        """Facet counts as counts(filters) - counts(filters AND NOT query): the same counts (a
        value's cases under the filters are those that match plus those that do not), counted over
        the cases the query does not match. None when a facet has more than ALL_VALUES values."""
        base = self._filter_counts(filters, names)
        if base is None:
            return None
        rest, cut = self._terms(Query.boolean_query([(Occur.Must, filter_query(self.schema, filters)),
                                                     (Occur.MustNot, self._query(query, filters, scoring=False))]),
                                names, ALL_VALUES)
        if cut:
            return None
        out = {}
        for name in names:
            left = rest[name]
            counts = [(value, n - left.get(value, 0)) for value, n in base[name].items()]
            # tantivy's order and cut: count descending, then value; values with no case omitted
            counts = sorted(((v, n) for v, n in counts if n > 0), key=lambda vn: (-vn[1], vn[0]))
            out[name] = counts[:max(0, int(size))]
        return out

    def _filter_counts(self, filters: Filters, names: list[str]) -> dict[str, dict[str, int]] | None:
        """Every value's count per facet under `filters` alone, cached per (filters, facet)."""
        fkey = _filters_key(filters)
        with self._facet_lock:
            found = {name: self._base_counts.get((fkey, name)) for name in names}
        missing = [name for name, counts in found.items() if counts is None]
        if missing:
            fresh, cut = self._terms(filter_query(self.schema, filters), missing, ALL_VALUES)
            if cut:
                return None
            with self._facet_lock:
                for name, counts in fresh.items():
                    self._base_counts[(fkey, name)] = counts
                while len(self._base_counts) > BASE_COUNTS_CACHE_SIZE:
                    self._base_counts.popitem(last=False)
            found.update(fresh)
        return found   # type: ignore[return-value]

    def fetch(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        out = {}
        for case_id in ids:
            ordinal = self.store.ord_of.get(case_id)
            if ordinal is not None:
                out[case_id] = self.store.record(ordinal)
        return out

    def case_vector(self, case_id: str) -> np.ndarray | None:
        ordinal = self.store.ord_of.get(case_id)
        if ordinal is None or self.vectors is None:
            return None
        return np.asarray(self.vectors.case_vectors[ordinal], dtype=np.float32)

    def passage_vectors(self, case_id: str) -> np.ndarray | None:
        ordinal = self.store.ord_of.get(case_id)
        if ordinal is None or self.vectors is None:
            return None
        start = self.vectors.passage_start
        return np.asarray(self.vectors.passages[int(start[ordinal]):int(start[ordinal + 1])], dtype=np.float32)

    def records(self) -> Iterator[dict[str, Any]]:
        for ordinal in range(len(self.store)):
            yield self.store.record(ordinal, cache=False)

    def case_vector_sample(self, limit: int) -> np.ndarray:
        """Up to `limit` case vectors, evenly spaced over the stored order (all of them when there
        are fewer): what the corpus z-score of engine/matching.py is computed from."""
        if self.vectors is None or len(self.store) == 0:
            return np.zeros((0, int(self.meta.get("dim") or 0)), dtype=np.float32)
        step = max(1, -(-len(self.store) // max(1, int(limit))))
        return np.asarray(self.vectors.case_vectors[::step], dtype=np.float32)

    def same_project(self, case_id: str) -> list[str]:
        """Ids of cases sharing the case's normalised 事業名 (including itself)."""
        ordinal = self.store.ord_of.get(case_id)
        if ordinal is None:
            return []
        key = self.store.project_keys[ordinal]
        return [self.store.ids[o] for o in self.store.by_project.get(key, [])] if key else []

    def info(self) -> dict[str, Any]:
        built_at = self.meta.get("built_at")
        return {
            "backend": self.name,
            "records": len(self.store),
            "built_at": dt.datetime.fromisoformat(built_at) if built_at else None,
            "embedder": self.meta.get("embedder"),
            "embedder_version": self.meta.get("embedder_version"),
            "analyzer_version": self.meta.get("analyzer_version"),
            "passages": self.meta.get("passages", 0),
            "build": self.build_dir.name,
            **provenance.read(self.meta.get("extra")),
        }

    def close(self) -> None:
        self.store.close()
        if self.vectors is not None:
            self.vectors.close()
