"""The server-rendered Japanese pages: content, escaping of hostile input, accessibility basics,
no inline script, no external resources, HTML errors."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path


from contract.backend import FACETS
from service.rendering import FACET_LABELS, STATIC_DIR, TEMPLATES_DIR, highlight, jdate, page_numbers

QUERY = "ガバメントクラウド 再委託"
CASE_3 = "shinjuku-privacy-council-2023-003"


class Page(HTMLParser):
    """Collects what the tests look at: tags with attributes, labels, text."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())

    def find(self, tag, **attrs):
        """Tags with these attributes (`class_` for class; True = attribute present, any value)."""
        def ok(a, k, v):
            k = k.rstrip("_")
            return k in a if v is True else a.get(k) == v
        return [a for t, a in self.tags if t == tag and all(ok(a, k, v) for k, v in attrs.items())]


def html_of(client, path, status=200, **params):
    r = client.get(path, params=params, headers={"accept": "text/html"})
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def assert_accessible_form_controls(page: Page):
    labelled = {a.get("for") for t, a in page.tags if t == "label"}
    for tag, attrs in page.tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            if tag == "input" and attrs.get("type") == "radio":
                continue  # radios are wrapped in their <label> inside a <fieldset> with a <legend>
            assert attrs.get("id") in labelled or attrs.get("aria-label"), attrs


def assert_no_inline_script(html: str):
    page = Page(html)
    for tag, attrs in page.tags:
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs
        for name in attrs:
            assert not name.startswith("on"), (tag, name)
        if tag == "a":
            assert not (attrs.get("href") or "").lower().startswith("javascript:")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "style=" not in html  # no inline styles either (CSP style-src 'self')


# ------------------------------------------------------------------ search page

def test_search_page_without_query(client):
    html = html_of(client, "/")
    page = Page(html)
    assert '<html lang="ja">' in html
    assert page.find("input", id="q", type="search")
    assert f"例: {QUERY}" in html  # the example query
    assert "51件" in html
    for facet in FACETS:
        assert f"<legend>{FACET_LABELS[facet]}</legend>" in html
    assert_accessible_form_controls(page)
    assert_no_inline_script(html)


def test_search_results_page(client):
    html = html_of(client, "/", q=QUERY, mode="keyword")
    page = Page(html)
    assert f"「{QUERY}」の検索結果" in html
    hits = page.find("article", class_="hit")
    assert hits
    links = [a["href"] for a in page.find("a", class_="hit-link")]
    assert len(links) == len(hits) and all(h.startswith("/cases/") for h in links)
    assert "<mark>" in html  # highlights rendered as markup
    assert page.find("time")  # meeting dates
    assert "令和5年" in html
    assert page.find("ul", class_="badges")  # category badges
    # the form carries the state: query, mode, sort
    assert page.find("input", id="q", type="search", value=QUERY)
    assert page.find("input", type="radio", name="mode", value="keyword", checked=True)
    assert page.find("option", value="relevance", selected=True)
    assert_accessible_form_controls(page)
    # facets are checkboxes with counts in the same GET form
    boxes = page.find("input", type="checkbox", name="department")
    assert boxes
    assert page.find("form", action="/", method="get")


def test_facet_selection_is_in_the_url_and_checked(client):
    html = html_of(client, "/", q=QUERY, mode="keyword", department="医療保険年金課")
    page = Page(html)
    checked = [a for a in page.find("input", type="checkbox", name="department") if "checked" in a]
    assert [a["value"] for a in checked] == ["医療保険年金課"]
    total = int(re.search(r'data-total="(\d+)"', html).group(1))
    unfiltered = int(re.search(r'data-total="(\d+)"', html_of(client, "/", q=QUERY, mode="keyword")).group(1))
    assert 0 < total < unfiltered
    assert "絞り込みを解除" in html


def test_paging_links_keep_the_state(client):
    html = html_of(client, "/", q="システム", mode="keyword", department="医療保険年金課", size=2)
    page = Page(html)
    nav = [a["href"] for a in page.find("a") if "page=" in (a.get("href") or "")]
    assert nav
    assert all("department=%E5%8C%BB%E7%99%82" in h and "size=2" in h and "mode=keyword" in h for h in nav)
    current = [a for a in page.find("a") if a.get("aria-current") == "page"]
    assert current and current[0]["href"].endswith("page=1")


def test_page_past_the_end_redirects_to_the_last_page(client):
    r = client.get("/", params={"q": "システム", "mode": "keyword", "size": 10, "page": 99}, follow_redirects=False)
    assert r.status_code == 303
    assert "page=" in r.headers["location"] and "page=99" not in r.headers["location"]


def test_empty_form_fields_are_fine(client):
    html = html_of(client, "/", q="", date_from="", date_to="", mode="hybrid", sort="relevance")
    assert "51件" in html


def test_no_results_page_helps(client):
    html = html_of(client, "/", q="ぴよぴよ", mode="keyword")
    assert "「ぴよぴよ」に一致する案件はありません" in html
    assert "ハイブリッド検索で探す" in html


def test_nothing_matches_offers_the_corpus_word_spelled_another_way(client):
    html = html_of(client, "/", q="がばめんとくらうど")
    assert "「がばめんとくらうど」に一致する案件はありません" in html
    assert "もしかして" in html and "ガバメントクラウド" in html
    page = Page(html)
    link = next(a.get("href") for a in page.find("a") if (a.get("href") or "").startswith("/?") and "%E3%82%AC%E3%83%90" in a.get("href"))
    assert "q=%E3%82%AC%E3%83%90%E3%83%A1%E3%83%B3%E3%83%88%E3%82%AF%E3%83%A9%E3%82%A6%E3%83%89" in link
    assert "もしかして" not in html_of(client, "/", q="チャットボット")       # no corpus word starts so


def test_downloads_link_to_csv_and_json_of_the_same_query(client):
    page = Page(html_of(client, "/", q=QUERY, department="戸籍住民課"))
    hrefs = [a.get("href") or "" for a in page.find("a")]
    assert any(h.startswith("/api/search.csv?") and "department=" in h for h in hrefs)
    assert any(h.startswith("/api/search?") and "q=" in h for h in hrefs)


# ------------------------------------------------------------------ escaping

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'


def test_hostile_query_is_escaped_everywhere(client):
    for mode in ("keyword", "hybrid"):
        html = html_of(client, "/", q=HOSTILE, mode=mode)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html
        assert_no_inline_script(html)


def test_hostile_facet_and_date_values_are_escaped(client):
    html = html_of(client, "/", department=HOSTILE, category='"><b>x</b>')
    assert "<img src=x" not in html and "<b>x</b>" not in html
    html = html_of(client, "/", 400, date_from=HOSTILE)
    assert "<script>alert" not in html


def test_highlight_filter_keeps_only_mark():
    assert str(highlight("a <mark>b</mark> c")) == "a <mark>b</mark> c"
    assert str(highlight("&lt;b&gt; <mark>&amp;</mark>")) == "&lt;b&gt; <mark>&amp;</mark>"  # already escaped: unchanged
    out = str(highlight('<script>x</script><mark onclick="y">z</mark><b>w</b>'))
    assert "<script>" not in out and "<b>" not in out and "onclick" not in out.replace("&#34;", "").split("&lt;mark")[0]
    assert "<mark onclick" not in out
    assert str(highlight("<mark>open")) == "<mark>open</mark>"  # unbalanced: closed
    assert str(highlight("x</mark>y")) == "xy"
    assert str(highlight(None)) == ""


def test_months_read_newest_first(client):
    html = html_of(client, "/")
    months = re.findall(r'name="meeting_month" value="(\d{4}-\d{2})"', html)
    assert len(months) >= 5 and months == sorted(months, reverse=True)


def test_query_notes_are_shown_in_japanese(client):
    html = html_of(client, "/", q='-委託 "unbalanced', mode="keyword")
    notes = re.findall(r'<p class="warning">(.*?)</p>', html)
    assert notes and all(re.search(r"[ぁ-んァ-ン一-龥]", n) for n in notes), notes
    assert any("対応していない引用符" in n for n in notes), notes   # the catalogue's text (contract/query_warnings.py)


def test_japanese_dates_and_pages():
    assert jdate("2023-07-28") == "令和5年7月28日"
    assert jdate("2019-05-01") == "令和元年5月1日"
    assert jdate("2019-04-30") == "平成31年4月30日"
    assert page_numbers(1, 1) == [1]
    assert page_numbers(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert page_numbers(2, 4) == [1, 2, 3, 4]


# ------------------------------------------------------------------ case page

def test_case_page(client, searcher):
    case = searcher.case(CASE_3)
    html = html_of(client, f"/cases/{CASE_3}")
    page = Page(html)
    assert case.title in html
    for label in ("付議日", "審議結果", "担当課", "区分", "事業名", "目的", "対象者", "事業内容"):
        assert f"<dt>{label}</dt>" in html or f">{label}</h2>" in html, label
    # body paragraphs restored: one <p> per paragraph of the record
    body_section = html.split('id="body-title"')[1].split("</section>")[0]
    assert body_section.count("<p>") == len([p for p in case.body.split("\n") if p.strip()])
    # attachment collapsed
    assert "<details class=\"attachment\">" in html and "open" not in html.split('<details class="attachment"')[1][:5]
    # similar cases and the same-project timeline
    assert "類似案件" in html and "同じ事業の経緯" in html
    similar_links = html.split('id="similar-title"')[1]
    assert similar_links.count('class="hit-link"') >= 3
    timeline = html.split('id="timeline-title"')[1].split("</section>")[0]
    assert "/cases/shinjuku-privacy-council-2023-012" in timeline and "aria-current" in timeline
    # permalink
    assert page.find("link", rel="canonical", href=f"http://testserver/cases/{CASE_3}")
    assert page.find("input", id="permalink", value=f"http://testserver/cases/{CASE_3}")
    assert_accessible_form_controls(page)
    assert_no_inline_script(html)


def test_case_page_back_link_uses_a_same_origin_referer_only(client):
    html = client.get(f"/cases/{CASE_3}", headers={"referer": "http://testserver/?q=x&page=2"}).text
    assert 'href="/?q=x&amp;page=2"' in html and "検索結果に戻る" in html
    html = client.get(f"/cases/{CASE_3}", headers={"referer": "http://evil.example/?q=x"}).text
    assert "evil.example" not in html


def test_unknown_case_page_is_a_404_page(client):
    html = html_of(client, "/cases/shinjuku-privacy-council-2023-999", 404)
    assert "ページが見つかりません" in html and '<html lang="ja">' in html
    assert_no_inline_script(html)


def test_bad_parameters_give_a_400_page_with_the_form(client):
    html = html_of(client, "/", 400, q="<b>bold</b>", mode="fuzzy")
    assert "検索条件を確認してください" in html and "invalid_mode" in html
    assert 'value="&lt;b&gt;bold&lt;/b&gt;"' in html
    html = html_of(client, "/", 400, date_from="2023-12-01", date_to="2023-01-01")
    assert "invalid_date_range" in html


# ------------------------------------------------------------------ headers and assets

def test_csp_and_security_headers_on_pages(client):
    r = client.get("/", params={"q": QUERY})
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert r.headers["x-frame-options"] == "DENY"


def test_pages_and_api_are_compressed(client):
    for path in ("/?q=%E5%A7%94%E8%A8%97", "/api/search"):
        r = client.get(path, headers={"accept-encoding": "gzip"})
        assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip", path
        assert r.headers["content-security-policy"]


def test_static_assets_served_and_nothing_external(client):
    for name in ("style.css", "app.js", "favicon.svg"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and r.content
    for path in list(Path(TEMPLATES_DIR).glob("*.html")) + list(Path(STATIC_DIR).glob("*")):
        text = path.read_text(encoding="utf-8")
        # no absolute URL at all except XML namespace names (favicon.svg)
        assert not [m for m in re.findall(r"(?:https?:)?//[^\s\"'<>)]+", text) if "w3.org" not in m and "a9.com" not in m], path
        assert "@import" not in text and "@font-face" not in text, path


def test_docs_page_is_japanese_shell_and_lists_parameters(client):
    html = html_of(client, "/docs")
    assert '<html lang="ja">' in html
    for name in ("department", "date_from", "size", "mode"):
        assert f"<code>{name}</code>" in html
    assert_no_inline_script(html)


def test_docs_markup_is_escaped_except_code_spans():
    from service.rendering import doc_blocks
    blocks = doc_blocks("Intro <b>x</b> `a<b>`\n\n* item one\n  continued\n* item `two`")
    assert [k for k, _ in blocks] == ["p", "li", "li"]
    assert str(blocks[0][1]) == "Intro &lt;b&gt;x&lt;/b&gt; <code>a&lt;b&gt;</code>"
    assert str(blocks[1][1]) == "item one continued"


def test_case_page_without_attachment_or_lineage(client, searcher):
    nine = searcher.case("shinjuku-privacy-council-2023-009")
    assert not nine.attachment  # the one case without a 別紙
    html = html_of(client, "/cases/shinjuku-privacy-council-2023-009")
    assert 'class="attachment"' not in html
    html = html_of(client, "/cases/shinjuku-privacy-council-2023-018")
    assert "同じ事業の他の案件はありません" in html
