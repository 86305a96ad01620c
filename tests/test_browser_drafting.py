"""The drafting features in a real browser (Debian's chromium through playwright, real uvicorn):
precedents from a draft (with and without JavaScript), the comparison of №3 with №31 reached from
the timeline, the search-box suggestions used with the keyboard only, a click on a chart bar, and
the axe audit of each."""
from __future__ import annotations

import json
import re
import urllib.parse

import pytest

from test_browser_search import browser, new_page, server, total  # noqa: F401  (fixtures and helpers)

pytestmark = pytest.mark.browser

CASE = "shinjuku-privacy-council-2023-{:03d}"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def body_of(built_index, number: int) -> str:
    for path in built_index.records_dir.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["number"] == number:
                return record["body"]
    raise AssertionError(number)


def axe_violations(page) -> list:
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert len(results.response["passes"]) > 20  # it really ran
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]


@pytest.mark.parametrize("javascript", [True, False])
def test_precedents_from_a_draft(browser, server, built_index, javascript):
    page, problems = new_page(browser, javascript=javascript)
    page.goto(server + "/")
    with page.expect_navigation():
        page.get_by_role("link", name="下書きから類似案件を探す").click()
    assert page.get_by_role("heading", name="下書きから類似案件を探す").is_visible()
    page.get_by_label("下書きの文章").fill(body_of(built_index, 38))
    page.get_by_label("承認された案件だけ").check()
    with page.expect_navigation():
        page.get_by_role("button", name="類似案件を探す").click()
    assert page.url.endswith("/precedents")
    assert int(page.locator("#precedent-count .total").get_attribute("data-total")) == 10
    numbers = [int(n) for n in page.locator(".precedents-list .hit-meta div:first-child dd").all_inner_texts()]
    # №38 itself is in the index: it comes first, then its lineage (№4, №13)
    assert numbers[0] == 38 and {4, 13} <= set(numbers[:4])
    second = page.locator(".precedents-list > li").nth(1)
    assert not second.locator("table.pair-table").is_visible()     # folded: opens on request
    second.locator("details.pairs > summary").click()
    assert second.locator("table.pair-table").is_visible()
    first_pairs = page.locator(".precedents-list > li").first.locator("table.pair-table")
    assert first_pairs.is_visible()                       # the first case's pairs start open
    assert first_pairs.locator("td mark").count() > 10    # shared words marked on both sides
    assert page.get_by_label("下書きの文章").input_value().startswith("１ 概要")   # the draft stays in the form
    assert page.get_by_label("承認された案件だけ").is_checked()
    if javascript:
        assert problems == []
        assert axe_violations(page) == []
    page.context.close()


def test_compare_3_with_31_from_the_timeline(browser, server):
    page, problems = new_page(browser)
    page.goto(server + "/cases/" + CASE.format(3))
    link = page.locator("section.timeline li", has_text="№31").get_by_role("link", name=re.compile("^比較"))
    with page.expect_navigation():
        link.click()
    assert "/compare?" in page.url
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query == {"a": [CASE.format(3)], "b": [CASE.format(31)]}
    assert page.get_by_role("heading", name="案件の比較").is_visible()
    title_row = page.get_by_role("row", name=re.compile("^件名"))
    assert title_row.locator("ins").first.inner_text() == "（委託内容の変更）"
    body_row = page.get_by_role("row", name=re.compile("^事業内容"))
    assert body_row.locator("ins").count() > 0 and body_row.locator("del").count() > 0
    # not colour alone: insertions are underlined, deletions struck through
    assert "underline" in title_row.locator("ins").first.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in body_row.locator("del").first.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert problems == []
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="A と B を入れ替える").click()
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["a"] == [CASE.format(31)]
    page.context.close()


def test_suggestions_with_the_keyboard_only(browser, server):
    page, problems = new_page(browser)
    page.goto(server + "/")
    for _ in range(8):   # Tab through the header to the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "false"
    page.keyboard.type("がばめ")
    options = page.get_by_role("option")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert options.first.inner_text().startswith("ガバメントクラウド")
    assert axe_violations(page) == []                      # with the list open
    page.keyboard.press("ArrowDown")
    active = box.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    page.keyboard.press("Enter")                           # takes the suggestion
    assert box.input_value() == "ガバメントクラウド"
    assert box.get_attribute("aria-expanded") == "false"
    page.keyboard.type(" 富士")                            # only the last word is completed
    page.get_by_role("option", name=re.compile("^富士通株式会社")).wait_for()
    page.keyboard.press("Escape")                          # closes the list, keeps the text
    assert box.get_attribute("aria-expanded") == "false"
    assert box.input_value() == "ガバメントクラウド 富士"
    for _ in range(3):
        page.keyboard.press("Backspace")
    with page.expect_navigation():
        page.keyboard.press("Enter")                       # the next Enter searches
    assert urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["q"] == ["ガバメントクラウド"]
    assert total(page) > 0
    assert problems == []
    page.context.close()


def test_click_on_a_chart_bar(browser, server):
    page, problems = new_page(browser)
    page.goto(server + "/?mode=keyword&q=" + urllib.parse.quote("委託"))
    before = total(page)
    bars = page.locator("svg.chart a.chart-bar")
    assert bars.count() >= 2
    label = bars.nth(1).get_attribute("aria-label")          # e.g. 令和5年9月 8件
    expected = int(re.search(r"(\d+)件", label).group(1))
    assert page.locator("figure.timeline-chart table caption").count() == 1   # the text alternative
    with page.expect_navigation():
        bars.nth(1).click()
    month = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)["meeting_month"]
    assert len(month) == 1 and re.fullmatch(r"\d{4}-\d{2}", month[0])
    assert total(page) == expected < before
    assert page.locator(f'input[name=meeting_month][value="{month[0]}"]').first.is_checked()
    assert page.locator("svg.chart a.chart-bar.selected").count() == 1
    assert problems == []
    assert axe_violations(page) == []
    page.context.close()
