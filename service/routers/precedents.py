"""Precedents from a draft: `POST /api/precedents` (JSON in, JSON out) and the page
「下書きから類似案件を探す」 (`/precedents`: a plain POST form, so it works without JavaScript).

Both are read-only, so they need no token; the API takes JSON only (a cross-site form cannot send
it), and the page's form posts to this origin only (CSP form-action 'self')."""
from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response

from engine.api_models import PrecedentsResponse
from engine.api_params import MAX_DRAFT_CHARS, ParamError, PrecedentsRequest
from engine.searcher import DraftTooLong
from service.deps import get_searcher
from service.errors import error_responses
from service.rendering import render

router = APIRouter(tags=["precedents"])

# The page's form body: a 20,000-character draft is ~180 KB percent-encoded; anything much larger
# is refused before it is parsed.
MAX_FORM_BYTES = 400_000
PAGE_SIZE = 10
APPROVED = "承認"


def _run(request: Request, body: PrecedentsRequest) -> PrecedentsResponse:
    if len(body.text) > MAX_DRAFT_CHARS:   # checked before anything else is validated or embedded
        raise DraftTooLong("draft_too_long", f"text must be at most {MAX_DRAFT_CHARS:,} characters")
    return get_searcher(request).precedents(body.text, body.to_filters(), body.size, body.exclude)


@router.post("/api/precedents", response_model=PrecedentsResponse, responses=error_responses(400, 413, 415, 503),
             summary="Cases most like a draft, each with the draft's passages aligned to the case's")
def precedents_api(request: Request, body: Annotated[PrecedentsRequest, Body()]) -> PrecedentsResponse:
    return _run(request, body)


@router.get("/precedents", response_class=HTMLResponse, include_in_schema=False)
def precedents_form(request: Request) -> Response:
    return render(request, "precedents.html", {"text": "", "approved_only": False, "response": None,
                                               "max_chars": MAX_DRAFT_CHARS})


@router.post("/precedents", response_class=HTMLResponse, include_in_schema=False)
async def precedents_page(request: Request) -> Response:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise DraftTooLong("draft_too_long", f"text must be at most {MAX_DRAFT_CHARS:,} characters")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise DraftTooLong("draft_too_long", f"text must be at most {MAX_DRAFT_CHARS:,} characters")
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise ParamError("invalid_form", "the form could not be read") from None
    text = (form.get("text") or [""])[0].replace("\r\n", "\n")
    approved_only = APPROVED in form.get("result", [])
    context: dict[str, Any] = {"text": text, "approved_only": approved_only, "response": None,
                               "max_chars": MAX_DRAFT_CHARS}
    if not text.strip():
        context["problem"] = "下書きの文章を入力してください。"
        return render(request, "precedents.html", context, status_code=400)
    body = PrecedentsRequest(text=text, result=(APPROVED,) if approved_only else (), size=PAGE_SIZE)
    context["response"] = await run_in_threadpool(_run, request, body)
    return render(request, "precedents.html", context)
