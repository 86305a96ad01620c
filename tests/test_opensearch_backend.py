"""OpenSearchBackend against a real OpenSearch node: an unreachable cluster or a missing index is
BackendUnavailable (the API answers 503, /healthz says why), and everything recovers, without a
restart, when the cluster is back.

Fault injection where the node cannot do it on demand: a proxy in front of it drops connections
(outage), replays the error of a cluster at Lucene's default clause limit (the test node, like
compose, raises that limit), and plays the security plugin's TLS + basic auth (the test node runs
without the security plugin)."""
from __future__ import annotations

import datetime as dt
import json
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from analyzers import parse_query
from contract.backend import BackendUnavailable, Filters, Sort
from contract.writer import BuildInfo
from council_search.settings import Settings
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.client import make_client
from engine.opensearch.settings import OpenSearchSettings
from engine.opensearch.writer import OpenSearchWriter
from engine.searcher import Searcher
from indexer.build import write_all
from scenarios.corpus import documents
from conftest import new_opensearch_target
from scenarios.proxy import RecordingProxy
from service.app import create_app

pytestmark = pytest.mark.opensearch


@pytest.fixture(scope="module")
def loaded(opensearch_url):
    """A fresh alias on the node holding the corpus, with deterministic unit vectors (4-d) so
    case_vector() and knn() have data."""
    clone = new_opensearch_target(opensearch_url)
    rng = np.random.default_rng(7)
    docs = []
    for d in documents():
        pv = rng.normal(size=(2, 4)).astype(np.float32)
        pv /= np.linalg.norm(pv, axis=1, keepdims=True)
        cv = pv.mean(axis=0)
        docs.append(type(d)(**{**d.__dict__, "passage_vectors": pv, "case_vector": cv / np.linalg.norm(cv)}))
    settings = clone.settings()
    info = BuildInfo(built_at=dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.timezone.utc), analyzer_version="test",
                     embedder="test-4d", dim=4)
    write_all(OpenSearchWriter(make_client(settings), settings), info, [docs])
    yield clone, docs
    clone.cleanup()


@pytest.fixture
def proxy(loaded):
    p = RecordingProxy(loaded[0].url)
    yield p
    p.close()


# A short breaker cool-down: after an outage the next call past it is the trial that closes it.
COOLDOWN = 0.2


def _backend(url: str, index: str) -> OpenSearchBackend:
    settings = OpenSearchSettings(url=url, index=index, timeout=3, breaker_cooldown=COOLDOWN)
    return OpenSearchBackend(make_client(settings), settings)


def _calls(b: OpenSearchBackend, case_id: str):
    q = parse_query("委託")
    return {
        "keyword": lambda: b.keyword(q, Filters(), Sort.relevance, 0, 10),
        "facet_counts": lambda: b.facet_counts(q, Filters()),
        "fetch": lambda: b.fetch([case_id]),
        "case_vector": lambda: b.case_vector(case_id),
        "info": lambda: b.info(),
        "match_ids": lambda: b.match_ids(q, Filters(), [case_id]),
        "same_project": lambda: b.same_project(case_id),
        "knn": lambda: b.knn(np.ones(4, np.float32) / 2, Filters(), 5),
        "passage_vectors": lambda: b.passage_vectors(case_id),
        "records": lambda: list(b.records()),
        "case_vector_sample": lambda: b.case_vector_sample(10),
    }


def test_info_reports_the_build(loaded):
    info = _backend(loaded[0].url, loaded[0].alias).info()
    assert info["records"] == 51 and info["embedder"] == "test-4d" and info["analyzer_version"] == "test"
    assert info["built_at"] == dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.timezone.utc)
    alias = loaded[0].alias
    assert info["opensearch_version"] and info["alias"] == alias and info["index"].startswith(alias + "-v1-")


def test_case_vector_round_trips(loaded):
    clone, docs = loaded
    b = _backend(clone.url, clone.alias)
    got = b.case_vector(docs[5].id)
    assert got.dtype == np.float32 and got.shape == (4,)
    np.testing.assert_allclose(got, docs[5].case_vector, rtol=1e-6)
    assert b.case_vector("no-such-case") is None


def test_passage_vectors_and_records_round_trip(loaded):
    clone, docs = loaded
    b = _backend(clone.url, clone.alias)
    got = b.passage_vectors(docs[5].id)
    assert got.dtype == np.float32 and got.shape == (2, 4)
    np.testing.assert_allclose(got, docs[5].passage_vectors, rtol=1e-6)   # in passage order
    assert b.passage_vectors("no-such-case") is None
    records = list(b.records())
    assert sorted(r["id"] for r in records) == sorted(d.id for d in docs)
    assert all(r["title"] for r in records)


def test_every_primitive_is_unavailable_while_the_cluster_is_down_and_recovers(loaded, proxy):
    case_id = loaded[1][0].id
    b = _backend(proxy.url, loaded[0].alias)
    assert b.fetch([case_id])  # up
    proxy.down = True
    for name, call in _calls(b, case_id).items():
        with pytest.raises(BackendUnavailable, match="unreachable|timed out"):
            call()
    assert b.breaker.is_open  # repeated failures: later calls failed at once
    proxy.down = False
    time.sleep(COOLDOWN)
    assert b.keyword(parse_query("委託"), Filters(), Sort.relevance, 0, 5).total > 0
    assert b.info()["records"] == 51


def test_missing_index_is_unavailable_with_a_hint(loaded):
    b = _backend(loaded[0].url, "no-such-alias-" + loaded[0].alias)
    for name, call in _calls(b, "x").items():
        with pytest.raises(BackendUnavailable, match="council-search index"):
            call()


def test_query_past_the_clause_limit_is_a_400_not_a_crash(loaded):
    """A real cluster at Lucene's default limit answers a long pasted query with this error (HTTP 500);
    the proxy replays it, and the API turns it into a 400 with a message the user can act on."""
    err = {"error": {"root_cause": [{"type": "too_many_nested_clauses",
                                     "reason": "Query contains too many nested clauses; maxClauseCount is set to 1024"}],
                     "type": "search_phase_execution_exception", "reason": "all shards failed", "phase": "query",
                     "grouped": True}, "status": 500}
    proxy = RecordingProxy(loaded[0].url)
    proxy.hooks.append(lambda m, p, b: (500, json.dumps(err).encode()) if "/_search" in p and len(b) > 20_000 else None)
    try:
        client = TestClient(create_app(Searcher(_backend(proxy.url, loaded[0].alias), embedder=None), Settings(backend="opensearch")))
        short = client.get("/api/search", params={"q": "委託", "mode": "keyword"})
        assert short.status_code == 200
        long_q = "".join(d.record["body"] for d in loaded[1][:3]).replace("\n", "")[:900]
        res = client.get("/api/search", params={"q": long_q, "mode": "keyword"})
        assert res.status_code == 400 and res.json()["error"]["code"] == "query_too_complex"
    finally:
        proxy.close()


def test_query_vector_of_another_model_is_unavailable_with_a_hint(loaded):
    """The k-NN plugin refuses a query vector whose dimension differs from the index's (an API
    configured with another embedder than the indexer): a clear BackendUnavailable, not a 500."""
    with pytest.raises(BackendUnavailable, match="COUNCIL_SEARCH_EMBEDDER"):
        _backend(loaded[0].url, loaded[0].alias).knn(np.ones(512, np.float32), Filters(), 5)


def test_api_answers_503_while_down_and_recovers(loaded, proxy):
    searcher = Searcher(_backend(proxy.url, loaded[0].alias), embedder=None)
    client = TestClient(create_app(searcher, Settings(backend="opensearch")))
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json()["backend"] == "opensearch" and ok.json()["records"] == 51
    assert client.get("/api/search", params={"q": "委託", "mode": "keyword"}).json()["total"] > 0

    proxy.down = True
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["error"]["code"] == "backend_unavailable" and "OpenSearch" in health.json()["error"]["message"]
    res = client.get("/api/search", params={"q": "委託", "mode": "keyword"})
    assert res.status_code == 503 and res.json()["error"]["code"]

    assert res.headers["Retry-After"]
    proxy.down = False
    time.sleep(COOLDOWN)
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/search", params={"q": "委託", "mode": "keyword"}).status_code == 200


def test_app_configured_by_environment(loaded, monkeypatch):
    """COUNCIL_SEARCH_BACKEND=opensearch + OPENSEARCH_* is all the API needs (as in docker compose)."""
    monkeypatch.setenv("OPENSEARCH_URL", loaded[0].url)
    monkeypatch.setenv("OPENSEARCH_INDEX", loaded[0].alias)
    settings = Settings(backend="opensearch", embedder="none-installed")
    client = TestClient(create_app(None, settings))
    health = client.get("/healthz")
    assert health.status_code == 200, health.text
    assert health.json()["backend"] == "opensearch"
    res = client.get("/api/search", params={"q": "ガバメントクラウド", "mode": "keyword", "department": "戸籍住民課"})
    assert res.status_code == 200 and res.json()["total"] >= 1
    assert all("戸籍住民課" in h["departments"] for h in res.json()["hits"])


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, like the OpenSearch image's demo certificates."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not installed: cannot make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture
def secured(loaded, self_signed):
    """The node behind HTTPS + basic auth, as the compose cluster with the security plugin is."""
    p = RecordingProxy(loaded[0].url, tls=self_signed, basic_auth=("admin", "S3cret-pass!"))
    p.alias = loaded[0].alias
    yield p
    p.close()


def _secured_backend(url: str, alias: str, **kw) -> OpenSearchBackend:
    settings = OpenSearchSettings(url=url, index=alias, timeout=5, **kw)
    return OpenSearchBackend(make_client(settings), settings)


def test_tls_and_basic_auth_as_compose_configures_them(secured):
    b = _secured_backend(secured.url, secured.alias, user="admin", password="S3cret-pass!", verify_certs=False)
    assert b.info()["records"] == 51
    assert "admin" not in b.info()["url"]


def test_tls_with_the_ca_bundle_verifies(secured, self_signed):
    b = _secured_backend(secured.url, secured.alias, user="admin", password="S3cret-pass!", verify_certs=True, ca_certs=self_signed[0])
    assert b.info()["records"] == 51


def test_untrusted_certificate_is_unavailable_with_a_hint(secured):
    b = _secured_backend(secured.url, secured.alias, user="admin", password="S3cret-pass!", verify_certs=True)
    with pytest.raises(BackendUnavailable, match="TLS"):
        b.info()


def test_wrong_password_is_unavailable_with_a_hint(secured):
    b = _secured_backend(secured.url, secured.alias, user="admin", password="wrong", verify_certs=False)
    with pytest.raises(BackendUnavailable, match="credentials"):
        b.info()


def test_a_build_records_where_its_cases_came_from(opensearch_url):
    """The indexer's provenance tally (BuildInfo.extra) survives in the mapping's _meta and comes back
    from info(), as /healthz shows it."""
    from conftest import RECORDS_DIR
    from indexer.build import build_index
    clone = new_opensearch_target(opensearch_url)
    try:
        settings = clone.settings()
        build_index(RECORDS_DIR, OpenSearchWriter(make_client(settings), settings), None, progress=False)
        info = _backend(clone.url, clone.alias).info()
    finally:
        clone.cleanup()
    [source] = info["sources"]
    assert source["records"] == 51 and source["publisher"] == "新宿区" and len(source["sha256"]) == 64
    assert source["report_title"] == "令和５年度新宿区個人情報保護管理運営会議における審議案件一覧"
    assert isinstance(info["data_updated"], dt.datetime)
