"""Dry-run the real-OpenSearch integration suite against osmem behind the exact-kNN test proxy.

    .venv/bin/python tests/scenarios/dryrun_integration.py

This checks the suite's own logic (fixtures, clean-up, assertions) where no OpenSearch can run. It
says nothing about OpenSearch itself: kNN is answered by the proxy's exact search, BM25 by osmem.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from osmem_server import OsmemServer  # noqa: E402

from scenarios.proxy import RecordingProxy, exact_knn  # noqa: E402


def main() -> int:
    with OsmemServer.start() as server:
        proxy = RecordingProxy(server.url)
        proxy.hooks.append(exact_knn(server.url))
        try:
            env = dict(os.environ, OPENSEARCH_URL=proxy.url)
            for key in ("OPENSEARCH_USER", "OPENSEARCH_PASSWORD", "OPENSEARCH_INDEX"):
                env.pop(key, None)
            rc = subprocess.call([sys.executable, "-m", "pytest", "tests/test_opensearch_integration.py", "-q",
                                  "-p", "no:cacheprovider", *sys.argv[1:]], env=env, cwd=ROOT)
            left = json.loads(urllib.request.urlopen(server.url + "/_cat/indices?format=json").read())
            print(f"indices left behind: {[i['index'] for i in left]}")
            return rc if not left else 1
        finally:
            proxy.close()


if __name__ == "__main__":
    sys.exit(main())
