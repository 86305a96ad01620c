"""Broad keyword queries at scale (docs/benchmarks.md, "Keyword path, by profile"), two changes
that must not move any result:

- a phrase's match is the AND of as few of its rarest tokens as leave few exceptions
  (engine/embedded/query.py `_fewest_tokens`): the same matched sets and bit-identical scores, so
  the same ranking, as the AND of every token — on the real corpus and on a synthetic index;
- facet counts of a query matching most of the cases are counted over the cases it does NOT
  match (`EmbeddedBackend._complement`): the very lists the direct aggregation gives — values,
  counts, order and cut at `size` — for every pinned query, with and without filters."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from analyzers import parse_query
from contract.backend import Filters, Sort
from engine.embedded import backend as embedded
from engine.embedded import phrases as phrase_stats
from engine.embedded import query as query_builder
from engine.embedded.query import match_share
from scenarios import match_queries, oracle
from scenarios.corpus import documents

# the benchmark's queries (bench/bench_search.py) and the words they are made of
BENCH_QUERIES = [
    "委託", "ガバメントクラウド 再委託", "防犯カメラ", "個人番号", "外部結合 業務委託", "マイナポータル",
    "税務システム", "児童 虐待", "クラウド", '"特定個人情報保護評価"', "予防接種 -委託", "住民記録 OR 印鑑登録",
    "電子申請", "LINE", "健康診査", "生活保護", "AWS", "再委託先", "ふるさと納税", "学校 連絡",
    "業務委託", "外部結合", "ガバメントクラウド", "再委託", "個人情報保護", "特定個人情報",
]


@pytest.fixture(scope="module")
def synthetic_build(tmp_path_factory):
    """A text-only index of 1,500 synthetic cases (bench/synth.py: real cases' shapes and sentences,
    one privacy council's topic density, so broad words match most cases)."""
    from bench.synth import generate
    from engine.embedded import layout
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    records = tmp_path_factory.mktemp("synth-records")
    with open(records / "cases.jsonl", "w", encoding="utf-8") as fh:
        for record in generate(1500, seed=13):
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    data = tmp_path_factory.mktemp("synth-index")
    build_index(records, EmbeddedWriter(data), None, None, progress=False)
    return layout.current_build(data)


def _ranked_lists(build_dir, monkeypatch, tries: int, queries: list[str]):
    """Every query's full ranked list (ids and float scores), match_ids and facet counts, with
    phrases decided by the rarest `tries` tokens at most (0: by every token, the shape before)."""
    monkeypatch.setattr(query_builder, "FEWEST_TRIES", tries)
    b = embedded.EmbeddedBackend(build_dir, facet_cache_size=0)
    try:
        everyone = list(b.store.ids)
        out = {}
        for q in queries:
            parsed = parse_query(q)
            ranked = b.keyword(parsed, Filters(), Sort.relevance, 0, len(everyone))
            out[q] = (ranked.ids, ranked.scores, ranked.total, sorted(b.match_ids(parsed, Filters(), everyone)),
                      b._facet_counts(parsed, Filters(), 100))
        fewer = [(key, found) for key, found in b.phrases._exceptions.items()
                 if found is not None and len(key[2]) < len({t for _, t in key[1]})]
        return out, fewer
    finally:
        b.close()


@pytest.mark.parametrize("corpus", ["real", "synthetic"])
def test_fewest_tokens_keep_matches_scores_and_order(corpus, searcher, synthetic_build, monkeypatch):
    # every phrase goes through the exceptions path, however few cases hold it (the corpora are small)
    monkeypatch.setattr(phrase_stats, "MIN_CANDIDATES", 0)
    build_dir = searcher.backend.build_dir if corpus == "real" else synthetic_build
    queries = BENCH_QUERIES + (match_queries.all_queries() if corpus == "real" else [])
    tries = query_builder.FEWEST_TRIES
    before, _ = _ranked_lists(build_dir, monkeypatch, 0, queries)
    after, fewer = _ranked_lists(build_dir, monkeypatch, tries, queries)
    assert fewer, "no phrase was decided by fewer tokens: the new path is untested"
    differ = [q for q in queries if after[q] != before[q]]
    assert not differ
    assert sum(1 for q in queries if after[q][2]) > len(queries) // 2     # not vacuous


@pytest.mark.parametrize("corpus", ["real", "synthetic"])
@pytest.mark.parametrize("path", ["phrase query", "exceptions"])
def test_three_bigram_phrases_matched_on_two_keep_matches_scores_and_order(corpus, path, searcher, synthetic_build,
                                                                          monkeypatch):
    # "phrase query": the default below MIN_CANDIDATES (the phrase decides the match itself);
    # "exceptions": every phrase's exceptions are found by a phrase pass over its thinned positions
    if path == "exceptions":
        monkeypatch.setattr(phrase_stats, "MIN_CANDIDATES", 0)
    build_dir = searcher.backend.build_dir if corpus == "real" else synthetic_build
    queries = BENCH_QUERIES + (match_queries.all_queries() if corpus == "real" else [])
    tries = query_builder.FEWEST_TRIES
    monkeypatch.setattr(query_builder, "MATCH_CHAIN_MIN", 4)     # the rule before: chains of 4 and more
    before, _ = _ranked_lists(build_dir, monkeypatch, tries, queries)
    monkeypatch.setattr(query_builder, "MATCH_CHAIN_MIN", 3)
    after, _ = _ranked_lists(build_dir, monkeypatch, tries, queries)
    assert not [q for q in queries if after[q] != before[q]]
    four_chars = [q for q in queries if len(q) == 4 and after[q][2]]
    assert len(four_chars) >= 5                                    # the thinned phrases were exercised
    assert query_builder._chain_positions(("再委", "委託", "託先")) == [(0, "再委"), (2, "託先")]


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


def test_a_count_alone_is_the_ranked_total(searcher):
    """keyword(..., limit=0) (engine.searcher.count_matches) counts with the match-only query:
    the same total as a ranked search, with and without filters."""
    backend = searcher.backend
    for f in _filter_sets(backend):
        for q in BENCH_QUERIES + match_queries.all_queries()[:120]:
            parsed = parse_query(q)
            counted = backend.keyword(parsed, f, Sort.relevance, 0, 0)
            ranked = backend.keyword(parsed, f, Sort.relevance, 0, len(backend.store))
            assert (counted.ids, counted.total) == ([], ranked.total) and len(ranked.ids) == ranked.total, (q, f)
