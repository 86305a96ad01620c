"""OpenSearchWriter against osmem (an OpenSearch-compatible server): timestamped index + atomic
alias swap, cleanup of old builds, per-document errors, 429 back-off, aborts that leave no trace."""
from __future__ import annotations

import dataclasses
import datetime as dt
import socket

import numpy as np
import pytest

from engine.backend import BackendUnavailable
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.client import make_client
from engine.opensearch.settings import OpenSearchSettings
from engine.opensearch.writer import IndexingError, OpenSearchWriter, physical_index_pattern
from indexer.writer import BuildInfo, write_all
from scenarios.corpus import build_info, documents, records
from scenarios.proxy import RecordingProxy, reject_bulk_items_once

ALIAS = "council-cases"


def _settings(url: str, **kw) -> OpenSearchSettings:
    return OpenSearchSettings(url=url, index=ALIAS, **kw)


def _build(url: str, docs=None, batch: int = 20, **kw) -> tuple[OpenSearchWriter, str]:
    docs = list(documents() if docs is None else docs)
    settings = _settings(url, **kw)
    writer = OpenSearchWriter(make_client(settings), settings)
    batches = [docs[i:i + batch] for i in range(0, len(docs), batch)]
    return writer, write_all(writer, build_info(), batches)


def _indices(client) -> list[str]:
    return sorted(client.indices.get(index="*").keys())


def test_build_publishes_every_record_behind_the_alias(osmem_clone):
    writer, index = _build(osmem_clone.url)
    assert physical_index_pattern(ALIAS).match(index)
    client = writer.client
    assert list(client.indices.get_alias(name=ALIAS)) == [index]
    backend = OpenSearchBackend(client, _settings(osmem_clone.url))
    info = backend.info()
    assert info["records"] == len(records()) == 51
    assert info["index"] == index and info["mapping_version"] == 1
    assert isinstance(info["built_at"], dt.datetime)
    # The stored display record is the CaseRecord, unchanged.
    first, last = records()[0], records()[-1]
    got = backend.fetch([first.id, last.id, "no-such-case"])
    assert got == {first.id: first.model_dump(mode="json"), last.id: last.model_dump(mode="json")}


def test_rebuild_swaps_alias_and_removes_old_builds(osmem_clone):
    _w1, first = _build(osmem_clone.url)
    w2, second = _build(osmem_clone.url)
    assert second != first
    assert list(w2.client.indices.get_alias(name=ALIAS)) == [second]
    assert w2.deleted == [first]
    assert _indices(w2.client) == [second]


def test_keep_previous_builds_for_rollback(osmem_clone):
    names = [_build(osmem_clone.url, keep_previous=1)[1] for _ in range(3)]
    assert len(set(names)) == 3
    client = make_client(_settings(osmem_clone.url))
    assert _indices(client) == names[1:]
    assert list(client.indices.get_alias(name=ALIAS)) == [names[2]]


def test_rejected_document_fails_the_build_and_the_old_index_keeps_serving(osmem_clone):
    _w, good = _build(osmem_clone.url)
    docs = list(documents())
    bad_id = docs[7].id
    # A case number beyond the mapping's integer range: OpenSearch rejects that one document.
    docs[7] = dataclasses.replace(docs[7], number=2**40)
    with pytest.raises(IndexingError) as err:
        _build(osmem_clone.url, docs)
    assert [i for i, _ in err.value.errors] == [bad_id]
    assert bad_id in str(err.value) and "mapper_parsing_exception" in str(err.value)
    client = make_client(_settings(osmem_clone.url))
    assert _indices(client) == [good]  # the half-built index was deleted
    assert OpenSearchBackend(client, _settings(osmem_clone.url)).info()["records"] == 51


def test_bulk_rejections_with_429_are_retried_with_back_off(osmem_clone):
    proxy = RecordingProxy(osmem_clone.url)
    try:
        victims = {documents()[3].id, documents()[4].id}
        proxy.hooks.append(reject_bulk_items_once(victims, osmem_clone.url))
        writer, index = _build(proxy.url, bulk_initial_backoff=0.05, bulk_chunk_size=10)
        bulks = [b.decode() for m, p, b in proxy.requests if "_bulk" in p]
        retried = [b for b in bulks if all(v in b for v in victims)]
        assert len(retried) == 2  # rejected once, sent again
        assert writer.stats.indexed == 51 and writer.stats.failed == 0
        assert OpenSearchBackend(writer.client, _settings(proxy.url)).fetch(sorted(victims)).keys() == victims
    finally:
        proxy.close()


def test_persistent_429_is_reported_per_document(osmem_clone):
    proxy = RecordingProxy(osmem_clone.url)
    try:
        victim = documents()[0].id
        for _ in range(3):  # more rejections than retries
            proxy.hooks.append(reject_bulk_items_once({victim}, osmem_clone.url))
        with pytest.raises(IndexingError) as err:
            _build(proxy.url, bulk_initial_backoff=0.01, bulk_max_retries=1)
        assert err.value.errors[0][0] == victim and err.value.errors[0][1].startswith("429")
    finally:
        proxy.close()


def test_interrupted_build_leaves_no_trace(osmem_clone):
    _w, good = _build(osmem_clone.url)
    settings = _settings(osmem_clone.url)
    writer = OpenSearchWriter(make_client(settings), settings)

    def batches():
        yield list(documents()[:10])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_all(writer, build_info(), batches())
    assert _indices(writer.client) == [good]
    assert list(writer.client.indices.get_alias(name=ALIAS)) == [good]


def test_duplicate_ids_are_refused(osmem_clone):
    docs = list(documents()[:3]) + [documents()[0]]
    with pytest.raises(ValueError, match="duplicate case id"):
        _build(osmem_clone.url, docs)
    assert _indices(make_client(_settings(osmem_clone.url))) == []


def test_vectors_must_match_the_build_dimension(osmem_clone):
    settings = _settings(osmem_clone.url)
    writer = OpenSearchWriter(make_client(settings), settings)
    info = BuildInfo(built_at=dt.datetime.now(dt.timezone.utc), analyzer_version="test", embedder="test", dim=8)
    doc = dataclasses.replace(documents()[0], passage_vectors=np.ones((2, 4), np.float32), case_vector=np.ones(4, np.float32))
    with pytest.raises(ValueError, match="expected"):
        write_all(writer, info, [[doc]])
    assert _indices(writer.client) == []


def test_alias_name_taken_by_a_concrete_index_is_a_clear_error(osmem_clone):
    client = make_client(_settings(osmem_clone.url))
    client.indices.create(index=ALIAS)
    with pytest.raises(RuntimeError, match="not an alias"):
        _build(osmem_clone.url)
    assert _indices(client) == [ALIAS]


def test_unreachable_cluster_is_backend_unavailable():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendUnavailable, match="unreachable"):
        _build(f"http://127.0.0.1:{port}", timeout=2)


def test_text_only_build_ignores_vectors_it_has_no_fields_for(osmem_clone):
    """A build without embeddings (dim=None) has no vector fields; documents that carry vectors
    anyway are indexed without them instead of being rejected by the strict mapping."""
    docs = [dataclasses.replace(d, passage_vectors=np.ones((1, 4), np.float32), case_vector=np.ones(4, np.float32))
            for d in documents()[:5]]
    writer, index = _build(osmem_clone.url, docs)
    backend = OpenSearchBackend(writer.client, _settings(osmem_clone.url))
    assert backend.info()["records"] == 5 and backend.case_vector(docs[0].id) is None


def test_builds_in_the_same_second_are_ordered_by_creation(osmem_clone):
    """The CLI's built_at has whole seconds: names then differ only by their random suffix, and the
    cluster's creation time decides which build is older (so cleanup keeps the right ones)."""
    same_second = dt.datetime(2026, 11, 26, 9, 0, 0, tzinfo=dt.timezone.utc)
    names = []
    for _ in range(3):
        settings = _settings(osmem_clone.url, keep_previous=1)
        writer = OpenSearchWriter(make_client(settings), settings)
        info = BuildInfo(built_at=same_second, analyzer_version="test", embedder=None, dim=None)
        names.append(write_all(writer, info, [list(documents()[:3])]))
    assert len(set(names)) == 3
    client = make_client(_settings(osmem_clone.url))
    assert sorted(client.indices.get(index="*")) == sorted(names[1:])
    assert list(client.indices.get_alias(name=ALIAS)) == [names[2]]
