"""Citations (text, CSL-JSON, content negotiation) and provenance/freshness on every surface that
shows a case: the case page, the case API, the page footer and /healthz."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient

from ingest.models import CaseRecord, SourceRef
from service.app import create_app
from service.citation import CitationFormat, citation_csl, citation_text, negotiate

SITE = "https://search.example.jp"
CASE_31 = "shinjuku-privacy-council-2023-031"
CITATION_31 = ("新宿区 個人情報保護管理運営会議 令和5年度 №31「地方公共団体情報システム標準化に対応した住民記録及び"
               "印鑑登録システムへの移行等について（委託内容の変更）」（令和5年12月21日付議、承認） "
               f"{SITE}/cases/{CASE_31}")


@pytest.fixture(scope="module")
def client(searcher, index_settings):
    settings = index_settings.model_copy(update={"public_base_url": SITE + "/"})
    with TestClient(create_app(searcher, settings)) as c:
        yield c


def test_citation_as_text_by_default(client):
    r = client.get(f"/api/cases/{CASE_31}/citation")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.text == CITATION_31 + "\n"
    assert r.headers["vary"] == "Accept"


def test_citation_as_csl_json(client):
    for request in ({"params": {"format": "csl-json"}}, {"headers": {"accept": "application/vnd.citationstyles.csl+json"}},
                    {"headers": {"accept": "text/html;q=0.9, application/json"}}):
        r = client.get(f"/api/cases/{CASE_31}/citation", **request)
        assert r.status_code == 200, request
        assert r.headers["content-type"] == "application/vnd.citationstyles.csl+json"
        item = r.json()
        assert item["id"] == CASE_31 and item["type"] == "report"
        assert item["title"].startswith("地方公共団体情報システム標準化") and item["number"] == "№31"
        assert item["author"] == [{"literal": "新宿区 個人情報保護管理運営会議"}]
        assert item["issued"] == {"date-parts": [[2023, 12, 21]]}
        assert item["URL"] == f"{SITE}/cases/{CASE_31}" and item["language"] == "ja"
        assert item["collection-title"] == "令和５年度新宿区個人情報保護管理運営会議における審議案件一覧"
        assert "承認" in item["note"] and item["publisher"] == "新宿区"
    # The format parameter wins over Accept.
    r = client.get(f"/api/cases/{CASE_31}/citation", params={"format": "text"}, headers={"accept": "application/json"})
    assert r.text == CITATION_31 + "\n"


def test_negotiation():
    assert negotiate("") is CitationFormat.text
    assert negotiate("*/*") is CitationFormat.text
    assert negotiate("application/json") is CitationFormat.csl_json
    assert negotiate("text/plain;q=0.5, application/vnd.citationstyles.csl+json") is CitationFormat.csl_json
    assert negotiate("application/json;q=0.2, text/plain;q=0.8") is CitationFormat.text
    assert negotiate("application/json;q=0, text/html") is CitationFormat.text
    assert negotiate("application/json;q=abc") is CitationFormat.text


def test_citation_errors_are_json(client):
    r = client.get("/api/cases/no-such-case/citation")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get(f"/api/cases/{CASE_31}/citation", params={"format": "bibtex"})
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "invalid_parameter", "message": "format: Input should be 'text' or 'csl-json'"}


def test_hostile_record_text_stays_text():
    evil = '<script>alert("x")</script>'
    record = CaseRecord(
        id="x-y-2023-001", number=1, municipality="新宿区", council=evil, fiscal_year=2023, fiscal_year_label="令和5年度",
        title=evil, departments=["a課"], categories=["業務委託"], meeting_date=dt.date(2023, 7, 28), result="承認",
        source=SourceRef(file="x.txt", line_start=1, line_end=2))
    assert evil in citation_text(record, "https://e.example/cases/x")
    assert json.loads(json.dumps(citation_csl(record, "https://e.example/cases/x")))["title"] == evil


def test_case_page_shows_citation_and_provenance(client, searcher):
    html = client.get(f"/cases/{CASE_31}", headers={"accept": "text/html"}).text
    assert ('<p class="citation-text" id="citation-text">新宿区 個人情報保護管理運営会議 令和5年度 №31「<cite>'
            "地方公共団体情報システム標準化に対応した住民記録及び印鑑登録システムへの移行等について（委託内容の変更）</cite>」"
            f"（令和5年12月21日付議、承認） {SITE}/cases/{CASE_31}</p>") in html
    assert f'<link rel="canonical" href="{SITE}/cases/{CASE_31}">' in html
    assert '<meta name="citation_title" content="地方公共団体情報システム標準化に対応した住民記録及び印鑑登録システムへの移行等について（委託内容の変更）">' in html
    assert '<meta name="citation_date" content="2023/12/21">' in html
    assert f'<link rel="alternate" type="application/vnd.citationstyles.csl+json" href="/api/cases/{CASE_31}/citation?format=csl-json">' in html
    record = searcher.backend.fetch([CASE_31])[CASE_31]
    assert "令和５年度新宿区個人情報保護管理運営会議における審議案件一覧" in html
    assert f"{record['source']['line_start']}〜{record['source']['line_end']}行目" in html
    built = searcher.health().built_at
    for label, iso in (("取り込み日", record["source"]["ingested_at"]), ("収録日", record["first_seen"]),
                       ("索引の作成日", built.isoformat())):
        when = dt.datetime.fromisoformat(iso)
        assert f'<dt>{label}</dt>' in html and f'datetime="{when.isoformat()}"' in html, label
    assert '<dt>報告日</dt><dd class="source-report-date"><time datetime="2024-01-18">令和6年1月18日</time>' in html
    assert f'最終更新: <time datetime="{built.isoformat()}">' in html
    # The copy and print buttons exist only for JavaScript to reveal; the script is a static file.
    assert 'class="button js-copy" data-copy-target="citation-text" hidden' in html
    assert "<script>" not in html


def test_case_api_carries_provenance_and_build_time(client, searcher):
    body = client.get(f"/api/cases/{CASE_31}").json()
    source = body["source"]
    assert source["report_title"] == "令和５年度新宿区個人情報保護管理運営会議における審議案件一覧"
    assert source["publisher"] == "新宿区" and body["report_date"] == "2024-01-18"
    assert 1 <= source["line_start"] < source["line_end"] and source["file"].endswith(".txt")
    assert dt.datetime.fromisoformat(source["ingested_at"]) and dt.datetime.fromisoformat(body["first_seen"])
    assert dt.datetime.fromisoformat(body["index_built_at"]) == searcher.health().built_at


def test_footer_and_healthz_say_when_the_index_was_built(client, searcher):
    built = searcher.health().built_at
    for path in ("/", "/docs"):
        assert f'最終更新: <time datetime="{built.isoformat()}">' in client.get(path, headers={"accept": "text/html"}).text
    assert dt.datetime.fromisoformat(client.get("/healthz").json()["built_at"]) == built


def test_healthz_names_the_source_reports_and_when_the_data_changed(client, searcher):
    body = client.get("/healthz").json()
    assert body["sources"] == [{
        "file": "shinjuku/r05-kojin-joho-hogo-kanri-unei-kaigi.txt",
        "report_title": "令和５年度新宿区個人情報保護管理運営会議における審議案件一覧", "publisher": "新宿区",
        "report_date": "2024-01-18", "sha256": body["sources"][0]["sha256"],
        "ingested_at": body["sources"][0]["ingested_at"], "records": 51}]
    records = searcher.backend.fetch([f"shinjuku-privacy-council-2023-{n:03d}" for n in range(1, 52)]).values()
    assert {r["source"]["sha256"] for r in records} == {body["sources"][0]["sha256"]}
    assert dt.datetime.fromisoformat(body["data_updated"]) == max(dt.datetime.fromisoformat(r["first_seen"]) for r in records)
    assert "sources" not in body["details"] and "data_updated" not in body["details"]
