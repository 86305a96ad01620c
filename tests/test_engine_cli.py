"""`council-search search`: --json prints exactly the API's SearchResponse; errors are clear."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import PROJECT_ROOT


def run_search(built_index, *args):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), COUNCIL_SEARCH_DATA_DIR=str(built_index.data_dir),
               COUNCIL_SEARCH_EMBEDDER=built_index.embedder_name, COUNCIL_SEARCH_BACKEND="embedded")
    return subprocess.run([sys.executable, "-m", "council_search.cli", "search", *args],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env=env)


def test_json_output_is_the_search_response(built_index, searcher):
    out = run_search(built_index, "ガバメントクラウド 再委託", "--mode", "keyword", "--department", "医療保険年金課", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    expected = searcher.search(searcher.params(q="ガバメントクラウド 再委託", mode="keyword", size=10,
                                               filters={"department": ["医療保険年金課"]})).model_dump(mode="json")
    data.pop("took_ms"), expected.pop("took_ms")
    assert data == expected
    assert sorted(h["number"] for h in data["hits"]) == [13, 14, 38, 40]


def test_text_output_and_errors(built_index):
    out = run_search(built_index, "防犯カメラ", "--mode", "keyword")
    assert out.returncode == 0 and "№18" in out.stdout and "<mark>" not in out.stdout
    out = run_search(built_index, "x", "--mode", "fuzzy")
    assert out.returncode == 2 and "mode must be one of" in out.stderr and "Traceback" not in out.stderr
    out = run_search(built_index, "x", "--date-from", "2023-02-30")
    assert out.returncode == 2 and "date_from" in out.stderr and "Traceback" not in out.stderr
