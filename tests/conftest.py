"""Shared, session-scoped fixtures: one real index (tantivy + real embeddings) built once per test
session from corpus/records, and a Searcher over it.

Embeddings come from the default model through a persistent embedding cache of the tests' own
(`.test-cache/embeddings.sqlite3` in the checkout, git-ignored; override with
COUNCIL_SEARCH_TEST_EMBEDDING_CACHE), so only the first run of a checkout pays for the model. A new
test cache starts as a copy of `var/cache/embeddings.sqlite3` when `make run` has filled that one.

Tests never write into the developer's `var/`: the session points COUNCIL_SEARCH_DATA_DIR at a
temporary directory (so anything that reads settings from the environment, in this process or in a
`council-search` subprocess, writes there), and every index is built under pytest's tmp paths.

Markers: a test that needs the session index or loads the embedding model is marked `slow`
automatically (see pytest_collection_modifyitems); `pytest -m "not slow"` (`make test-fast`) is the
quick loop.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RECORDS_DIR = PROJECT_ROOT / "corpus" / "records"
TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:  # tests/scenarios and helpers import as top-level modules
    sys.path.insert(0, str(TESTS_DIR))


# Fixtures that build a real index, load the embedding model or need the real OpenSearch node: a test
# that uses one, directly or through another fixture, is `slow`. Modules that build indexes of their
# own mark themselves (`pytestmark = pytest.mark.slow`).
SLOW_FIXTURES = {"built_index", "default_embedder", "opensearch_url"}
_SESSION_DATA_DIR: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _SESSION_DATA_DIR
    _SESSION_DATA_DIR = tempfile.mkdtemp(prefix="council-search-tests-")
    os.environ["COUNCIL_SEARCH_DATA_DIR"] = _SESSION_DATA_DIR   # before any Settings() is read


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_DATA_DIR:
        shutil.rmtree(_SESSION_DATA_DIR, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def test_embedding_cache_path() -> Path:
    configured = os.environ.get("COUNCIL_SEARCH_TEST_EMBEDDING_CACHE")
    if configured:
        return Path(configured)
    path = PROJECT_ROOT / ".test-cache" / "embeddings.sqlite3"
    if not path.exists():
        _seed_from_var(PROJECT_ROOT / "var" / "cache" / "embeddings.sqlite3", path)
    return path


test_embedding_cache_path.__test__ = False  # a helper, not a test


def _seed_from_var(source: Path, target: Path) -> None:
    """Copy `make run`'s embedding cache, reading it only (SQLite's backup API from an immutable,
    read-only connection: it creates no -wal/-shm files next to it), so a fresh checkout that has
    served once does not embed the corpus again."""
    if not source.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
        try:
            dst = sqlite3.connect(str(target))
            with dst:
                src.backup(dst)
            dst.close()
        finally:
            src.close()
    except sqlite3.Error:
        target.unlink(missing_ok=True)   # start empty instead


@dataclass
class BuiltIndex:
    data_dir: Path            # pass as Settings(data_dir=...) / EmbeddedBackend.open(data_dir)
    build_dir: Path
    records_dir: Path
    embedder_name: str
    summary: object           # indexer.build.BuildSummary


@pytest.fixture(scope="session")
def default_embedder():
    from council_search.settings import Settings
    from embeddings import get_embedder
    return get_embedder(Settings().embedder)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, default_embedder) -> BuiltIndex:
    """A real embedded index of corpus/records with the default embedder (built once per session)."""
    from embeddings.cache import EmbeddingCache
    from engine.embedded import layout
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    if not any(RECORDS_DIR.glob("*.jsonl")):
        pytest.skip("corpus/records has no records (run `council-search ingest`)")
    data_dir = tmp_path_factory.mktemp("index-data")
    cache = EmbeddingCache(test_embedding_cache_path())
    try:
        summary = build_index(RECORDS_DIR, EmbeddedWriter(data_dir), default_embedder, cache, progress=False)
    finally:
        cache.close()
    return BuiltIndex(data_dir=data_dir, build_dir=layout.current_build(data_dir), records_dir=RECORDS_DIR,
                      embedder_name=default_embedder.name, summary=summary)


@pytest.fixture(scope="session")
def index_settings(built_index):
    """Settings pointing at the session index (embedded backend)."""
    from council_search.settings import Settings
    return Settings(backend="embedded", data_dir=built_index.data_dir, embedder=built_index.embedder_name)


@pytest.fixture(scope="session")
def searcher(built_index, default_embedder):
    """engine.searcher.Searcher over the session index (read-only: do not mutate)."""
    from engine.embedded.backend import EmbeddedBackend
    from engine.searcher import Searcher
    backend = EmbeddedBackend.open(built_index.data_dir)
    yield Searcher(backend, default_embedder)
    backend.close()


@pytest.fixture(scope="module")
def client(searcher):
    """A TestClient of the app over the session searcher, one per test module (module scope keeps
    per-app state such as the admin rate limit from leaking between files). No admin token is
    configured: read-only use must work without one."""
    from fastapi.testclient import TestClient
    from service.app import create_app
    with TestClient(create_app(searcher)) as c:
        yield c


# --- A real OpenSearch node (`make opensearch`; CI starts one): every OpenSearch test runs against
# it. Without OPENSEARCH_URL these tests skip with that hint; with it they must all run.

def opensearch_url_or_skip() -> str:
    url = os.environ.get("OPENSEARCH_URL")
    if not url and os.environ.get("CI"):
        pytest.fail("CI must run the OpenSearch tests: .ci/run starts the node and sets OPENSEARCH_URL")
    if not url:
        pytest.skip("needs a real OpenSearch node: `make opensearch`, then set OPENSEARCH_URL "
                    "(e.g. OPENSEARCH_URL=http://127.0.0.1:9200); CI does both")
    return url.rstrip("/")


@dataclass
class OpenSearchTarget:
    """A fresh alias on the real node: tests own `<alias>` and every index named `<alias>*`, so
    several test runs (and people) can share one node."""
    url: str
    alias: str

    def settings(self, url: str | None = None, **kw):
        """OpenSearchSettings for this alias; `url` points at a fault-injecting proxy instead."""
        from engine.opensearch.settings import OpenSearchSettings
        return OpenSearchSettings(url=url or self.url, index=kw.pop("index", self.alias), **kw)

    def client(self):
        from engine.opensearch.client import make_client
        return make_client(self.settings())

    def indices(self) -> list[str]:
        """Every index of this alias's namespace (builds, and a concrete index named like the alias)."""
        return sorted(self.client().indices.get(index=f"{self.alias}*", expand_wildcards="all"))

    def cleanup(self) -> None:
        client = self.client()
        for name in self.indices():  # by name: clusters may refuse wildcard deletes
            client.indices.delete(index=name, ignore_unavailable=True)


def new_opensearch_target(url: str, prefix: str = "test") -> OpenSearchTarget:
    import uuid
    return OpenSearchTarget(url, f"{prefix}-{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="session")
def opensearch_url() -> str:
    return opensearch_url_or_skip()


@pytest.fixture
def os_target(opensearch_url):
    """A fresh, empty alias namespace on the real node for one test (deleted afterwards)."""
    target = new_opensearch_target(opensearch_url)
    yield target
    target.cleanup()
