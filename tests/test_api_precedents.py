"""Precedents from a draft: POST /api/precedents and the /precedents page (real index, real model)."""
from __future__ import annotations

import json
import re

import pytest

from engine.api_params import MAX_DRAFT_CHARS
from engine.precedents import mark_shared

RECORDS = "corpus/records/shinjuku-privacy-council-2023.jsonl"


def case_id(n: int) -> str:
    return f"shinjuku-privacy-council-2023-{n:03d}"


@pytest.fixture(scope="module")
def records(built_index):
    out = {}
    for path in built_index.records_dir.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out[r["number"]] = r
    return out


def test_a_later_case_finds_its_lineage_first(client, records):
    r = client.post("/api/precedents", json={"text": records[31]["body"], "exclude": [case_id(31)], "size": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    numbers = [h["number"] for h in body["hits"]]
    assert set(numbers[:2]) == {3, 12}            # the earlier cases of the 住民記録 lineage
    assert 31 not in numbers and body["total"] == len(numbers) == 5
    assert body["passages"] == body["embedded"] >= 1
    top = body["hits"][0]
    assert top["pairs"] and all(p["by"] == "meaning" for p in top["pairs"])
    assert "<mark>住民記録</mark>" in top["pairs"][0]["draft"]      # shared words marked on both sides
    assert "<mark>" in top["pairs"][0]["case"]
    assert top["url"] == f"/cases/{top['id']}"


def test_filters_apply(client, records):
    r = client.post("/api/precedents", json={"text": records[38]["body"], "category": ["外部提供"], "size": 20})
    assert r.status_code == 200
    assert all("外部提供" in h["categories"] for h in r.json()["hits"])
    r = client.post("/api/precedents", json={"text": records[38]["body"], "result": ["承認"], "size": 3})
    assert [h["result"] for h in r.json()["hits"]] == ["承認"] * 3


@pytest.mark.parametrize("payload,status,code", [
    ({"text": "あ" * (MAX_DRAFT_CHARS + 1)}, 413, "draft_too_long"),
    ({"text": "   \n "}, 400, "empty_draft"),
    ({"text": "委託", "size": 21}, 400, "size_too_large"),
    ({"text": "委託", "date_from": "2023-13-01"}, 400, "invalid_date"),
    ({"text": "委託", "department": ["x" * 201]}, 400, "invalid_filter"),
    ({"text": "委託", "unknown": 1}, 400, "unknown_parameter"),
    ({}, 400, "invalid_parameter"),
])
def test_bad_requests_get_the_error_shape(client, payload, status, code):
    r = client.post("/api/precedents", json=payload)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_json_only(client):
    """A cross-site form can send text/plain or form data, never application/json."""
    for headers, content in (({"content-type": "text/plain"}, json.dumps({"text": "委託"})),
                             ({"content-type": "application/x-www-form-urlencoded"}, "text=%E5%A7%94%E8%A8%97")):
        r = client.post("/api/precedents", content=content, headers=headers)
        assert r.status_code == 415 and r.json()["error"]["code"] == "json_required"


def test_marks_are_escaped():
    html = mark_shared("<script>住民記録</script>の移行", {"住民", "記録"})   # words: 住民 + 記録
    assert html == "&lt;script&gt;<mark>住民記録</mark>&lt;/script&gt;の移行"


def test_page_form_works_without_javascript(client, records):
    page = client.get("/precedents")
    assert page.status_code == 200 and 'method="post"' in page.text and 'action="/precedents"' in page.text
    text = "<b>下書き</b>\n" + records[42]["body"]
    r = client.post("/precedents", data={"text": text, "result": "承認"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;下書き&lt;/b&gt;" in r.text and "<b>下書き" not in r.text   # the draft is escaped
    numbers = [int(n) for n in re.findall(r"<dt>№</dt><dd>(\d+)</dd>", r.text)]
    assert set(numbers[:3]) >= {7, 16} and 42 in numbers[:4]
    assert 'class="pair-table"' in r.text and "<mark>" in r.text
    assert 'value="承認" checked' in r.text


def test_page_errors(client):
    r = client.post("/precedents", data={"text": ""})
    assert r.status_code == 400 and "下書きの文章を入力してください" in r.text
    r = client.post("/precedents", data={"text": "あ" * (MAX_DRAFT_CHARS + 1)})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")


def test_busy_embedder_is_a_503_with_retry_after(client, records, default_embedder):
    """A draft is embedded through the same gate as search queries (issue 14): when it is full the
    API and the page answer 503 busy at once, and the next request goes through."""
    gate = default_embedder.query_gate
    saved = gate.max_waiting
    gate.max_waiting = 0          # no queue, and the one slot taken
    gate.__enter__()
    try:
        r = client.post("/api/precedents", json={"text": records[31]["body"]})
        assert r.status_code == 503 and r.json()["error"]["code"] == "busy"
        assert int(r.headers["retry-after"]) >= 1
        page = client.post("/precedents", data={"text": records[31]["body"]})
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    finally:
        gate.__exit__(None, None, None)
        gate.max_waiting = saved
    assert client.post("/api/precedents", json={"text": records[31]["body"], "size": 1}).status_code == 200
