"""Failing fast when OpenSearch fails: a cluster that accepts connections and never answers (the
hung listener), one that goes away in the middle of a bulk load, and the circuit breaker that keeps
the API answering meanwhile. Timing figures are measured by bench/bench_faults.py, not here; these
tests check behaviour (what answers, with what, and whether the backend was even asked)."""
from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from analyzers import parse_query
from contract.backend import BackendUnavailable, Filters, Sort
from council_search.settings import Settings
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.breaker import CircuitBreaker
from engine.opensearch.client import make_client
from engine.opensearch.settings import OpenSearchSettings
from engine.searcher import Searcher
from scenarios.proxy import HungListener
from service.app import create_app


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_lets_one_trial_through():
    clock = Clock()
    b = CircuitBreaker(failures=2, cooldown=10, clock=clock)
    b.before_call()
    assert b.failed("timed out") is None
    b.succeeded()                      # an answer resets the count
    assert b.failed("timed out") is None
    assert b.failed("timed out") == 10  # second in a row: open
    with pytest.raises(BackendUnavailable, match="circuit breaker open") as err:
        b.before_call()
    assert err.value.retry_after == 10
    clock.now += 4
    with pytest.raises(BackendUnavailable) as err:
        b.before_call()
    assert err.value.retry_after == 6
    clock.now += 6
    b.before_call()                    # cool-down over: one trial goes through …
    with pytest.raises(BackendUnavailable):
        b.before_call()                # … the others still fail at once
    assert b.failed("timed out") == 10  # the trial failed: open again
    clock.now += 10
    b.before_call()
    b.succeeded()                      # the trial succeeded: closed
    b.before_call()
    assert not b.is_open


@pytest.fixture
def hung():
    h = HungListener()
    yield h
    h.close()


def _hung_backend(url: str, **kw) -> OpenSearchBackend:
    settings = OpenSearchSettings(url=url, index="council-cases", **kw)
    return OpenSearchBackend(make_client(settings), settings)


def test_a_hung_cluster_opens_the_breaker_and_later_calls_never_reach_it(hung):
    b = _hung_backend(hung.url, timeout=0.3, breaker_failures=2, breaker_cooldown=60)
    q = parse_query("委託")
    for _ in range(2):
        with pytest.raises(BackendUnavailable, match="timed out"):
            b.keyword(q, Filters(), Sort.relevance, 0, 10)
    reached = hung.connections
    for call in (lambda: b.keyword(q, Filters(), Sort.relevance, 0, 10), lambda: b.fetch(["x"]),
                 lambda: b.knn(np.ones(4, np.float32), Filters(), 5), b.info):
        with pytest.raises(BackendUnavailable, match="circuit breaker open") as err:
            call()
        assert err.value.retry_after and 50 < err.value.retry_after <= 60
    assert hung.connections == reached  # answered without touching the cluster


def test_api_against_a_hung_cluster_answers_and_validates_without_it(hung, monkeypatch):
    """Timeouts far longer than /healthz's deadline: it still answers (503, within its deadline);
    a bad parameter is a 400 without any call to the cluster; searches get 503 with Retry-After,
    at once once the breaker is open."""
    monkeypatch.setenv("OPENSEARCH_URL", hung.url)
    monkeypatch.setenv("OPENSEARCH_TIMEOUT", "30")
    monkeypatch.setenv("OPENSEARCH_BREAKER_FAILURES", "1")
    monkeypatch.setenv("OPENSEARCH_BREAKER_COOLDOWN", "60")
    from service.routers import meta
    client = TestClient(create_app(None, Settings(backend="opensearch", embedder="none-installed")))
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["Retry-After"]
    assert health.json()["error"]["code"] == "backend_unavailable"
    before = hung.connections
    bad = client.get("/api/search", params={"q": "委託", "size": 100_000})
    assert bad.status_code == 400 and hung.connections == before
    # the start-up load timed out (metadata calls have their own short timeout) and opened the
    # breaker: searches answer 503 without waiting for the 30 s read timeout
    res = client.get("/api/search", params={"q": "委託", "mode": "keyword"})
    assert res.status_code == 503 and 1 <= int(res.headers["Retry-After"]) <= 60
    assert hung.connections == before
    assert meta.HEALTH_DEADLINE < 1


@pytest.mark.opensearch
def test_cluster_lost_during_a_bulk_load_fails_cleanly_and_the_next_build_removes_the_half_built_index(os_target):
    """The connection to the node dies after the first bulk chunks (as when the node is killed):
    the build fails with one clear error, the alias stays on the old build, and the half-built index
    that abort() could not delete then is deleted by the next build once the node is reachable."""
    from engine.opensearch.writer import OpenSearchWriter
    from contract.writer import BuildError
    from indexer.build import write_all
    from scenarios.corpus import build_info, documents
    from scenarios.proxy import RecordingProxy

    docs = list(documents())
    settings = os_target.settings()
    good = write_all(OpenSearchWriter(make_client(settings), settings), build_info(), [docs])
    proxy = RecordingProxy(os_target.url)
    try:
        bulks = {"n": 0}

        def die_after_two_bulks(method, path, body):
            if "_bulk" in path:
                bulks["n"] += 1
                if bulks["n"] > 2:
                    proxy.down = True
            return None

        proxy.hooks.append(die_after_two_bulks)
        via_proxy = os_target.settings(proxy.url, bulk_chunk_size=10, timeout=2)
        with pytest.raises((BuildError, BackendUnavailable)) as err:
            write_all(OpenSearchWriter(make_client(via_proxy), via_proxy), build_info(),
                      [docs[i:i + 10] for i in range(0, len(docs), 10)])
        assert "unreachable" in str(err.value) or "timed out" in str(err.value)
        half = [n for n in os_target.indices() if n != good]
        assert len(half) == 1  # left behind: the cluster was gone when the build aborted
        assert list(os_target.client().indices.get_alias(name=os_target.alias)) == [good]
        assert os_target.client().count(index=os_target.alias)["count"] == 51  # still serving the old build
    finally:
        proxy.close()
    settings = os_target.settings(keep_previous=1)
    writer = OpenSearchWriter(make_client(settings), settings)
    newest = write_all(writer, build_info(), [docs])
    assert half[0] in writer.deleted          # deleted, though keep_previous=1 keeps one old build …
    assert os_target.indices() == sorted([good, newest])  # … the complete one
