"""OpenSearchWriter against a real OpenSearch node: timestamped index + atomic alias swap, cleanup
of old builds, per-document errors (the real mapper's rejections), aborts that leave no trace.

429 back-off is fault injection: a proxy in front of the node answers 429 for chosen documents, as a
node with a full write queue does (a real node cannot be made to do that on demand)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import socket

import numpy as np
import pytest

from contract.backend import BackendUnavailable
from contract.writer import BuildInfo
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.client import make_client
from engine.opensearch.writer import IndexingError, OpenSearchWriter, physical_index_pattern
from indexer.build import write_all
from conftest import OpenSearchTarget
from scenarios.corpus import build_info, documents, records
from scenarios.proxy import RecordingProxy, reject_bulk_items_once

pytestmark = pytest.mark.opensearch


def _build(t, docs=None, batch: int = 20, url: str | None = None, **kw) -> tuple[OpenSearchWriter, str]:
    docs = list(documents() if docs is None else docs)
    settings = t.settings(url, **kw)
    writer = OpenSearchWriter(make_client(settings), settings)
    batches = [docs[i:i + batch] for i in range(0, len(docs), batch)]
    return writer, write_all(writer, build_info(), batches)


def test_build_publishes_every_record_behind_the_alias(os_target):
    writer, index = _build(os_target)
    assert physical_index_pattern(os_target.alias).match(index)
    client = writer.client
    assert list(client.indices.get_alias(name=os_target.alias)) == [index]
    backend = OpenSearchBackend(client, os_target.settings())
    info = backend.info()
    assert info["records"] == len(records()) == 51
    assert info["index"] == index and info["mapping_version"] == 1
    assert isinstance(info["built_at"], dt.datetime)
    # The stored display record is the CaseRecord, unchanged.
    first, last = records()[0], records()[-1]
    got = backend.fetch([first.id, last.id, "no-such-case"])
    assert got == {first.id: first.model_dump(mode="json"), last.id: last.model_dump(mode="json")}


def test_rebuild_swaps_alias_and_removes_old_builds(os_target):
    _w1, first = _build(os_target)
    w2, second = _build(os_target)
    assert second != first
    assert list(w2.client.indices.get_alias(name=os_target.alias)) == [second]
    assert w2.deleted == [first]
    assert os_target.indices() == [second]


def test_keep_previous_builds_for_rollback(os_target):
    names = [_build(os_target, keep_previous=1)[1] for _ in range(3)]
    assert len(set(names)) == 3
    client = make_client(os_target.settings())
    assert os_target.indices() == names[1:]
    assert list(client.indices.get_alias(name=os_target.alias)) == [names[2]]


def test_rejected_document_fails_the_build_and_the_old_index_keeps_serving(os_target):
    _w, good = _build(os_target)
    docs = list(documents())
    bad_id = docs[7].id
    # A case number beyond the mapping's integer range: OpenSearch rejects that one document.
    docs[7] = dataclasses.replace(docs[7], number=2**40)
    with pytest.raises(IndexingError) as err:
        _build(os_target, docs)
    assert [i for i, _ in err.value.errors] == [bad_id]
    assert bad_id in str(err.value) and "mapper_parsing_exception" in str(err.value)
    client = make_client(os_target.settings())
    assert os_target.indices() == [good]  # the half-built index was deleted
    assert OpenSearchBackend(client, os_target.settings()).info()["records"] == 51


def test_bulk_rejections_with_429_are_retried_with_back_off(os_target):
    proxy = RecordingProxy(os_target.url)
    try:
        victims = {documents()[3].id, documents()[4].id}
        proxy.hooks.append(reject_bulk_items_once(victims, os_target.url))
        writer, index = _build(os_target, url=proxy.url, bulk_initial_backoff=0.05, bulk_chunk_size=10)
        bulks = [b.decode() for m, p, b in proxy.requests if "_bulk" in p]
        retried = [b for b in bulks if all(v in b for v in victims)]
        assert len(retried) == 2  # rejected once, sent again
        assert writer.stats.indexed == 51 and writer.stats.failed == 0
        assert OpenSearchBackend(writer.client, os_target.settings(proxy.url)).fetch(sorted(victims)).keys() == victims
    finally:
        proxy.close()


def test_persistent_429_is_reported_per_document(os_target):
    proxy = RecordingProxy(os_target.url)
    try:
        victim = documents()[0].id
        for _ in range(3):  # more rejections than retries
            proxy.hooks.append(reject_bulk_items_once({victim}, os_target.url))
        with pytest.raises(IndexingError) as err:
            _build(os_target, url=proxy.url, bulk_initial_backoff=0.01, bulk_max_retries=1)
        assert err.value.errors[0][0] == victim and err.value.errors[0][1].startswith("429")
    finally:
        proxy.close()


def test_interrupted_build_leaves_no_trace(os_target):
    _w, good = _build(os_target)
    settings = os_target.settings()
    writer = OpenSearchWriter(make_client(settings), settings)

    def batches():
        yield list(documents()[:10])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_all(writer, build_info(), batches())
    assert os_target.indices() == [good]
    assert list(writer.client.indices.get_alias(name=os_target.alias)) == [good]


def test_duplicate_ids_are_refused(os_target):
    docs = list(documents()[:3]) + [documents()[0]]
    with pytest.raises(ValueError, match="duplicate case id"):
        _build(os_target, docs)
    assert os_target.indices() == []


def test_vectors_must_match_the_build_dimension(os_target):
    settings = os_target.settings()
    writer = OpenSearchWriter(make_client(settings), settings)
    info = BuildInfo(built_at=dt.datetime.now(dt.timezone.utc), analyzer_version="test", embedder="test", dim=8)
    doc = dataclasses.replace(documents()[0], passage_vectors=np.ones((2, 4), np.float32), case_vector=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="expected"):
        write_all(writer, info, [[doc]])
    assert os_target.indices() == []


def test_alias_name_taken_by_a_concrete_index_is_a_clear_error(os_target):
    client = make_client(os_target.settings())
    client.indices.create(index=os_target.alias)
    with pytest.raises(RuntimeError, match="not an alias"):
        _build(os_target)
    assert os_target.indices() == [os_target.alias]


def test_unreachable_cluster_is_backend_unavailable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendUnavailable, match="unreachable"):
        _build(OpenSearchTarget(f"http://127.0.0.1:{port}", "council-cases"), timeout=2)


def test_text_only_build_ignores_vectors_it_has_no_fields_for(os_target):
    """A build without embeddings (dim=None) has no vector fields; documents that carry vectors
    anyway are indexed without them instead of being rejected by the strict mapping."""
    docs = [dataclasses.replace(d, passage_vectors=np.ones((1, 4), np.float32), case_vector=np.ones(4, np.float32))
            for d in documents()[:5]]
    writer, index = _build(os_target, docs)
    backend = OpenSearchBackend(writer.client, os_target.settings())
    assert backend.info()["records"] == 5 and backend.case_vector(docs[0].id) is None


def test_builds_in_the_same_second_are_ordered_by_creation(os_target):
    """The CLI's built_at has whole seconds: names then differ only by their random suffix, and the
    cluster's creation time decides which build is older (so cleanup keeps the right ones)."""
    same_second = dt.datetime(2026, 11, 26, 9, 0, 0, tzinfo=dt.timezone.utc)
    names = []
    for _ in range(3):
        settings = os_target.settings(keep_previous=1)
        writer = OpenSearchWriter(make_client(settings), settings)
        info = BuildInfo(built_at=same_second, analyzer_version="test", embedder=None, dim=None)
        names.append(write_all(writer, info, [list(documents()[:3])]))
    assert len(set(names)) == 3
    client = make_client(os_target.settings())
    assert os_target.indices() == sorted(names[1:])
    assert list(client.indices.get_alias(name=os_target.alias)) == [names[2]]
