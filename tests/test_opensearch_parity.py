"""One scenario suite, three implementations: the embedded engine (tantivy), a real OpenSearch node
(Lucene) and a brute-force oracle.

Same real corpus, same analyzers, same IndexDocuments. Hit sets, totals and facet counts must be
equal; scores are not compared (tantivy's and Lucene's BM25 statistics differ). Text-only build here;
kNN, hybrid and similar are in test_opensearch_semantic.py and test_opensearch_integration.py.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from analyzers import parse_query
from contract.backend import Filters, Sort
from contract.query import ParsedQuery
from engine.embedded.backend import EmbeddedBackend
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.client import make_client
from engine.opensearch.writer import OpenSearchWriter
from indexer.build import write_all
from conftest import new_opensearch_target
from scenarios import oracle
from scenarios.corpus import build_info, documents

pytestmark = pytest.mark.opensearch

SCENARIOS = yaml.safe_load((Path(__file__).parent / "scenarios" / "keyword.yaml").read_text(encoding="utf-8"))
ALL = 1000  # more than the corpus: the whole ranked list


@pytest.fixture(scope="module")
def docs():
    return documents()


@pytest.fixture(scope="module")
def embedded(built_index):
    """The session's real embedded index (built by the indexer from the same records)."""
    backend = EmbeddedBackend.open(built_index.data_dir)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def opensearch(docs, opensearch_url):
    target = new_opensearch_target(opensearch_url)
    try:
        settings = target.settings()
        client = make_client(settings)
        write_all(OpenSearchWriter(client, settings), build_info(), [list(docs[i:i + 20]) for i in range(0, len(docs), 20)])
        yield OpenSearchBackend(client, settings)
    finally:
        target.cleanup()


def _filters(sc: dict) -> Filters:
    selected = {k: tuple(v) for k, v in (sc.get("filters") or {}).items()}
    as_date = lambda v: v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(str(v))  # noqa: E731
    return Filters(selected, as_date(sc.get("date_from")), as_date(sc.get("date_to")))


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_hit_sets_and_totals_agree(sc, docs, embedded, opensearch):
    q, f = parse_query(sc["q"]), _filters(sc)
    sort = Sort(sc.get("sort", "relevance"))
    expected = oracle.search(docs, q, f)
    emb = embedded.keyword(q, f, sort, 0, ALL)
    ops = opensearch.keyword(q, f, sort, 0, ALL)
    assert set(emb.ids) == expected, "embedded engine differs from the oracle"
    assert set(ops.ids) == expected, "OpenSearch backend differs from the oracle"
    assert emb.total == ops.total == len(expected)
    assert len(ops.ids) == len(set(ops.ids))
    assert sc.get("min_total", 0) <= len(expected) <= sc.get("max_total", 10**9)
    if q.case_number is not None or q.case_id:
        # the identifier fast path puts the exact case first on both engines
        assert emb.ids[:1] == ops.ids[:1] and ops.ids[0].endswith(f"-{(q.case_number or 12):03d}")


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_facet_counts_agree(sc, docs, embedded, opensearch):
    q, f = parse_query(sc["q"]), _filters(sc)
    expected = oracle.facet_counts(docs, q, f)
    emb = {k: dict(v) for k, v in embedded.facet_counts(q, f).items()}
    ops = {k: dict(v) for k, v in opensearch.facet_counts(q, f).items()}
    assert emb == expected
    assert ops == expected


@pytest.mark.parametrize("sc", [s for s in SCENARIOS if s.get("sort") in ("newest", "oldest")],
                         ids=lambda s: s["name"])
def test_date_order_and_paging_agree(sc, embedded, opensearch, docs):
    """Sorted by date, both engines give the same sequence of dates, and a page window is the same
    slice of it (ties on one date may be ordered differently, so dates are compared, not ids)."""
    q, f, sort = parse_query(sc["q"]), _filters(sc), Sort(sc["sort"])
    date_of = {d.id: d.meeting_date for d in docs}
    full_e = [date_of[i] for i in embedded.keyword(q, f, sort, 0, ALL).ids]
    full_o = [date_of[i] for i in opensearch.keyword(q, f, sort, 0, ALL).ids]
    assert full_e == full_o == sorted(full_o, reverse=sort is Sort.newest)
    offset, limit = sc["page"]
    page_e = embedded.keyword(q, f, sort, offset, limit)
    page_o = opensearch.keyword(q, f, sort, offset, limit)
    assert [date_of[i] for i in page_o.ids] == full_o[offset:offset + limit] == [date_of[i] for i in page_e.ids]
    assert page_o.total == page_e.total == len(full_o)


def test_relevance_paging_is_stable(opensearch):
    """Pages of one ranking partition it: no case twice, none lost (ties broken by number, id)."""
    q, f = parse_query("委託"), Filters()
    full = opensearch.keyword(q, f, Sort.relevance, 0, ALL).ids
    pages = [opensearch.keyword(q, f, Sort.relevance, off, 7).ids for off in range(0, len(full), 7)]
    assert [i for p in pages for i in p] == full


def test_ranking_prefers_title_and_whole_words(embedded, opensearch):
    """Not a score comparison: both engines put a case whose title has the words ahead of cases
    that only mention them in passing (field boosts and morph weight from engine.ranking)."""
    q = parse_query("ふるさと納税")
    for backend in (embedded, opensearch):
        top = backend.keyword(q, Filters(), Sort.relevance, 0, 3).ids
        rec = backend.fetch(top[:1])[top[0]]
        assert "ふるさと納税" in rec["title"], backend.name


def test_match_ids_and_same_project_agree(embedded, opensearch, docs):
    q, f = parse_query("クラウド"), Filters({"category": ("業務委託",)})
    ids = [d.id for d in docs]
    assert opensearch.match_ids(q, f, ids) == embedded.match_ids(q, f, ids) == oracle.search(docs, q, f)
    with_project = [d.id for d in docs if d.project_key]
    for case_id in with_project[:10]:
        assert set(opensearch.same_project(case_id)) == set(embedded.same_project(case_id))
        assert case_id in opensearch.same_project(case_id)


def test_fetch_agrees(embedded, opensearch, docs):
    ids = [d.id for d in docs] + ["no-such-case"]
    assert opensearch.fetch(ids) == embedded.fetch(ids)


@pytest.mark.parametrize("char", ["委", "児", "a", "."])
def test_single_character_variant_path(char, docs, embedded, opensearch):
    """A one-character variant without bigrams (the query model's single-character path) matches
    bigram terms starting or ending with it, alike on both engines (regexp over the bigram terms)."""
    from contract.query import Group, Term, TokenStreams, Variant

    v = Variant(char, TokenStreams((), (), (char,)))
    q = ParsedQuery(char, groups=(Group((Term(char, (v,)),)),))
    expected = oracle.search(docs, q, Filters())
    assert set(embedded.keyword(q, Filters(), Sort.relevance, 0, ALL).ids) == expected
    assert set(opensearch.keyword(q, Filters(), Sort.relevance, 0, ALL).ids) == expected
    if char in "委児":
        assert expected  # not vacuous
