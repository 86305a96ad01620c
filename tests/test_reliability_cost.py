"""Bounded cost per request (issue 14, finding 3; each failed on 9635f0c): the query side embeds at
most a token budget, query embeddings queue at a bounded gate and beyond it get 503 + Retry-After,
and keyword requests and /healthz never wait behind embedding work."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.app import create_app

LONG = ("公園に防犯カメラを増設し、録画データを警察へ提供する運用について、個人情報の保護の観点から審議した案件。" * 30)[:1000]
WAIT = 60.0   # an upper bound for a stuck request on a busy machine: never reached when nothing is stuck


def test_a_long_query_is_embedded_within_the_token_budget(default_embedder):
    from embeddings.budget import QUERY_TOKEN_BUDGET   # new in issue 14 (this file also runs on 9635f0c)
    if not hasattr(default_embedder, "token_count"):
        pytest.skip("embedder without a tokenizer (character budget)")
    assert default_embedder.token_count(LONG) > 5 * QUERY_TOKEN_BUDGET
    clipped = default_embedder.clip_query(LONG)
    assert LONG.startswith(clipped) and 0 < default_embedder.token_count(clipped) <= QUERY_TOKEN_BUDGET
    # what is embedded is the clipped text: the long query costs what its budget costs
    assert np.allclose(default_embedder.embed_query(LONG), default_embedder.embed_query(clipped))
    short = "ガバメントクラウド 再委託"
    assert default_embedder.clip_query(short) == short


def test_clip_to_budget_without_a_tokenizer_and_at_word_boundaries():
    from embeddings.budget import QUERY_TOKEN_BUDGET, clip_to_budget
    assert clip_to_budget("abc") == "abc"
    words = " ".join(["word"] * 100)
    clipped = clip_to_budget(words, lambda t: len(t.split()) + 2, budget=10)
    assert clipped == " ".join(["word"] * 8)
    assert len(clip_to_budget("あ" * 1000)) <= 2 * QUERY_TOKEN_BUDGET


def test_the_gate_refuses_beyond_its_queue_without_waiting():
    from council_search.gate import Busy, Gate
    gate = Gate("test", max_running=1, max_waiting=2, max_wait=WAIT)
    holding, release = threading.Event(), threading.Event()

    def hold():
        with gate:
            holding.set()
            release.wait()

    with ThreadPoolExecutor(3) as pool:
        held = pool.submit(hold)
        holding.wait()
        waiters = [pool.submit(lambda: gate.__enter__() and gate.__exit__()) for _ in range(2)]
        while gate.waiting < 2:
            threading.Event().wait(0.01)
        with pytest.raises(Busy):   # the queue is full: refused at once
            gate.__enter__()
        release.set()
        held.result(WAIT)
        for w in waiters:
            w.result(WAIT)
    with gate:   # free again
        pass


@pytest.fixture
def app_client(searcher):
    with TestClient(create_app(searcher)) as c:
        yield c


def test_busy_semantic_search_is_a_503_with_retry_after(app_client, default_embedder):
    gate = getattr(default_embedder, "query_gate", None)
    assert gate is not None
    saved = gate.max_waiting
    gate.max_waiting = 0          # no queue, and the one slot taken: as when the queue is full
    gate.__enter__()
    try:
        for mode in ("semantic", "hybrid"):
            r = app_client.get("/api/search", params={"q": "防犯カメラの設置", "mode": mode})
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "busy" and int(r.headers["retry-after"]) >= 1
        page = app_client.get("/", params={"q": "防犯カメラの設置"})
        assert page.status_code == 503 and "混み合っています" in page.text
        assert app_client.get("/api/search", params={"q": "防犯カメラ", "mode": "keyword"}).status_code == 200
    finally:
        gate.__exit__(None, None, None)
        gate.max_waiting = saved


def test_long_queries_are_admitted_one_at_a_time(app_client):
    """A 1,000-character query costs ~100x an ordinary one: such queries run one at a time and
    beyond a short queue get 503 + Retry-After, while ordinary queries are not gated."""
    from engine.searcher import LONG_QUERIES, LONG_QUERY_CHARS
    long_q = LONG[:LONG_QUERY_CHARS + 1]
    saved = LONG_QUERIES.max_waiting
    LONG_QUERIES.max_waiting = 0
    LONG_QUERIES.__enter__()      # another long query is running
    try:
        for mode in ("keyword", "hybrid"):
            r = app_client.get("/api/search", params={"q": long_q, "mode": mode})
            assert r.status_code == 503 and r.json()["error"]["code"] == "busy", r.text
            assert int(r.headers["retry-after"]) >= 1
        assert app_client.get("/api/search.csv", params={"q": long_q}).status_code == 503
        short = app_client.get("/api/search", params={"q": LONG[:LONG_QUERY_CHARS], "mode": "keyword"})
        assert short.status_code == 200
    finally:
        LONG_QUERIES.__exit__(None, None, None)
        LONG_QUERIES.max_waiting = saved
    assert app_client.get("/api/search", params={"q": long_q, "mode": "keyword"}).status_code == 200


def test_a_clipped_semantic_query_says_so(app_client):
    r = app_client.get("/api/search", params={"q": LONG[:300], "mode": "hybrid"})
    assert r.status_code == 200
    codes = {w["code"]: w for w in r.json()["query"]["warnings"]}
    assert "semantic_query_clipped" in codes and "先頭" in codes["semantic_query_clipped"]["message_ja"]
    short = app_client.get("/api/search", params={"q": "防犯カメラ", "mode": "hybrid"}).json()
    assert "semantic_query_clipped" not in {w["code"] for w in short["query"]["warnings"]}


def test_keyword_and_healthz_do_not_wait_behind_embeddings(searcher, default_embedder):
    """While the embedder is held (a long embedding in progress) and hybrid requests queue behind
    it, keyword requests, facets and /healthz still complete. On 9635f0c the hybrid requests' query
    embeddings sat in the shared 2-thread side pool, so keyword requests' facet counts queued behind
    them until the embedder was free."""
    app = create_app(searcher)
    lock = default_embedder._lock            # the model's own lock: held = an embedding is running
    gate = getattr(default_embedder, "query_gate", None)
    saved = gate.max_wait if gate else None
    with TestClient(app) as client, ThreadPoolExecutor(6) as pool:
        if gate:
            gate.max_wait = WAIT                 # the queued hybrids keep waiting for the whole test
        lock.acquire()
        try:
            hybrids = [pool.submit(client.get, "/api/search", params={"q": f"防犯カメラ {i}", "mode": "hybrid"})
                       for i in range(4)]
            for path, params in (("/api/search", {"q": "防犯カメラ", "mode": "keyword"}),
                                 ("/api/search", {"q": "委託", "mode": "keyword", "department": "戸籍住民課"}),
                                 ("/api/search.csv", {"q": "委託", "mode": "keyword"}),
                                 ("/api/facets", {}), ("/healthz", {})):
                r = pool.submit(client.get, path, params=params).result(WAIT)
                assert r.status_code == 200, (path, r.text)
            assert not any(h.done() for h in hybrids)   # they really were waiting for the embedder
        finally:
            lock.release()
            if gate:
                gate.max_wait = saved
        for h in hybrids:
            assert h.result(WAIT).status_code in (200, 503)


def test_an_immediate_long_query_refusal_is_held_and_a_queued_one_is_not():
    """A client that ignores Retry-After (the abuse run: 8 connections, ~170 refusals/s) must not
    spend the server's CPU on refusals: an immediate refusal of the long-query gate carries a
    delay, which the app waits out on the event loop before answering; a request refused after
    waiting in the queue has waited already."""
    from council_search.gate import Busy, Gate
    from engine.searcher import LONG_QUERIES
    assert LONG_QUERIES.refusal_delay >= 0.25
    gate = Gate("test", max_running=1, max_waiting=0, max_wait=0.01, refusal_delay=0.5)
    with gate:
        with pytest.raises(Busy) as immediate:
            gate.__enter__()
    assert immediate.value.delay == 0.5
    queued = Gate("test", max_running=1, max_waiting=1, max_wait=0.01, refusal_delay=0.5)
    with queued:
        with pytest.raises(Busy) as after_waiting:
            queued.__enter__()
    assert after_waiting.value.delay == 0.0


def test_a_held_refusal_is_still_a_503_with_retry_after(app_client):
    import time

    from engine.searcher import LONG_QUERIES, LONG_QUERY_CHARS
    saved = LONG_QUERIES.max_waiting
    LONG_QUERIES.max_waiting = 0
    LONG_QUERIES.__enter__()
    try:
        started = time.monotonic()
        r = app_client.get("/api/search", params={"q": LONG[:LONG_QUERY_CHARS + 1], "mode": "keyword"})
        held = time.monotonic() - started
    finally:
        LONG_QUERIES.__exit__(None, None, None)
        LONG_QUERIES.max_waiting = saved
    assert r.status_code == 503 and r.json()["error"]["code"] == "busy" and int(r.headers["retry-after"]) >= 1
    assert held >= LONG_QUERIES.refusal_delay   # a lower bound: the sleep happened (no upper bound asserted)
