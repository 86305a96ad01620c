"""Matches vs related on the page, in a real browser (Debian's chromium): a topic no case is about
says so and shows related cases apart; 「ガバメントクラウド 再委託」 counts the 7 cases with both words;
synonym expansions can be switched off from the page."""
from __future__ import annotations

import urllib.parse

import pytest

from test_browser_search import browser, new_page, server, total  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.browser


def open_search(browser, server, query: str, **params: str):  # noqa: F811
    page, problems = new_page(browser)
    page.goto(server + "/?" + urllib.parse.urlencode({"q": query, **params}))
    return page, problems


def test_nothing_matches_a_chatbot_and_related_cases_stand_apart(browser, server):  # noqa: F811
    page, problems = open_search(browser, server, "チャットボット")
    heading = page.locator("h2#result-count")
    assert heading.inner_text().strip() == "「チャットボット」に一致する案件はありません"
    assert page.locator(".no-results").is_visible()
    assert page.locator("ol.hits").count() == 0                     # no match is listed
    assert page.locator(".total").count() == 0                      # and no count is shown
    related = page.locator("section.related")
    assert related.get_by_role("heading", name="関連する可能性のある案件").is_visible()
    assert 5 <= related.locator("article.hit").count() <= 8
    assert "件数・絞り込み・CSVには含みません" in related.locator(".related-note").inner_text()
    assert related.locator(".reason-near").first.inner_text().startswith("意味の近さ1位")
    # apart: the related section comes after the "nothing matches" message, below a rule
    no_results_box = page.locator(".no-results").bounding_box()
    related_box = related.bounding_box()
    assert related_box["y"] >= no_results_box["y"] + no_results_box["height"]
    assert related.evaluate("e => getComputedStyle(e).borderTopStyle") == "double"
    assert all(int(c) == 0 for c in page.locator(".facet .count").all_inner_texts()) or \
        page.locator(".facet .count").count() == 0
    assert problems == []
    page.context.close()


def test_gov_cloud_redelegation_counts_the_seven_cases_with_both_words(browser, server):  # noqa: F811
    page, problems = open_search(browser, server, "ガバメントクラウド 再委託")
    assert total(page) == 7
    matches = page.locator("ol.hits article.hit")
    assert matches.count() == 7
    numbers = {int(n) for n in page.locator("ol.hits .hit-meta div:first-child dd").all_inner_texts()}
    assert numbers == {12, 13, 14, 15, 31, 38, 40}
    for reasons in page.locator("ol.hits .match-reasons").all_inner_texts():
        assert "ガバメントクラウド" in reasons and "再委託" in reasons and "意味で一致" not in reasons
    # the department facet counts the same 7
    counts = [int(c.replace("件", "")) for c in page.locator('fieldset[data-facet="result"] .count').all_inner_texts()]
    assert sum(counts) == 7
    related = page.locator("section.related article.hit")
    assert related.count() >= 1
    related_numbers = {int(n) for n in page.locator("section.related .hit-meta div:first-child dd").all_inner_texts()}
    assert not related_numbers & numbers
    assert problems == []
    page.context.close()


def test_synonyms_are_shown_and_can_be_switched_off(browser, server):  # noqa: F811
    page, problems = open_search(browser, server, "監視カメラ", mode="keyword")
    assert total(page) == 1
    assert "監視カメラ → 防犯カメラ" in page.locator("#expansions").inner_text()
    assert "監視カメラ → 防犯カメラ（同義語）" in page.locator("ol.hits .match-reasons").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="同義語を使わずに検索").click()
    assert "synonyms=off" in page.url
    assert page.locator("h2#result-count").inner_text().strip() == "「監視カメラ」に一致する案件はありません"
    # the form keeps the choice, and the page offers the way back
    assert page.locator('input[name="synonyms"]').get_attribute("value") == "off"
    with page.expect_navigation():
        page.locator(".no-results").get_by_role("link", name="同義語も含めて検索").click()
    assert "synonyms=off" not in page.url and total(page) == 1
    assert problems == []
    page.context.close()


@pytest.mark.parametrize("query", ["チャットボット", "監視カメラ", "公園に防犯カメラを増設する"])
def test_axe_finds_no_violations_on_match_and_related_pages(browser, server, query):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe
    page, _ = open_search(browser, server, query)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
    assert violations == []
    page.context.close()
