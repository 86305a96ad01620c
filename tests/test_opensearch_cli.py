"""`council-search index --backend opensearch` (what the compose `indexer` service runs), end to
end in a subprocess against osmem, configured only through the environment."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.opensearch.client import make_client
from engine.opensearch.settings import OpenSearchSettings

ROOT = Path(__file__).resolve().parent.parent


def _index(url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENSEARCH_", "COUNCIL_SEARCH_"))}
    env.update(COUNCIL_SEARCH_BACKEND="opensearch", OPENSEARCH_URL=url, OPENSEARCH_INDEX="council-cases",
               COUNCIL_SEARCH_DATA_DIR=str(tmp_path))
    cmd = [sys.executable, "-m", "council_search.cli", "index", "--embedder", "none", "--no-progress"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_index_command_builds_and_swaps(osmem_clone, tmp_path):
    first = _index(osmem_clone.url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "indexed 51 records" in first.stdout
    client = make_client(OpenSearchSettings(url=osmem_clone.url))
    [index1] = client.indices.get_alias(name="council-cases")
    assert client.count(index="council-cases")["count"] == 51

    second = _index(osmem_clone.url, tmp_path)
    assert second.returncode == 0, second.stderr
    [index2] = client.indices.get_alias(name="council-cases")
    assert index2 != index1
    assert sorted(client.indices.get(index="council-cases-v*")) == [index2]  # the old build is gone
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
