"""The Atom feed (RFC 4287) of a search: the newest matching cases, for feed readers.

* Entries are the search's matches, newest meeting first, at most MAX_ENTRIES.
* Entry id: a tag URI (RFC 4151) of the case's permalink, dated by the day the case entered the
  corpus, so it never changes for a case; `published` is the meeting date (JST), `updated` the time
  the case entered the corpus (`first_seen`); the feed's `updated` is the newest entry's.
* The document holds nothing that changes when the index is merely rebuilt (no build time, no
  score), so unchanged data gives identical bytes and the same ETag (a 304 for pollers).
* All text is escaped by the XML serializer; characters XML 1.0 cannot carry are dropped; the
  summary is HTML in which only the highlighter's matches survive as markup (<strong>).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from markupsafe import escape

from contract.backend import FACETS
from engine.api_models import Hit
from engine.api_params import SearchParams
from service.rendering import FACET_LABELS, facet_value_label, highlight, jdate

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
MAX_ENTRIES = 50
JST = dt.timezone(dt.timedelta(hours=9), "JST")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: Any) -> str:
    """Text that XML 1.0 can carry (control characters and lone surrogates dropped)."""
    return _NOT_XML.sub("", str(text))


def describe(params: SearchParams) -> str:
    """「ガバメントクラウド」・担当課: 戸籍住民課・付議日: 2023-04-01〜 (for titles)."""
    parts = [f"「{params.q}」"] if params.q else []
    for name in FACETS:
        values = params.filters.get(name, ())
        if values:
            parts.append(f"{FACET_LABELS[name]}: " + "、".join(facet_value_label(name, v) for v in values))
    if params.date_from or params.date_to:
        parts.append(f"付議日: {jdate(params.date_from)}〜{jdate(params.date_to)}")
    return "・".join(parts) if parts else "すべての案件"


def tag_uri(site: str, case_path: str, day: dt.date) -> str:
    """tag:search.example.jp,2026-12-01:/cases/… (RFC 4151: authority name + a date it was held)."""
    authority = urlsplit(site).hostname or "localhost"
    return f"tag:{authority},{day.isoformat()}:{case_path}"


def rfc3339(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Entry:
    hit: Hit
    record: dict[str, Any]
    updated: dt.datetime        # first_seen, or the index build time for records that lack it
    tag_day: dt.date            # the tag URI's date: first_seen's day, else the meeting date (never the build's)


def entries_of(hits: list[Hit], records: dict[str, dict[str, Any]], fallback: dt.datetime) -> list[Entry]:
    out = []
    for hit in hits[:MAX_ENTRIES]:
        record = records.get(hit.id)
        if record is None:
            continue
        seen = record.get("first_seen")
        first_seen = dt.datetime.fromisoformat(seen) if isinstance(seen, str) else None
        if first_seen is not None and first_seen.tzinfo is None:
            first_seen = first_seen.replace(tzinfo=dt.timezone.utc)
        out.append(Entry(hit, record, first_seen or fallback,
                         first_seen.date() if first_seen else hit.meeting_date))
    return out


def _summary(entry: Entry) -> str:
    hit, record = entry.hit, entry.record
    facts = [
        f"{escape(record.get('municipality', ''))} {escape(record.get('council', ''))} "
        f"{escape(record.get('fiscal_year_label', ''))} №{hit.number}",
        f"付議日: {escape(jdate(hit.meeting_date))}・審議結果: {escape(hit.result)}",
        f"担当課: {escape('、'.join(hit.departments))}",
    ]
    source = record.get("source") or {}
    if source.get("report_title"):
        report_date = f"、{escape(jdate(record['report_date']))}" if record.get("report_date") else ""
        facts.append(f"出典: {escape(source['report_title'])}（{escape(source.get('publisher', ''))}{report_date}）")
    html = "<p>" + "<br>".join(facts) + "</p>"
    # Feed readers' sanitizers drop <mark> (feedparser does): the matches are <strong> here. Safe to
    # rewrite as text: after highlight() the only markup left is <mark>…</mark>.
    for snippet in hit.highlights.snippets:
        html += "<p>" + str(highlight(snippet)).replace("<mark>", "<strong>").replace("</mark>", "</strong>") + "</p>"
    return html


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k.rstrip("_"): clean(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean(text)
    return el


def render_feed(*, params: SearchParams, entries: list[Entry], site: str, empty_updated: dt.datetime) -> bytes:
    """The Atom document. `site` is the public base URL; `empty_updated` is the feed's `updated`
    when there is no entry (the index build time)."""
    self_url = site + params.feed_url()
    page_qs = urlencode(params.result_set_items() + [("sort", "newest")])
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "ja"})
    _sub(feed, "id", self_url)
    _sub(feed, "title", f"{describe(params)}の審議案件 | 審議案件検索")
    _sub(feed, "subtitle", f"この検索に一致する案件（付議日の新しい順、最大{MAX_ENTRIES}件）")
    _sub(feed, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=f"{site}/?{page_qs}")
    updated = max((e.updated for e in entries), default=empty_updated)
    _sub(feed, "updated", rfc3339(updated))
    author = _sub(feed, "author")
    _sub(author, "name", "審議案件検索")
    _sub(author, "uri", site + "/")
    _sub(feed, "generator", "council-search", uri=site + "/docs")
    for entry in entries:
        hit, record = entry.hit, entry.record
        el = _sub(feed, "entry")
        case_url = site + hit.url
        _sub(el, "id", tag_uri(site, hit.url, entry.tag_day))
        _sub(el, "title", f"№{hit.number} {hit.title}")
        _sub(el, "link", rel="alternate", type="text/html", href=case_url)
        _sub(el, "published", rfc3339(dt.datetime.combine(hit.meeting_date, dt.time(), JST)))
        _sub(el, "updated", rfc3339(entry.updated))
        entry_author = _sub(el, "author")
        _sub(entry_author, "name", f"{record.get('municipality', '')} {record.get('council', '')}".strip())
        for facet, values in (("department", hit.departments), ("category", hit.categories)):
            for value in values:
                _sub(el, "category", term=value, label=f"{FACET_LABELS[facet]}: {value}",
                     scheme=f"{site}/api/facets#{facet}")
        _sub(el, "summary", _summary(entry), type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def etag_of(body: bytes) -> str:
    # Weak: the same document may be sent gzipped or not (GZipMiddleware).
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
