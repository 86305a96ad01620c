"""Backend parity on the judged query set: the same query through two Searchers (the embedded
engine and OpenSearch, same records, same analyzers, same vectors) must give the same totals, facet
counts and matched sets; rankings may differ where the engines do (BM25 statistics, HNSW vs exact
kNN), and top-10 overlap and Kendall's tau say by how much.

    python -m evaluation.backend_parity            # needs OPENSEARCH_URL (e.g. `make opensearch`)

builds both evaluation indexes from corpus/records with the configured embedder (as `council-search
eval` does: var/eval/<embedder>, and the alias <OPENSEARCH_INDEX>-eval-<embedder>) and prints one row
per mode plus the queries that differ (exit 1 if any total, facet count or matched set differs).
"""
from __future__ import annotations

import argparse
import copy
import itertools
import sys
from dataclasses import dataclass
from typing import Any, Iterable

from evaluation.cli import load_eval_searcher
from evaluation.queryset import DEFAULT_QUERIES, QuerySet, load_queries
from evaluation.runner import MODES, with_memo_query_vectors

TOP = 10


@dataclass
class Row:
    query_id: str
    mode: str                 # a Mode value, or "similar"
    totals: tuple[int, int]
    facets_equal: bool
    ids: tuple[list[str], list[str]]   # the whole result lists, in rank order
    scores: tuple[list[float], list[float]] = ([], [])

    @property
    def sets_equal(self) -> bool:
        return set(self.ids[0]) == set(self.ids[1])

    @property
    def equal(self) -> bool:
        return self.totals[0] == self.totals[1] and self.facets_equal and self.sets_equal

    @property
    def top_overlap(self) -> float | None:
        a, b = self.ids[0][:TOP], self.ids[1][:TOP]
        n = max(len(a), len(b))
        return len(set(a) & set(b)) / n if n else None

    @property
    def tau(self) -> float | None:
        return kendall_tau(*self.ids)

    @property
    def tau_untied(self) -> float | None:
        """Kendall's tau over the pairs that neither engine scores equally: what is left once each
        engine's own order of exact ties (tantivy: index order of the build; OpenSearch: case
        number, id) is set aside."""
        tied = set()
        for ids, scores in zip(self.ids, self.scores):
            by_score: dict[float, list[str]] = {}
            for i, sc in zip(ids, scores):
                by_score.setdefault(round(sc, 5), []).append(i)
            tied |= {frozenset(p) for group in by_score.values() for p in itertools.combinations(group, 2)}
        return kendall_tau(*self.ids, skip=tied)


def kendall_tau(a: list[str], b: list[str], skip: set[frozenset] = frozenset()) -> float | None:
    """Kendall's tau-a over the cases both rankings contain, leaving out the pairs in `skip`
    (None when fewer than one pair is left)."""
    common = [x for x in a if x in set(b)]
    pos = {x: i for i, x in enumerate(b)}
    concordant = discordant = 0
    for x, y in itertools.combinations(common, 2):  # x before y in a
        if frozenset((x, y)) in skip:
            continue
        if pos[x] < pos[y]:
            concordant += 1
        else:
            discordant += 1
    if concordant + discordant == 0:
        return None
    return (concordant - discordant) / (concordant + discordant)


def _facets(resp: Any) -> dict[str, dict[str, int]]:
    return {k: {v.value: v.count for v in vals} for k, vals in resp.facets.items()}


def compare(a: Any, b: Any, queries: QuerySet, modes: Iterable[str] = MODES, similar: bool = True) -> list[Row]:
    """One Row per (text query, mode) and per similar-case query. Whole result lists: the corpus is
    smaller than a page of max_page_size. Both sides share one memoised query embedder (same model:
    each query text is embedded once)."""
    a = with_memo_query_vectors(a)
    if a.embedder is not None and b.embedder is not None and a.embedder.name == b.embedder.name:
        b = copy.copy(b)
        b.embedder = a.embedder
    rows = []
    for q in queries.text_queries():
        for mode in modes:
            ra = a.search(a.params(q=q.text, mode=mode, size=a.max_page_size))
            rb = b.search(b.params(q=q.text, mode=mode, size=b.max_page_size))
            if max(ra.total, rb.total) > a.max_page_size:
                raise ValueError(f"{q.id}: {max(ra.total, rb.total)} results do not fit one page")
            rows.append(Row(q.id, mode, (ra.total, rb.total), _facets(ra) == _facets(rb),
                            ([h.id for h in ra.hits], [h.id for h in rb.hits]),
                            ([h.score for h in ra.hits], [h.score for h in rb.hits])))
    if similar:
        for q in queries.similar_queries():
            ra, rb = a.similar(q.source, size=50), b.similar(q.source, size=50)
            rows.append(Row(q.id, "similar", (ra.total, rb.total), True,
                            ([h.id for h in ra.hits], [h.id for h in rb.hits]),
                            ([h.score for h in ra.hits], [h.score for h in rb.hits])))
    return rows


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def summary_table(rows: list[Row]) -> str:
    """Markdown: per mode, how many queries agree on totals/facets/sets, mean and min top-10
    overlap, mean and min Kendall tau."""
    out = ["| mode | queries | totals equal | facets equal | matched sets equal | top-10 overlap mean (min) "
           "| same order | Kendall τ mean (min) | τ without exact ties, mean (min) |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for mode in [*MODES, "similar"]:
        rs = [r for r in rows if r.mode == mode]
        if not rs:
            continue
        overlaps = [r.top_overlap for r in rs if r.top_overlap is not None]
        taus = [r.tau for r in rs if r.tau is not None]
        untied = [r.tau_untied for r in rs if r.tau_untied is not None]
        out.append(f"| {mode} | {len(rs)} | {sum(r.totals[0] == r.totals[1] for r in rs)} | "
                   f"{sum(r.facets_equal for r in rs)} | {sum(r.sets_equal for r in rs)} | "
                   f"{_fmt(_mean(overlaps))} ({_fmt(min(overlaps, default=None))}) | "
                   f"{sum(r.ids[0] == r.ids[1] for r in rs)} | "
                   f"{_fmt(_mean(taus))} ({_fmt(min(taus, default=None))}) | "
                   f"{_fmt(_mean(untied))} ({_fmt(min(untied, default=None))}) |")
    return "\n".join(out)


def differences(rows: list[Row], limit: int = 20) -> str:
    """The rows whose rankings differ most (lowest tau), and every row that is not equal."""
    lines = []
    for r in [r for r in rows if not r.equal]:
        only_a = sorted(set(r.ids[0]) - set(r.ids[1]))
        only_b = sorted(set(r.ids[1]) - set(r.ids[0]))
        lines.append(f"NOT EQUAL {r.query_id} [{r.mode}] totals {r.totals} facets_equal={r.facets_equal} "
                     f"only first: {only_a} only second: {only_b}")
    ranked = sorted((r for r in rows if r.tau is not None and r.tau < 1.0), key=lambda r: r.tau)
    for r in ranked[:limit]:
        lines.append(f"{r.query_id} [{r.mode}] tau {r.tau:.3f} (untied {_fmt(r.tau_untied)}) top-10 overlap "
                     f"{_fmt(r.top_overlap)}: {[i[-3:] for i in r.ids[0][:6]]} vs {[i[-3:] for i in r.ids[1][:6]]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", default=str(DEFAULT_QUERIES))
    parser.add_argument("--embedder", default=None)
    args = parser.parse_args(argv)
    queries = load_queries(args.queries)
    embedded, _ = load_eval_searcher(args.embedder)
    opensearch, _ = load_eval_searcher(embedded.embedder.name, backend="opensearch")
    rows = compare(embedded, opensearch, queries)
    print(f"embedded vs OpenSearch {opensearch.backend.info().get('opensearch_version')}, "
          f"{len(queries.queries)} judged queries, embedder {embedded.embedder.name}")
    print(summary_table(rows))
    print()
    print(differences(rows))
    return 0 if all(r.equal for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
