"""Regenerate docs/screenshots/*.png in Debian's chromium: the results page (with its month chart), a
search nothing matches (related cases apart), a case page and its print view, the comparison of two
cases, precedents from a draft and the search-box suggestions.

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]

Uses the configured index (building it if missing, like `serve`). Japanese text needs a CJK font
installed for chromium (Debian: fonts-ipafont-gothic or fonts-noto-cjk); the page itself loads none.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.parse
from pathlib import Path

from playwright.sync_api import sync_playwright

from council_search.settings import get_settings
from engine.loader import load_searcher
from indexer.build import ensure_index
from service.app import create_app
from service.background import serve_in_thread

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--hide-scrollbars", "--lang=ja-JP"]
QUERY = "ガバメントクラウド 再委託"
NO_MATCH_QUERY = "チャットボット"      # no case is about it: "nothing matches", then related cases
CASE_ID = "shinjuku-privacy-council-2023-003"
A4 = {"width": 794, "height": 1123}  # A4 at 96 dpi: what the print stylesheet lays out
LATER_CASE_ID = "shinjuku-privacy-council-2023-031"
DRAFT_CASE_NUMBER = 38    # its 事業内容 is pasted as the draft


def _paste_draft(page, records_dir: Path) -> None:
    for path in sorted(records_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["number"] == DRAFT_CASE_NUMBER:
                page.get_by_label("下書きの文章").fill(record["body"])
    page.get_by_label("承認された案件だけ").check()
    with page.expect_navigation():
        page.get_by_role("button", name="類似案件を探す").click()


def _type_suggestion(page, records_dir: Path) -> None:
    page.locator("#q").click()
    page.keyboard.type("がばめ")
    page.get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    settings = get_settings()
    ensure_index(settings)
    app = create_app(load_searcher(settings))
    with serve_in_thread(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        wide = {"width": 1280, "height": 1000}
        shots = [
            ("results.png", f"{base}/?q={urllib.parse.quote(QUERY)}&mode=hybrid", wide, "screen", None),
            ("chart.png", f"{base}/?q={urllib.parse.quote('委託')}&mode=keyword", {"width": 1280, "height": 700}, "screen", None),
            ("no-match.png", f"{base}/?q={urllib.parse.quote(NO_MATCH_QUERY)}", wide, "screen", None),
            ("case.png", f"{base}/cases/{CASE_ID}", wide, "screen", None),
            ("print.png", f"{base}/cases/{CASE_ID}", A4, "print", None),
            ("compare.png", f"{base}/compare?a={CASE_ID}&b={LATER_CASE_ID}", {"width": 1280, "height": 1400}, "screen", None),
            ("precedents.png", f"{base}/precedents", {"width": 1280, "height": 1400}, "screen", _paste_draft),
            ("suggest.png", f"{base}/", {"width": 1280, "height": 600}, "screen", _type_suggestion),
            ("phone.png", f"{base}/?q={urllib.parse.quote(QUERY)}", {"width": 390, "height": 844}, "screen", None),
        ]
        for name, url, viewport, media, action in shots:
            context = browser.new_context(viewport=viewport, locale="ja-JP", device_scale_factor=1)
            page = context.new_page()
            page.emulate_media(media=media)
            page.goto(url)
            if action is not None:
                action(page, get_settings().records_dir)
            if media == "print":
                # The whole printout at A4 width, with the @page margins a screenshot does not apply
                # by itself (sheet breaks are not drawn).
                page.evaluate("document.body.style.padding = '15mm 14mm'")  # CSSOM: allowed by the CSP
            page.screenshot(path=str(args.out / name), full_page=(media == "print"))
            context.close()
            print(f"wrote {args.out / name}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
