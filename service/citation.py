"""How a case is cited: one plain-text line in the form council staff write (body, fiscal year, №,
title in 「」, meeting date, result, permalink), and the same facts as CSL-JSON for reference
managers (Zotero, citeproc). The case page, the citation endpoint and the print view all use this."""
from __future__ import annotations

from enum import Enum
from typing import Any

from ingest.models import CaseRecord
from service.rendering import jdate

CSL_MEDIA_TYPE = "application/vnd.citationstyles.csl+json"


class CitationFormat(str, Enum):
    text = "text"
    csl_json = "csl-json"


def body_name(case: CaseRecord) -> str:
    """The deliberating body as staff name it: 新宿区 個人情報保護管理運営会議."""
    return f"{case.municipality} {case.council}".strip()


def citation_parts(case: CaseRecord, permalink: str) -> tuple[str, str, str]:
    """(before the title, the title, after it): the page marks the title up with <cite>."""
    return (f"{body_name(case)} {case.fiscal_year_label} №{case.number}「", case.title,
            f"」（{jdate(case.meeting_date)}付議、{case.result}） {permalink}")


def citation_text(case: CaseRecord, permalink: str) -> str:
    """新宿区 個人情報保護管理運営会議 令和5年度 №31「…について」（令和5年12月21日付議、承認） https://…"""
    return "".join(citation_parts(case, permalink))


def citation_csl(case: CaseRecord, permalink: str) -> dict[str, Any]:
    """One CSL-JSON item (CSL 1.0.2 variables). `issued` is the meeting date; the report the case was
    published in is the collection, its issuing body the publisher."""
    d = case.meeting_date
    item: dict[str, Any] = {
        "id": case.id,
        "type": "report",
        "genre": "審議案件",
        "title": case.title,
        "author": [{"literal": body_name(case)}],
        "number": f"№{case.number}",
        "issued": {"date-parts": [[d.year, d.month, d.day]]},
        "publisher": case.source.publisher or case.municipality,
        "publisher-place": case.municipality,
        "URL": permalink,
        "language": "ja",
        "note": f"{case.fiscal_year_label}、{jdate(d)}付議、審議結果: {case.result}",
    }
    if case.source.report_title:
        item["collection-title"] = case.source.report_title
    if case.report_date:
        r = case.report_date
        item["available-date"] = {"date-parts": [[r.year, r.month, r.day]]}
    return item


def negotiate(accept: str) -> CitationFormat:
    """The format an Accept header asks for: CSL-JSON for the CSL media type or application/json,
    plain text otherwise (also for */* and no header). Highest q wins; ties go to the first listed."""
    best: tuple[float, int, CitationFormat] | None = None
    for position, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        if media in (CSL_MEDIA_TYPE, "application/json"):
            fmt = CitationFormat.csl_json
        elif media in ("text/plain", "text/*"):
            fmt = CitationFormat.text
        else:
            continue
        if q > 0 and (best is None or q > best[0]):
            best = (q, position, fmt)
    return best[2] if best else CitationFormat.text
