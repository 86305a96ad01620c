"""`council-search index --backend opensearch` (what the compose `indexer` service runs), end to
end in a subprocess against the real OpenSearch node, configured only through the environment."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import test_embedding_cache_path
from council_search.settings import Settings
from indexer.build import ensure_index

ROOT = Path(__file__).resolve().parent.parent


def _index(url: str, tmp_path: Path, alias: str = "council-cases") -> subprocess.CompletedProcess:
    # credentials (OPENSEARCH_USER/PASSWORD/VERIFY_CERTS) pass through for a secured test cluster
    keep = ("OPENSEARCH_USER", "OPENSEARCH_PASSWORD", "OPENSEARCH_VERIFY_CERTS", "OPENSEARCH_CA_CERTS")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENSEARCH_", "COUNCIL_SEARCH_")) or k in keep}
    env.update(COUNCIL_SEARCH_BACKEND="opensearch", OPENSEARCH_URL=url, OPENSEARCH_INDEX=alias,
               COUNCIL_SEARCH_DATA_DIR=str(tmp_path))
    cmd = [sys.executable, "-m", "council_search.cli", "index", "--embedder", "none", "--no-progress"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.opensearch
def test_index_command_builds_and_swaps(os_target, tmp_path):
    first = _index(os_target.url, tmp_path, os_target.alias)
    assert first.returncode == 0, first.stderr
    assert "indexed 51 records" in first.stdout
    client = os_target.client()
    [index1] = client.indices.get_alias(name=os_target.alias)
    assert client.count(index=os_target.alias)["count"] == 51

    second = _index(os_target.url, tmp_path, os_target.alias)
    assert second.returncode == 0, second.stderr
    [index2] = client.indices.get_alias(name=os_target.alias)
    assert index2 != index1
    assert os_target.indices() == [index2]  # the old build is gone
    assert not any(tmp_path.iterdir())  # nothing written locally for an OpenSearch build


def test_unreachable_cluster_is_one_clear_line(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    res = _index(url, tmp_path)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert f"OpenSearch at {url} is unreachable; the previous index is unchanged" in res.stderr


@pytest.mark.opensearch
def test_serve_loads_a_missing_opensearch_index_once(os_target, monkeypatch, default_embedder, tmp_path):
    """`make opensearch` then `COUNCIL_SEARCH_BACKEND=opensearch make run` on a fresh clone: serve
    loads the corpus into the empty cluster first; an existing alias is left alone."""
    monkeypatch.setenv("OPENSEARCH_URL", os_target.url)
    monkeypatch.setenv("OPENSEARCH_INDEX", os_target.alias)
    settings = Settings(backend="opensearch", embedder=default_embedder.name, data_dir=tmp_path)
    settings.embedding_cache_path.parent.mkdir(parents=True)
    shutil.copy(test_embedding_cache_path(), settings.embedding_cache_path)  # no model time: all cached
    assert ensure_index(settings, progress=False).records == 51
    [index] = os_target.client().indices.get_alias(name=os_target.alias)
    assert os_target.client().count(index=os_target.alias)["count"] == 51
    assert ensure_index(settings, progress=False) is None
    assert os_target.indices() == [index]
