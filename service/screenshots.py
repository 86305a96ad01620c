"""Regenerate docs/screenshots/*.png: the results page, a case page and its print view in Debian's chromium.

    .venv/bin/python -m service.screenshots [--out docs/screenshots]

Uses the configured index (building it if missing, like `serve`). Japanese text needs a CJK font
installed for chromium (Debian: fonts-ipafont-gothic or fonts-noto-cjk); the page itself loads none.
"""
from __future__ import annotations

import argparse
import sys
import urllib.parse
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--hide-scrollbars", "--lang=ja-JP"]
QUERY = "ガバメントクラウド 再委託"
CASE_ID = "shinjuku-privacy-council-2023-003"
A4 = {"width": 794, "height": 1123}  # A4 at 96 dpi: what the print stylesheet lays out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from council_search.settings import get_settings
    from engine.loader import load_searcher
    from service.app import create_app
    from service.background import serve_in_thread

    args.out.mkdir(parents=True, exist_ok=True)
    app = create_app(load_searcher(get_settings()))
    with serve_in_thread(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        shots = [
            ("results.png", f"{base}/?q={urllib.parse.quote(QUERY)}&mode=hybrid", {"width": 1280, "height": 1000}, "screen"),
            ("case.png", f"{base}/cases/{CASE_ID}", {"width": 1280, "height": 1000}, "screen"),
            ("print.png", f"{base}/cases/{CASE_ID}", A4, "print"),
            ("phone.png", f"{base}/?q={urllib.parse.quote(QUERY)}", {"width": 390, "height": 844}, "screen"),
        ]
        for name, url, viewport, media in shots:
            context = browser.new_context(viewport=viewport, locale="ja-JP", device_scale_factor=1)
            page = context.new_page()
            page.emulate_media(media=media)
            page.goto(url)
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
