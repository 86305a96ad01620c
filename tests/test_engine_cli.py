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


def test_json_output_is_the_api_response(built_index, searcher):
    """`search --json` and GET /api/search, same parameters: the same JSON document (but took_ms).
    Hybrid with a sentence query exercises the parser's notes, the relaxed fallback and fusion."""
    from fastapi.testclient import TestClient

    from service.app import create_app
    answers = []
    with TestClient(create_app(searcher)) as client:
        for args, params in [
            (["ガバメントクラウド 再委託", "--mode", "keyword", "--department", "医療保険年金課"],
             {"q": "ガバメントクラウド 再委託", "mode": "keyword", "department": "医療保険年金課", "size": 10}),
            (["公園に防犯カメラを増設したい \"未閉", "--size", "5", "--date-from", "2023-04-01"],
             {"q": "公園に防犯カメラを増設したい \"未閉", "size": 5, "date_from": "2023-04-01"}),
        ]:
            out = run_search(built_index, *args, "--json")
            assert out.returncode == 0, out.stderr
            data = json.loads(out.stdout)
            api = client.get("/api/search", params=params)
            assert api.status_code == 200, api.text
            expected = api.json()
            data.pop("took_ms"), expected.pop("took_ms")
            assert data == expected and data["hits"]
            answers.append(data)
    assert sorted(h["number"] for h in answers[0]["hits"]) == [13, 14, 38, 40]
    assert answers[1]["query"]["warnings"]   # the notes travel the same way


def test_text_output_and_errors(built_index):
    out = run_search(built_index, "防犯カメラ", "--mode", "keyword")
    assert out.returncode == 0 and "№18" in out.stdout and "<mark>" not in out.stdout
    out = run_search(built_index, "x", "--mode", "fuzzy")
    assert out.returncode == 2 and "mode must be one of" in out.stderr and "Traceback" not in out.stderr
    out = run_search(built_index, "x", "--date-from", "2023-02-30")
    assert out.returncode == 2 and "date_from" in out.stderr and "Traceback" not in out.stderr
