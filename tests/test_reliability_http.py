"""Regression tests of issue 14 at the HTTP surface (each failed on 9635f0c): links that do not come
from the Host header, every CSV cell escaped, HEAD on GET routes, undecodable parameters refused,
/similar echoing its date filters, the Japanese 503 page, the admin rate limit."""
from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from council_search.settings import Settings
from service.app import create_app

CASE = "shinjuku-privacy-council-2023-003"
EVIL = "evil.example"


def assert_error(r, status: int, code: str | None = None, html: bool = False) -> None:
    assert r.status_code == status, r.text
    if html:
        assert r.headers["content-type"].startswith("text/html")
    else:
        assert r.headers["content-type"] == "application/json"
        body = r.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
        if code:
            assert body["error"]["code"] == code
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "Traceback" not in r.text


def csv_rows(r) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


# ------------------------------------------------------------------ 4. Host header

def test_links_never_come_from_the_host_header(client):
    headers = {"host": EVIL}
    for path in ("/api/search.csv?q=委託&mode=keyword", f"/cases/{CASE}", "/opensearch.xml", "/"):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, (path, r.status_code)
        assert EVIL not in r.text, path
    rows = csv_rows(client.get("/api/search.csv", params={"q": "委託", "mode": "keyword"}, headers=headers))
    # no public_base_url: the address the server listens on (service/urls.py), not the Host header
    assert rows and all(row["url"] == f"http://testserver/cases/{row['id']}" for row in rows)


def test_configured_public_base_url_makes_the_links(searcher):
    settings = Settings(public_base_url="https://search.example.jp")
    with TestClient(create_app(searcher, settings)) as c:
        headers = {"host": EVIL}
        rows = csv_rows(c.get("/api/search.csv", params={"q": "委託", "mode": "keyword"}, headers=headers))
        assert rows[0]["url"] == f"https://search.example.jp/cases/{rows[0]['id']}"
        page = c.get(f"/cases/{CASE}", headers=headers).text
        assert f'value="https://search.example.jp/cases/{CASE}"' in page and EVIL not in page
        xml = c.get("/opensearch.xml", headers=headers).text
        assert 'template="https://search.example.jp/?q={searchTerms}' in xml and EVIL not in xml


def test_public_base_url_must_be_an_origin():
    with pytest.raises(ValueError):
        Settings(public_base_url="javascript:alert(1)")


# ------------------------------------------------------------------ 5. CSV cells and record ids

def test_every_csv_cell_is_formula_escaped():
    from engine.api_models import Highlights, Hit
    from service.routers.search import _csv_row
    hit = Hit(id="=HYPERLINK(\"http://x\")", number=1, title="-1+1", municipality="@SUM(A1)", departments=["+x"],
              categories=["=1"], meeting_date="2023-07-28", result="-", score=-1.5,
              highlights=Highlights(title=""), url="/cases/=x")
    row = _csv_row(hit, "")
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row), row


@pytest.mark.parametrize("bad_id", ["=cmd|' /C calc'!A0", "-2+3", "@x", "UPPER-case", "a/b", "a b", "", "a--b",
                                     "-leading", "trailing-", "日本語", "x" * 201])
def test_record_ids_are_validated_at_ingest(bad_id):
    import json

    from pydantic import ValidationError

    from ingest.models import CaseRecord
    from tests_data import a_record
    record = a_record()
    CaseRecord.model_validate(record)
    with pytest.raises(ValidationError):
        CaseRecord.model_validate({**record, "id": bad_id})
    assert json.dumps(record)


# ------------------------------------------------------------------ 7. HEAD

@pytest.mark.parametrize("path", ["/", "/healthz", "/api/search?q=委託", "/api/search.csv?q=委託", "/api/facets",
                                  f"/api/cases/{CASE}", f"/api/cases/{CASE}/similar", f"/cases/{CASE}",
                                  "/opensearch.xml", "/openapi.json", "/docs", "/static/style.css"])
def test_head_answers_like_get_without_a_body(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["x-content-type-options"] == "nosniff"


def test_head_of_an_unknown_case_is_404(client):
    assert client.head("/api/cases/no-such-case").status_code == 404


# ------------------------------------------------------------------ 8. undecodable parameters

@pytest.mark.parametrize("raw", ["q=%ff%fe", "q=%c3", "q=a%00b", "q=%zz", "q=100%", "department=%e6%88", "date_from=%00",
                                 "mode=keyword&q=%ED%A0%80"])
def test_undecodable_parameters_are_a_400_json_error(client, raw):
    assert_error(client.get("/api/search?" + raw), 400, "invalid_encoding")
    assert_error(client.get("/api/search.csv?" + raw), 400, "invalid_encoding")
    assert_error(client.get(f"/api/cases/{CASE}/similar?" + raw), 400, "invalid_encoding")


def test_undecodable_parameters_on_pages_are_a_400_page(client):
    r = client.get("/?q=%ff")
    assert_error(r, 400, html=True)
    assert "URL の文字を読み取れませんでした" in r.text
    assert_error(client.get("/cases/%ff%fe"), 400, html=True)


def test_ordinary_percent_encoded_japanese_still_works(client):
    r = client.get("/api/search?q=%E5%A7%94%E8%A8%97&mode=keyword")   # 委託
    assert r.status_code == 200 and r.json()["query"]["q"] == "委託" and r.json()["total"] > 0
    assert client.get("/api/search?q=a+b&mode=keyword").json()["query"]["q"] == "a b"


# ------------------------------------------------------------------ 8. /similar echo, 503 page, admin rate limit

def test_similar_echoes_the_date_filters(client):
    r = client.get(f"/api/cases/{CASE}/similar", params={"date_from": "2023-09-01", "date_to": "2023-12-31",
                                                          "category": "業務委託"})
    assert r.status_code == 200, r.text
    assert r.json()["filters"] == {"category": ["業務委託"], "date_from": ["2023-09-01"], "date_to": ["2023-12-31"]}


def test_japanese_503_page_has_a_japanese_message(tmp_path):
    settings = Settings(data_dir=tmp_path / "no-index", corpus_dir=tmp_path / "no-corpus")
    with TestClient(create_app(settings=settings)) as c:
        r = c.get("/", headers={"accept": "text/html"})
        assert_error(r, 503, html=True)
        assert "検索サービスに接続できません" in r.text
        assert "the search backend is unavailable" not in r.text


def test_admin_endpoint_is_rate_limited(searcher):
    settings = Settings(admin_token="s3cret-token", admin_requests_per_minute=3)
    with TestClient(create_app(searcher, settings)) as c:
        for _ in range(3):
            assert_error(c.post("/api/admin/reload", headers={"authorization": "Bearer wrong"}), 401)
        r = c.post("/api/admin/reload", headers={"authorization": "Bearer s3cret-token"})
        assert_error(r, 429, "rate_limited")
        assert int(r.headers["retry-after"]) >= 1


# ------------------------------------------------------------------ 2. dates

OUT_OF_RANGE = ["9999-12-31", "0001-01-01", "1677-09-21", "2262-04-12", "1899-12-31", "2200-01-01"]


@pytest.mark.parametrize("day", OUT_OF_RANGE + ["2023-02-29", "2023-13-01", "2023-1-1", " 2023-01-01", "20230101"])
def test_unacceptable_dates_are_a_400_everywhere(client, day):
    for name in ("date_from", "date_to"):
        assert_error(client.get("/api/search", params={name: day}), 400, "invalid_date")
        assert_error(client.get("/api/search.csv", params={name: day}), 400, "invalid_date")
        assert_error(client.get(f"/api/cases/{CASE}/similar", params={name: day}), 400, "invalid_date")
        page = client.get("/", params={name: day})
        assert_error(page, 400, html=True)     # the page answers with a page, not JSON
        assert "1900-01-01" in page.text or "YYYY-MM-DD" in page.text


def test_the_schema_date_pattern_is_exactly_the_accepted_range(client):
    import datetime as dt
    import re
    schema = client.get("/openapi.json").json()
    params = {p["name"]: p for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    pattern = re.compile(params["date_from"]["schema"]["anyOf"][0]["pattern"])
    assert params["date_to"]["schema"]["anyOf"][0]["pattern"] == pattern.pattern
    samples = ["1900-01-01", "2199-12-31", "2000-02-29", "2024-02-29", "2023-07-28", "", *OUT_OF_RANGE,
               "1900-02-29", "2100-02-29", "2023-04-31", "2023-00-10"]
    for day in samples:
        r = client.get("/api/search", params={"date_from": day, "mode": "keyword", "size": 1})
        assert (r.status_code == 200) == bool(pattern.match(day)), (day, r.status_code)
    # and on every day of the range's edges
    for start in (dt.date(1899, 12, 20), dt.date(2199, 12, 20)):
        for i in range(20):
            day = (start + dt.timedelta(days=i)).isoformat()
            accepted = client.get("/api/search", params={"date_to": day, "mode": "keyword", "size": 1}).status_code == 200
            assert accepted == bool(pattern.match(day)), day
