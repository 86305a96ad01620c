"""`/feed.atom`: an Atom feed for any search, read by a real feed parser (feedparser), validated against
the RFC 4287 RELAX NG schema (lxml / libxml2), answered 304 when nothing changed, and, end to end,
a subscriber that sees exactly the one case a rebuilt corpus adds."""
from __future__ import annotations

import datetime as dt
import shutil
import time
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from service.app import create_app
from service.feed import MAX_ENTRIES, render_feed

SCHEMA = Path(__file__).parent / "schemas" / "atom.rng"
ATOM = {"a": "http://www.w3.org/2005/Atom"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUERY = {"q": "ガバメントクラウド", "department": "戸籍住民課"}
SITE = "https://search.example.jp"


@pytest.fixture(scope="module")
def relaxng():
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


@pytest.fixture(scope="module")
def client(searcher, index_settings):
    settings = index_settings.model_copy(update={"public_base_url": SITE})
    with TestClient(create_app(searcher, settings)) as c:
        yield c


def valid_atom(relaxng, body: bytes) -> etree._Element:
    """Parses, validates against RFC 4287's schema, and checks the schema's schematron rules."""
    doc = etree.fromstring(body)
    assert relaxng.validate(doc), relaxng.error_log
    assert doc.xpath("a:author or not(a:entry[not(a:author)])", namespaces=ATOM)
    for entry in doc.xpath("a:entry", namespaces=ATOM):
        assert entry.xpath("a:link[@rel='alternate'] or a:link[not(@rel)] or a:content", namespaces=ATOM)
    ids = doc.xpath("a:entry/a:id/text()", namespaces=ATOM)
    assert len(ids) == len(set(ids))
    return doc


def test_a_search_feed_reads_in_a_feed_reader_and_validates(client, relaxng):
    r = client.get("/feed.atom", params=QUERY)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    valid_atom(relaxng, r.content)
    f = feedparser.parse(r.content)
    assert not f.bozo, f.bozo_exception
    assert f.version == "atom10"
    assert "ガバメントクラウド" in f.feed.title and "戸籍住民課" in f.feed.title
    assert f.feed.language == "ja"
    self_link = next(link.href for link in f.feed.links if link.rel == "self")
    assert self_link.startswith(SITE + "/feed.atom?q=")
    # The same cases as the API's matches for the search, newest meeting first.
    api = client.get("/api/search", params={**QUERY, "sort": "newest", "size": MAX_ENTRIES}).json()
    assert [e.link for e in f.entries] == [SITE + h["url"] for h in api["hits"]]
    dates = [e.published_parsed[:3] for e in f.entries]
    assert dates == sorted(dates, reverse=True) and len(f.entries) == api["total"] > 0
    n31 = next(e for e in f.entries if e.link.endswith("-031"))
    assert n31.id.startswith("tag:search.example.jp,") and n31.id.endswith(":/cases/shinjuku-privacy-council-2023-031")
    assert n31.title.startswith("№31 地方公共団体情報システム標準化")
    assert n31.published == "2023-12-21T00:00:00+09:00"
    assert {t.term for t in n31.tags} == {"戸籍住民課", "業務委託"}
    assert "<strong>ガバメントクラウド</strong>" in n31.summary and "令和5年12月21日" in n31.summary
    assert "出典: 令和５年度新宿区個人情報保護管理運営会議における審議案件一覧（新宿区、令和6年1月18日）" in n31.summary
    assert n31.author == "新宿区 個人情報保護管理運営会議"
    # The feed's updated is its newest entry's.
    assert f.feed.updated_parsed == max(e.updated_parsed for e in f.entries)


def test_entry_ids_and_dates_come_from_the_record(client, searcher):
    r = client.get("/feed.atom", params={"q": "№31"})
    entry = feedparser.parse(r.content).entries[0]
    record = searcher.backend.fetch(["shinjuku-privacy-council-2023-031"])["shinjuku-privacy-council-2023-031"]
    first_seen = dt.datetime.fromisoformat(record["first_seen"])
    assert entry.id == f"tag:search.example.jp,{first_seen.date().isoformat()}:/cases/shinjuku-privacy-council-2023-031"
    assert entry.updated == first_seen.isoformat().replace("+00:00", "Z")


def test_at_most_50_entries_and_every_search_shape_validates(client, relaxng):
    everything = feedparser.parse(client.get("/feed.atom").content)
    assert len(everything.entries) == MAX_ENTRIES  # 51 cases, newest 50
    assert everything.feed.title.startswith("すべての案件")
    for params in ({"q": "防犯カメラ", "mode": "keyword"}, {"q": "再委託", "category": "業務委託", "date_from": "2023-10-01"},
                   {"q": "チャットボット", "mode": "keyword"}, {"meeting_month": "2023-07"},
                   {"q": "ガバクラ", "sort": "oldest", "page": "3", "size": "5"}):
        r = client.get("/feed.atom", params=params)
        assert r.status_code == 200, (params, r.text[:300])
        valid_atom(relaxng, r.content)
    empty = feedparser.parse(client.get("/feed.atom", params={"q": "チャットボット", "mode": "keyword"}).content)
    assert empty.entries == [] and empty.feed.updated  # updated is still there (the index build time)


def test_sort_and_paging_do_not_change_the_feed(client):
    a = client.get("/feed.atom", params={"q": "再委託"})
    b = client.get("/feed.atom", params={"q": "再委託", "sort": "relevance", "page": "2", "size": "3"})
    assert a.content == b.content and a.headers["etag"] == b.headers["etag"]


def test_hostile_input_is_escaped(client, relaxng):
    hostile = 'x<script>alert(1)</script>&amp;"\'\x01\x0b]]>'
    r = client.get("/feed.atom", params={"q": hostile, "department": "<b>課</b>", "mode": "keyword"})
    assert r.status_code == 200
    doc = valid_atom(relaxng, r.content)
    assert b"<script>" not in r.content and b"<b>" not in r.content
    title = doc.findtext("a:title", namespaces=ATOM)
    assert "x<script>alert(1)</script>&amp;" in title  # the text survives, as text
    assert "\x01" not in title


def test_a_hostile_record_cannot_inject_markup(searcher, relaxng):
    """Record text is corpus data: escaped in the XML, and in the HTML summary only the highlighter's
    matches are markup."""
    from engine.api_models import Highlights, Hit
    from engine.api_params import SearchParams
    from service.feed import Entry

    evil = '</title><script>alert(1)</script>\x00\x07'
    hit = Hit(id="x-1", number=1, title=evil, municipality="新宿区", departments=[evil], categories=["<i>"],
              meeting_date=dt.date(2024, 1, 15), result="承認", score=1.0, url="/cases/x-1",
              highlights=Highlights(title=evil, snippets=["a <mark>b</mark> <img src=x onerror=alert(1)>"]))
    record = {"municipality": "新宿区", "council": evil, "fiscal_year_label": "令和5年度", "report_date": "2024-01-18",
              "source": {"report_title": evil, "publisher": evil}}
    when = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    # q itself cannot hold NUL (the parameter model refuses it: invalid_encoding); the record fields can
    body = render_feed(params=SearchParams(q=evil.replace("\x00", "")), entries=[Entry(hit, record, when, when.date())],
                       site=SITE, empty_updated=when)
    doc = valid_atom(relaxng, body)
    summary = doc.findtext("a:entry/a:summary", namespaces=ATOM)
    assert "<img" not in summary and "&lt;img src=x onerror=alert(1)&gt;" in summary and "<strong>b</strong>" in summary
    assert "<script>" not in summary
    parsed = feedparser.parse(body)
    assert parsed.entries[0].title == "№1 </title><script>alert(1)</script>"


def test_conditional_get(client):
    first = client.get("/feed.atom", params=QUERY)
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('W/"') and first.headers["cache-control"].startswith("public")
    again = client.get("/feed.atom", params=QUERY, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/feed.atom", params=QUERY, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get("/feed.atom", params=QUERY, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/feed.atom", params=QUERY, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feed.atom", params=QUERY, headers={"If-Modified-Since": modified}).status_code == 304
    earlier = format_datetime(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), usegmt=True)
    assert client.get("/feed.atom", params=QUERY, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/feed.atom", params=QUERY, headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
    assert client.get("/feed.atom", params=QUERY, headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200
    # Another search is another document.
    assert client.get("/feed.atom", params={"q": "防犯カメラ"}, headers={"If-None-Match": etag}).status_code == 200


def test_bad_parameters_are_json_errors(client):
    for params, code in (({"mode": "fast"}, "invalid_mode"), ({"date_from": "2024-13-01"}, "invalid_date"),
                         ({"q": "x" * 1001}, "query_too_long"), ({"date_from": "2024-02-01", "date_to": "2024-01-01"}, "invalid_date_range")):
        r = client.get("/feed.atom", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == code


def test_the_page_and_the_api_link_the_feed(client):
    html = client.get("/", params=QUERY, headers={"accept": "text/html"}).text
    feed_href = "/feed.atom?q=%E3%82%AC%E3%83%90%E3%83%A1%E3%83%B3%E3%83%88%E3%82%AF%E3%83%A9%E3%82%A6%E3%83%89&amp;department=%E6%88%B8%E7%B1%8D%E4%BD%8F%E6%B0%91%E8%AA%B2"
    assert f'<link rel="alternate" type="application/atom+xml" title="この検索の新着案件（Atom）" href="{feed_href}">' in html
    assert f'href="{feed_href}" class="feed-link" type="application/atom+xml">この検索を購読（Atom）</a>' in html
    api = client.get("/api/search", params={**QUERY, "sort": "oldest", "page": 1})
    assert api.json()["feed_url"] == feed_href.replace("&amp;", "&")   # the body links it (a path, like hits' url)
    link = api.headers["link"]
    assert f'<{SITE}{feed_href.replace("&amp;", "&")}>; rel="alternate"; type="application/atom+xml"' in link


def test_host_header_is_not_trusted(searcher, index_settings):
    """Without a configured public URL, links use the address the server listens on, not Host."""
    with TestClient(create_app(searcher, index_settings), base_url="http://testserver") as c:
        body = c.get("/feed.atom", params={"q": "№31"}, headers={"host": "evil.example"}).text
    assert "evil.example" not in body and "http://testserver/cases/" in body


# ------------------------------------------------------------------ a subscriber, end to end

def _add_case_52(raw_dir: Path) -> None:
    """The ward republishes its list with one more case: a summary row and a detail sheet."""
    report = next(raw_dir.rglob("*.txt"))
    lines = report.read_text(encoding="utf-8").split("\n")
    row51 = next(k for k, line in enumerate(lines) if line.strip() == "51")
    date51 = next(k for k in range(row51, len(lines)) if "1月15日" in lines[k])
    lines[date51 + 1:date51 + 1] = ["", "52", "区立公園への防犯カメラの増設について 危機管理課", "", "防犯カメラ", "",
                                    "2月9日 承認"]
    if lines[-1] == "":
        lines.pop()
    lines += [" 区立公園への防犯カメラの増設について（№５２） ", " ", "事業名 区立公園の防犯対策 ", "",
              "担当課 危機管理課 ", "", "区 分 防犯カメラ ", "", "目 的 ",
              "区立公園における犯罪の抑止と利用者の安全確保のため。 ", "", "対象者 ", "区立公園の利用者 ", "",
              "事業内容 ", "１ 概要 ", "区立公園３か所に防犯カメラを増設し、録画データを危機管理課で管理する。 ", ""]
    report.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.slow
def test_a_subscriber_sees_exactly_the_new_case(tmp_path, monkeypatch, default_embedder, relaxng):
    from council_search.cli import main
    from council_search.settings import Settings
    from embeddings.cache import EmbeddingCache
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    from conftest import test_embedding_cache_path

    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "corpus", corpus)   # raw reports + records (the ingest ledger)
    data_dir = tmp_path / "var"

    def build() -> None:
        cache = EmbeddingCache(test_embedding_cache_path())
        try:
            build_index(corpus / "records", EmbeddedWriter(data_dir), default_embedder, cache, progress=False)
        finally:
            cache.close()

    build()
    settings = Settings(backend="embedded", corpus_dir=corpus, data_dir=data_dir, embedder=default_embedder.name,
                        admin_token="feed-test-token", public_base_url=SITE)
    admin = {"Authorization": "Bearer feed-test-token"}
    search = {"q": "防犯カメラ"}
    with TestClient(create_app(settings=settings)) as client:
        first = client.get("/feed.atom", params=search)
        assert first.status_code == 200
        subscribed = feedparser.parse(first.content)
        seen = {e.id for e in subscribed.entries}
        assert seen and not subscribed.bozo

        # Polling with nothing changed, even across a rebuild of the same records: 304.
        assert client.get("/feed.atom", params=search, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        build()
        assert client.post("/api/admin/reload", headers=admin).status_code == 200
        poll = client.get("/feed.atom", params=search, headers={"If-None-Match": first.headers["etag"],
                                                                 "If-Modified-Since": first.headers["last-modified"]})
        assert poll.status_code == 304

        # The report gains case №52; ingest (a day later) and rebuild.
        _add_case_52(corpus / "raw")
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 86400))
        assert main(["ingest", "--quiet", "--raw-dir", str(corpus / "raw"), "--out-dir", str(corpus / "records")]) == 0
        build()
        assert client.post("/api/admin/reload", headers=admin).status_code == 200

        changed = client.get("/feed.atom", params=search, headers={"If-None-Match": first.headers["etag"],
                                                                    "If-Modified-Since": first.headers["last-modified"]})
        assert changed.status_code == 200 and changed.headers["etag"] != first.headers["etag"]
        valid_atom(relaxng, changed.content)
        now = feedparser.parse(changed.content)
        new = [e for e in now.entries if e.id not in seen]
        assert [e.link for e in new] == [SITE + "/cases/shinjuku-privacy-council-2023-052"]
        assert new[0].title == "№52 区立公園への防犯カメラの増設について"
        # It is also the only entry updated since the subscriber's last look, and the feed says so.
        assert [e.id for e in now.entries if e.updated_parsed > subscribed.feed.updated_parsed] == [new[0].id]
        assert now.feed.updated_parsed == new[0].updated_parsed
        assert {e.id for e in now.entries} - {new[0].id} == seen


def test_filter_values_that_are_no_dates_are_shown_as_they_are(client, relaxng):
    r = client.get("/feed.atom", params={"fiscal_year": ["0", "99999"], "meeting_month": "2023-13"})
    assert r.status_code == 200
    title = valid_atom(relaxng, r.content).findtext("a:title", namespaces=ATOM)
    assert "付議月: 2023-13" in title and "年度: 0、99999" in title


def test_records_without_first_seen_keep_stable_ids():
    """Records from before provenance (or synthetic ones) have no first_seen: their entry is dated by the
    index build, but the id by the meeting date, so a rebuild does not make them new entries."""
    from engine.api_models import Highlights, Hit
    from service.feed import entries_of

    hit = Hit(id="x-1", number=1, title="t", municipality="新宿区", departments=[], categories=[],
              meeting_date=dt.date(2024, 1, 15), result="承認", score=1.0, url="/cases/x-1",
              highlights=Highlights(title="t"))
    builds = [dt.datetime(2026, 12, d, tzinfo=dt.timezone.utc) for d in (1, 2)]
    entries = [entries_of([hit], {"x-1": {"id": "x-1"}}, fallback=b)[0] for b in builds]
    assert [e.updated for e in entries] == builds
    assert {e.tag_day for e in entries} == {dt.date(2024, 1, 15)}


@pytest.mark.parametrize("params", [{"q": "チャットボット"}, {"q": "公園に防犯カメラを増設する", "mode": "keyword"}])
def test_the_feed_holds_matches_never_related_cases(client, params):
    """A search that matches nothing but has related cases (near in meaning, or with some of the
    words) gives an empty feed: related cases are never counted, so never subscribed to."""
    api = client.get("/api/search", params=params).json()
    assert api["total"] == 0 and api["related"], api
    f = feedparser.parse(client.get("/feed.atom", params=params).content)
    assert f.entries == []
