"""Following and citing, in a real browser (Debian's chromium through playwright) against a real
uvicorn server: the citation on №31 (text, copy button, without JavaScript), the print view, and the
feed link on a search page."""
from __future__ import annotations

import urllib.parse

import feedparser
import pytest

# the chromium fixture, the app served by uvicorn on a free port, and the page helper
from test_browser_search import browser, new_page, server  # noqa: F401

pytestmark = pytest.mark.browser

CASE_31 = "shinjuku-privacy-council-2023-031"
TITLE_31 = "地方公共団体情報システム標準化に対応した住民記録及び印鑑登録システムへの移行等について（委託内容の変更）"


def expected_citation(base: str) -> str:
    # No public URL configured: links use the address the server listens on.
    return f"新宿区 個人情報保護管理運営会議 令和5年度 №31「{TITLE_31}」（令和5年12月21日付議、承認） {base}/cases/{CASE_31}"


def test_citation_on_case_31_copies_with_one_click(browser, server):  # noqa: F811
    page, problems = new_page(browser)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page.goto(f"{server}/cases/{CASE_31}")
    citation = page.locator("#citation-text")
    assert citation.inner_text() == expected_citation(server)
    assert page.locator("#citation-text cite").inner_text() == TITLE_31
    button = page.get_by_role("button", name="引用文をコピー")
    assert button.is_visible()
    button.click()
    page.get_by_role("status").filter(has_text="コピーしました").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == expected_citation(server)
    assert page.get_by_role("button", name="印刷する").is_visible()
    # Provenance is on the page.
    provenance = page.locator("section.provenance").inner_text()
    for label in ("令和５年度新宿区個人情報保護管理運営会議における審議案件一覧", "行目", "取り込み日", "収録日", "索引の作成日"):
        assert label in provenance
    assert page.locator("footer .last-updated").inner_text().startswith("最終更新: 令和")
    assert problems == []
    page.context.close()


def test_citation_without_javascript_is_plain_selectable_text(browser, server):  # noqa: F811
    page, _ = new_page(browser, javascript=False)
    page.goto(f"{server}/cases/{CASE_31}")
    assert page.locator("#citation-text").inner_text() == expected_citation(server)
    assert not page.get_by_role("button", name="引用文をコピー").is_visible()   # nothing that would not work
    page.locator("#citation-text").select_text()
    assert page.evaluate("window.getSelection().toString()") == expected_citation(server)
    page.context.close()


def test_print_view_is_the_record_timeline_and_citation_on_a4(browser, server):  # noqa: F811
    page, _ = new_page(browser)
    page.goto(f"{server}/cases/shinjuku-privacy-council-2023-003")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".breadcrumb", ".permalink", "section.similar", ".citation-actions"):
        assert not page.locator(hidden).first.is_visible(), hidden
    for shown in ("h1#case-title", "dl.fields", "section.case-body", "section.timeline", "#citation-text",
                  "section.provenance"):
        assert page.locator(shown).first.is_visible(), shown
    # The timeline comes before the citation on paper.
    timeline_y = page.locator("section.timeline").bounding_box()["y"]
    assert timeline_y < page.locator("section.citation").bounding_box()["y"]
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    page.context.close()


def test_search_page_links_its_feed(browser, server):  # noqa: F811
    page, problems = new_page(browser)
    page.goto(server + "/?q=" + urllib.parse.quote("ガバメントクラウド") + "&department=" + urllib.parse.quote("戸籍住民課"))
    alternate = page.locator('head link[rel=alternate][type="application/atom+xml"]')
    assert alternate.count() == 1
    link = page.get_by_role("link", name="この検索を購読（Atom）")
    assert link.is_visible()
    href = link.get_attribute("href")
    assert href == alternate.get_attribute("href")
    assert href.startswith("/feed.atom?q=")
    response = page.request.get(server + href)
    assert response.status == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.body())
    total = int(page.locator(".result-count .total").get_attribute("data-total"))
    assert len(feed.entries) == min(total, 50) > 0
    assert "ガバメントクラウド" in feed.feed.title
    assert problems == []
    page.context.close()
