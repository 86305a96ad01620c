"""Jinja2 set-up for the Japanese pages: autoescaping everywhere, Japanese labels and dates, URL
helpers that keep the whole search state in the query string, and the one filter allowed to emit
markup (`highlight`: only <mark> survives)."""
from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import Response

from service.freshness import index_built_at

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

FACET_LABELS = {
    "department": "担当課",
    "category": "区分",
    "meeting_month": "付議月",
    "result": "審議結果",
    "fiscal_year": "年度",
    "municipality": "自治体",
}
MODE_LABELS = {"hybrid": "ハイブリッド（おすすめ）", "keyword": "キーワード", "semantic": "意味検索"}
MODE_HELP = {
    "hybrid": "キーワードと意味の両方で順位付け",
    "keyword": "入力した語をすべて含む案件",
    "semantic": "言い回しが違っても内容の近い案件",
}
SORT_LABELS = {"relevance": "関連度順", "newest": "付議日の新しい順", "oldest": "付議日の古い順"}
EXAMPLE_QUERY = "ガバメントクラウド 再委託"
FACET_VISIBLE = 8  # longer facet lists fold the rest into <details> (works without JavaScript)

_MARK_SPLIT = re.compile(r"(</?mark>)")
_NEEDS_REESCAPE = re.compile("[&<>\"']")


def highlight(text: str | None) -> Markup:
    """Highlights arrive HTML-escaped with <mark> around matches. Trust nothing else: every segment
    between <mark> tags is unescaped once and escaped again (so correct input is unchanged and any
    stray markup is neutralised), and only bare <mark>/</mark> tags are emitted."""
    if not text:
        return Markup("")
    out: list[str] = []
    depth = 0
    for part in _MARK_SPLIT.split(text):
        if part == "<mark>":
            if depth == 0:
                out.append(part)
            depth += 1
        elif part == "</mark>":
            if depth == 1:
                out.append(part)
            depth = max(0, depth - 1)
        elif part:
            # unescape-then-escape changes nothing in a part without & < > " ' (most Japanese text)
            out.append(str(escape(html.unescape(part))) if _NEEDS_REESCAPE.search(part) else part)
    if depth:
        out.append("</mark>")
    return Markup("".join(out))


_ERAS = ((dt.date(2019, 5, 1), "令和", 2018), (dt.date(1989, 1, 8), "平成", 1988), (dt.date(1926, 12, 25), "昭和", 1925))


def wareki_year(year: int, date: dt.date | None = None) -> str:
    d = date or dt.date(year, 12, 31)
    for start, name, offset in _ERAS:
        if d >= start:
            n = year - offset
            return f"{name}{'元' if n == 1 else n}年"
    return f"{year}年"


def jdate(value: dt.date | str | None) -> str:
    """2023-07-28 → 令和5年7月28日 (the way the reports and their readers write dates)."""
    if not value:
        return ""
    d = dt.date.fromisoformat(value) if isinstance(value, str) else value
    return f"{wareki_year(d.year, d)}{d.month}月{d.day}日"


JST = dt.timezone(dt.timedelta(hours=9), "JST")


def jdatetime(value: dt.datetime | str | None) -> str:
    """A UTC time in Japan time, as readers here read it: 2026-12-01T14:06:02Z → 令和8年12月1日 23:06."""
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    t = t.astimezone(JST)
    return f"{jdate(t.date())} {t:%H:%M}"


def facet_value_label(facet: str, value: str) -> str:
    """2023-09 → 令和5年9月, 2023 → 令和5年度; anything else (also a selected value that is no
    date, e.g. fiscal_year=0 typed into a URL) as it is."""
    try:
        if facet == "meeting_month" and re.fullmatch(r"\d{4}-\d{2}", value):
            y, m = int(value[:4]), int(value[5:])
            return f"{wareki_year(y, dt.date(y, m, 1))}{m}月"
        if facet == "fiscal_year" and re.fullmatch(r"\d{4}", value):
            return f"{wareki_year(int(value), dt.date(int(value), 4, 1))}度"
    except ValueError:   # month 13, year 0
        pass
    return value


def paragraphs(text: str | None) -> list[str]:
    """Body text keeps its paragraphs as \\n-separated lines (line-end breaks already joined by ingest)."""
    return [p.strip() for p in (text or "").split("\n") if p.strip()]


_CODE_SPAN = re.compile(r"`([^`]+)`")


def doc_blocks(text: str | None) -> list[tuple[str, Markup]]:
    """The small Markdown subset of OpenAPI descriptions, for /docs: paragraphs, `* ` bullet items
    (continuation lines joined) and `code` spans. Text is escaped before code spans become markup."""
    blocks: list[tuple[str, list[str]]] = []
    for line in (text or "").splitlines():
        stripped = line.strip()
        if not stripped:
            blocks.append(("", []))
        elif stripped.startswith(("* ", "- ")):
            blocks.append(("li", [stripped[2:]]))
        elif blocks and blocks[-1][0] and line.startswith((" ", "\t")) or (blocks and blocks[-1][0] == "p"):
            blocks[-1][1].append(stripped)
        else:
            blocks.append(("p", [stripped]))
    out = []
    for kind, lines in blocks:
        if kind:
            html_text = _CODE_SPAN.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(" ".join(lines))))
            out.append((kind, Markup(html_text)))
    return out


def query_url(request: Request, path: str | None = None, **changes: Any) -> str:
    """The current URL with some parameters replaced (None removes one; a list repeats it)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items.extend((key, str(v)) for v in value)
        else:
            items.append((key, str(value)))
    qs = urlencode(items)
    return (path if path is not None else request.url.path) + (f"?{qs}" if qs else "")


def compare_url(a: str, b: str) -> str:
    """The comparison page of two cases (a = the earlier or the one being read, b = the other)."""
    return "/compare?" + urlencode({"a": a, "b": b})


def diff_html(segments: Iterable[Any]) -> Markup:
    """One side of a word diff (analyzers.diff.Segment) as HTML: text escaped, deleted words in
    <del>, inserted in <ins>, line breaks kept. The stylesheet marks <del>/<ins> by more than colour
    (strike-through, underline) and announces them to screen readers (削除/追加)."""
    out: list[str] = []
    for seg in segments:
        text = str(escape(seg.text)).replace("\n", "<br>")
        if seg.op == "delete":
            out.append(f"<del>{text}</del>")
        elif seg.op == "insert":
            out.append(f"<ins>{text}</ins>")
        else:
            out.append(text)
    return Markup("".join(out))


def page_numbers(page: int, last: int, window: int = 2) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20 (None = gap)."""
    shown = sorted({1, last, *range(max(1, page - window), min(last, page + window) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


CHRONOLOGICAL_FACETS = ("meeting_month", "fiscal_year")


def split_facet(facet: str, values: Iterable[Any], visible: int = FACET_VISIBLE) -> tuple[list[Any], list[Any]]:
    """Selected values and the first values stay visible; the rest folds away. Months and years read
    newest first; other facets keep the engine's order (largest count first)."""
    values = list(values)
    if facet in CHRONOLOGICAL_FACETS:
        values.sort(key=lambda v: v.value, reverse=True)
    head = [v for v in values[:visible]]
    tail = [v for v in values[visible:] if not v.selected]
    head += [v for v in values[visible:] if v.selected]
    return head, tail


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(highlight=highlight, diff_html=diff_html, jdate=jdate, jdatetime=jdatetime,
                             paragraphs=paragraphs, doc_blocks=doc_blocks)
templates.env.globals.update(
    FACET_LABELS=FACET_LABELS, MODE_LABELS=MODE_LABELS, MODE_HELP=MODE_HELP, SORT_LABELS=SORT_LABELS,
    EXAMPLE_QUERY=EXAMPLE_QUERY, facet_value_label=facet_value_label, query_url=query_url,
    page_numbers=page_numbers, compare_url=compare_url, split_facet=split_facet, wareki_year=wareki_year,
)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    # the footer's 「最終更新」; never loads an index for it
    context = {"built_at": index_built_at(request, load=False), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


ERROR_TITLES = {
    400: "検索条件を確認してください",
    401: "認証が必要です",
    403: "この操作はできません",
    404: "ページが見つかりません",
    405: "この方法ではアクセスできません",
    429: "アクセスが集中しています",
    503: "検索サービスを一時的に利用できません",
}


# The page says what happened in Japanese; the API's English message (a stable contract) is shown
# under it as the technical detail for bad input, and not at all for server-side conditions.
ERROR_MESSAGES_JA = {
    "backend_unavailable": "検索サービスに接続できません。しばらくしてから、もう一度お試しください。",
    "busy": "ただいま混み合っています。しばらくしてから、もう一度お試しください。",
    "rate_limited": "短い間に多くの操作がありました。しばらくしてから、もう一度お試しください。",
    "internal_error": "サーバーでエラーが発生しました。しばらくしてから、もう一度お試しください。",
    "not_found": "お探しのページまたは案件は見つかりませんでした。",
    "invalid_encoding": "URL の文字を読み取れませんでした（UTF-8 でない文字、または NUL 文字が含まれています）。",
    "invalid_date": "日付は YYYY-MM-DD の形で、1900-01-01 から 2199-12-31 までの日付を指定してください。",
    "invalid_date_range": "開始日が終了日より後になっています。",
    "query_too_long": "検索語が長すぎます。",
}


def render_error(request: Request, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> Response:
    q = request.query_params.get("q", "")
    message_ja = ERROR_MESSAGES_JA.get(code)
    return render(request, "error.html", {
        "status": status, "code": code, "message": message_ja or message, "q": q[:200],
        "detail": message if message_ja and status < 500 else None,
        "title": ERROR_TITLES.get(status, "エラーが発生しました"),
    }, status_code=status, headers=headers)
