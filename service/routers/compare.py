"""`/compare?a=…&b=…`: two cases side by side, field by field, with a word-level diff (a page;
works without JavaScript). What changed between an approval and its 委託内容の変更 is the point."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from analyzers.diff import WordDiff, word_diff
from engine.api_models import CaseDetail
from service.deps import get_searcher
from service.rendering import compare_url, jdate, render

router = APIRouter(include_in_schema=False)

CaseIdParam = Annotated[str, Query(min_length=1, max_length=200, description="Case id, e.g. shinjuku-privacy-council-2023-003")]


@dataclass(frozen=True)
class FieldDiff:
    label: str
    diff: WordDiff
    long: bool = False      # long fields (事業内容, 別紙) fold when unchanged


def _lines(values: list[str]) -> str:
    return "\n".join(values)


# (label, how to read the field as text, long?) in the order of the case page.
FIELDS: tuple[tuple[str, Callable[[CaseDetail], str], bool], ...] = (
    ("件名", lambda c: c.title, False),
    ("付議日", lambda c: jdate(c.meeting_date), False),
    ("審議結果", lambda c: c.result, False),
    ("担当課", lambda c: "、".join(c.departments), False),
    ("区分", lambda c: "、".join(c.categories), False),
    ("事業名", lambda c: c.project_name, False),
    ("目的", lambda c: c.purpose, False),
    ("対象者", lambda c: c.subjects, False),
    ("委託先等", lambda c: _lines(c.contractors), False),
    ("過去の承認", lambda c: _lines(c.prior_approvals), False),
    ("事業内容", lambda c: c.body, True),
    ("別紙", lambda c: c.attachment, True),
)


def compare_fields(a: CaseDetail, b: CaseDetail) -> list[FieldDiff]:
    out = []
    for label, read, long in FIELDS:
        text_a, text_b = read(a), read(b)
        if text_a or text_b:
            out.append(FieldDiff(label, word_diff(text_a, text_b), long))
    return out


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, a: CaseIdParam, b: CaseIdParam) -> Response:
    searcher = get_searcher(request)
    case_a, case_b = searcher.case(a), searcher.case(b)   # 404 page for an unknown id
    fields = compare_fields(case_a, case_b)
    context: dict[str, Any] = {
        "a": case_a, "b": case_b, "fields": fields,
        "changed": sum(1 for f in fields if not f.diff.same),
        "swap_url": compare_url(b, a),
    }
    return render(request, "compare.html", context)
