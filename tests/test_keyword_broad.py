"""Broad keyword queries (most of the cases match) at scale: the embedded backend counts their facet
values over the cases they do NOT match (`EmbeddedBackend._complement`: counts(filters) minus
counts(filters AND NOT query)). The counts must be the very lists the direct aggregation gives —
values, counts, order and cut at `size` — for every pinned query, with and without filters."""
from __future__ import annotations

import datetime as dt

import pytest

from analyzers import parse_query
from contract.backend import Filters
from engine.embedded import backend as embedded
from engine.embedded.query import match_share
from scenarios import match_queries, oracle
from scenarios.corpus import documents


@pytest.fixture(scope="module")
def build_dir(searcher):
    return searcher.backend.build_dir


def _filter_sets(backend) -> list[Filters]:
    """No filter, one municipality, a department with a date range, two fiscal years plus a
    category: facets with a selection are counted ignoring it (one aggregation each)."""
    store = backend.store
    pick = {name: sorted(values, key=lambda v: -len(values[v]))
            for name, values in store.facet_postings.items()}
    return [
        Filters(),
        Filters({"municipality": tuple(pick["municipality"][:1])}),
        Filters({"department": tuple(pick["department"][:1])}, date_from=dt.date(2020, 1, 1)),
        Filters({"fiscal_year": tuple(pick["fiscal_year"][:2]), "category": tuple(pick["category"][:1])}),
    ]


def _counts(build_dir, monkeypatch, share: float, queries, filter_sets, size: int = 100):
    monkeypatch.setattr(embedded, "COMPLEMENT_SHARE", share)
    b = embedded.EmbeddedBackend(build_dir, facet_cache_size=0)
    try:
        return [b._facet_counts(parse_query(q), f, size) for q in queries for f in filter_sets]
    finally:
        b.close()


def test_complement_counts_are_the_direct_counts(build_dir, searcher, monkeypatch):
    queries = ["", "委託", "個人情報"] + match_queries.all_queries()
    filter_sets = _filter_sets(searcher.backend)
    direct = _counts(build_dir, monkeypatch, 2.0, queries, filter_sets)          # never the complement
    complement = _counts(build_dir, monkeypatch, -1.0, queries, filter_sets)     # always
    assert complement == direct
    # a cut below the number of values (ties at the cut broken by value, as tantivy does)
    assert (_counts(build_dir, monkeypatch, -1.0, queries[:40], filter_sets, size=3)
            == _counts(build_dir, monkeypatch, 2.0, queries[:40], filter_sets, size=3))


def test_the_default_threshold_takes_the_complement_for_broad_queries_only(build_dir, searcher, monkeypatch):
    backend = searcher.backend
    n = len(backend.store)
    shares = {q: match_share(parse_query(q), backend.phrases, n) for q in match_queries.all_queries()}
    broad = [q for q, s in shares.items() if s > embedded.COMPLEMENT_SHARE]
    assert broad and len(broad) < len(shares)        # both paths are taken by the pinned queries
    docs = documents()
    for q in broad:
        # the estimate bounds each word by its rarest bigram: it never reads less than the truth
        # for a one-word query
        parsed = parse_query(q)
        if len(parsed.groups) == 1 and len(parsed.groups[0].terms) == 1 and not parsed.excluded:
            assert shares[q] * n >= len(oracle.search(docs, parsed, Filters())) - 1e-9
    monkeypatch.setattr(embedded, "COMPLEMENT_SHARE", embedded.COMPLEMENT_SHARE)
    fresh = embedded.EmbeddedBackend(build_dir, facet_cache_size=0)
    try:
        for q in broad:
            counts = {k: dict(v) for k, v in fresh._facet_counts(parse_query(q), Filters(), 100).items()}
            assert counts == oracle.facet_counts(docs, parse_query(q), Filters()), q
        assert fresh._base_counts        # the filters' own counts were kept for the next query
    finally:
        fresh.close()


def test_a_facet_wider_than_the_complement_reads_falls_back_to_the_direct_count(build_dir, searcher, monkeypatch):
    """The complement needs every value of a facet; when a facet has more than ALL_VALUES values
    the aggregation says some were left out and the matches are counted directly."""
    queries = ["", "委託", "個人情報"]
    filter_sets = _filter_sets(searcher.backend)[:2]
    direct = _counts(build_dir, monkeypatch, 2.0, queries, filter_sets)
    monkeypatch.setattr(embedded, "ALL_VALUES", 2)
    assert _counts(build_dir, monkeypatch, -1.0, queries, filter_sets) == direct


def test_the_filters_counts_cache_stays_within_its_bound(build_dir, searcher, monkeypatch):
    monkeypatch.setattr(embedded, "BASE_COUNTS_CACHE_SIZE", 5)
    monkeypatch.setattr(embedded, "COMPLEMENT_SHARE", -1.0)
    b = embedded.EmbeddedBackend(build_dir, facet_cache_size=0)
    try:
        for f in _filter_sets(searcher.backend):
            b._facet_counts(parse_query("委託"), f, 100)
            assert len(b._base_counts) <= 5
    finally:
        b.close()
