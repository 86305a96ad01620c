"""The web page in a real browser (Debian's chromium through playwright) against a real uvicorn
server: search, tick a facet, open a case, see similar cases, go back; with and without JavaScript;
keyboard use and a phone-sized screen."""
from __future__ import annotations

import json
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request

import pytest

from service.app import create_app
from service.background import serve_in_thread

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("COUNCIL_SEARCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
QUERY = "ガバメントクラウド 再委託"


@pytest.fixture(scope="module")
def server(searcher):
    """The app served by a real uvicorn on a free port, in a background thread."""
    with serve_in_thread(create_app(searcher)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def new_page(browser, *, javascript=True, **options):
    context = browser.new_context(java_script_enabled=javascript, locale="ja-JP", **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def total(page) -> int:
    return int(page.locator(".result-count .total").get_attribute("data-total"))


def search_then_filter_then_case(page, base: str, *, javascript: bool) -> None:
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "ja"
    page.get_by_label("検索語").fill(QUERY)
    with page.expect_navigation():
        page.get_by_label("検索語").press("Enter")
    assert "q=" in page.url
    before = total(page)
    assert before > 0
    assert page.locator("ol.hits article.hit").count() == min(before, 20)
    assert page.locator("ol.hits article.hit mark").count() > 0  # highlighted matches

    # tick a department facet whose count is smaller than the current total
    boxes = page.locator('fieldset[data-facet="department"] input[type=checkbox]')
    counts = page.locator('fieldset[data-facet="department"] .count')
    chosen = next(i for i in range(boxes.count()) if int(re.sub(r"\D", "", counts.nth(i).inner_text())) < before)
    value = boxes.nth(chosen).get_attribute("value")
    expected = int(re.sub(r"\D", "", counts.nth(chosen).inner_text()))
    if javascript:  # the box applies itself
        with page.expect_navigation():
            boxes.nth(chosen).check()
    else:           # without JavaScript the visible button applies the form
        boxes.nth(chosen).check()
        apply = page.get_by_role("button", name="絞り込む")
        assert apply.is_visible()
        with page.expect_navigation():
            apply.click()
    assert "department=" + urllib.parse.quote(value) in page.url
    after = total(page)
    assert after == expected and after < before  # the count changed, to the facet's count
    assert page.locator(f'input[type=checkbox][value="{value}"]').first.is_checked()
    for departments in page.locator("ol.hits article.hit .hit-departments").all_inner_texts():
        assert value in departments
    results_url = page.url

    # open a case
    first = page.locator("a.hit-link").first
    title = first.inner_text().strip()
    with page.expect_navigation():
        first.click()
    assert "/cases/" in page.url
    assert page.locator("h1#case-title").inner_text().strip() == title
    similar = page.locator("section.similar a.hit-link")
    assert similar.count() >= 3  # 類似案件
    assert page.get_by_role("heading", name="類似案件").is_visible()
    attachment = page.locator("details.attachment")
    if attachment.count():
        assert not attachment.first.evaluate("d => d.open")
        attachment.locator("summary").click()
        assert attachment.first.evaluate("d => d.open")
    back = page.get_by_role("link", name="検索結果に戻る")
    assert back.get_attribute("href").startswith("/?")

    # and back: the same filtered results
    page.go_back()
    page.wait_for_url(results_url)
    assert total(page) == after
    assert page.locator(f'input[type=checkbox][value="{value}"]').first.is_checked()


def test_search_filter_open_case_and_back(browser, server):
    page, problems = new_page(browser)
    search_then_filter_then_case(page, server, javascript=True)
    assert page.evaluate("document.documentElement.classList.contains('js')")  # app.js ran under the CSP
    assert problems == []  # no CSP violations, no script errors
    page.context.close()


def test_works_without_javascript(browser, server):
    page, problems = new_page(browser, javascript=False)
    search_then_filter_then_case(page, server, javascript=False)
    page.context.close()


def test_similar_case_navigation_and_timeline(browser, server):
    page, problems = new_page(browser)
    page.goto(server + "/cases/shinjuku-privacy-council-2023-003")
    timeline = page.locator("section.timeline li")
    assert timeline.count() >= 4
    assert page.locator("section.timeline [aria-current=page]").count() == 1
    link = page.locator("section.similar a.hit-link").first
    href = link.get_attribute("href")
    with page.expect_navigation():
        link.click()
    assert page.url.endswith(href)
    page.go_back()
    assert page.url.endswith("/cases/shinjuku-privacy-council-2023-003")
    assert problems == []
    page.context.close()


def test_keyboard_only(browser, server):
    page, _ = new_page(browser)
    page.goto(server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("document.activeElement.textContent") == "本文へスキップ"
    page.keyboard.press("Tab")   # the site name
    page.keyboard.press("Tab")   # 下書きから類似案件を探す
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # visible focus
    page.keyboard.type("防犯カメラ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert total(page) >= 1
    # the mode radios and the sort select are reachable and operable from the keyboard
    page.locator("input[name=mode][value=keyword]").focus()
    page.keyboard.press("Space")
    assert page.locator("input[name=mode][value=keyword]").is_checked()
    page.context.close()


def test_phone_screen_has_no_sideways_scrolling(browser, server):
    page, _ = new_page(browser, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    for path in ("/?q=" + urllib.parse.quote(QUERY), "/cases/shinjuku-privacy-council-2023-003"):
        page.goto(server + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    # results first: the filter panel starts folded on a phone, and one tap opens it
    page.goto(server + "/?q=" + urllib.parse.quote(QUERY))
    panel = page.locator("#facet-panel")
    assert not panel.evaluate("d => d.open")
    page.locator("#facet-panel > summary").tap()
    assert panel.evaluate("d => d.open")
    assert page.locator('fieldset[data-facet="department"] input[type=checkbox]').first.is_visible()
    page.context.close()


def test_real_server_refuses_a_10000_character_query_with_json(server):
    q = urllib.parse.quote("あ" * 10_000)  # ~90 KB of URL
    try:
        urllib.request.urlopen(f"{server}/api/search?q={q}", timeout=30)
        raise AssertionError("expected HTTP 400")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400
        assert json.loads(exc.read())["error"]["code"] == "query_too_long"


@pytest.mark.parametrize("path", [
    "/", "/?q=%E5%86%8D%E5%A7%94%E8%A8%97&department=%E6%88%B8%E7%B1%8D%E4%BD%8F%E6%B0%91%E8%AA%B2",
    "/cases/shinjuku-privacy-council-2023-003", "/docs", "/?mode=bad", "/no-such-page",
    "/precedents", "/compare?a=shinjuku-privacy-council-2023-003&b=shinjuku-privacy-council-2023-031",
    "/?q=%E5%A7%94%E8%A8%97",
])
def test_axe_finds_no_accessibility_violations(browser, server, path):
    """axe-core (shipped inside the axe-playwright-python wheel) audits the rendered page: WCAG 2.1
    A/AA rules plus axe's best practices."""
    from axe_playwright_python.sync_playwright import Axe
    page, _ = new_page(browser)
    page.goto(server + path)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    assert len(results.response["passes"]) > 20  # it really ran
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
    assert violations == []
    page.context.close()
