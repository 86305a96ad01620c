"""The Japanese web pages: the search page (`/`, a GET form, so the URL is the whole state) and the
case page (`/cases/{id}`). Server-rendered; JavaScript only adds conveniences."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from contract.backend import FACETS, Filters
from engine.api_params import SearchParams
from service.citation import citation_parts
from service.deps import get_searcher, search_params
from service.rendering import query_url, render
from service.timeline_chart import build_chart
from service.urls import absolute, case_path

router = APIRouter(include_in_schema=False)

SIMILAR_ON_PAGE = 8


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, params: Annotated[SearchParams, Depends(search_params)]) -> Response:
    searcher = get_searcher(request)
    response = searcher.search(params, related_snippets=False)   # the page lists related cases by title
    last_page = max(1, -(-response.total // response.size))
    if response.total and params.page > last_page:
        # Past the end (a stale bookmark): show the last page rather than an empty one.
        return RedirectResponse(_with_page(request, last_page), status_code=303)
    return render(request, "search.html", {
        "params": params, "response": response, "last_page": last_page,
        "facet_order": FACETS, "has_filters": not params.to_filters().is_empty,
        "chart": build_chart(response.facets.get("meeting_month", []), response.facets.get("fiscal_year", [])),
        "api_url": _with_path(request, "/api/search"), "csv_url": _with_path(request, "/api/search.csv", drop=("page", "size")),
        "feed_url": params.feed_url(),
        "spelling_hints": _spelling_hints(request, searcher, params) if params.q and not response.total else [],
    })


def _spelling_hints(request: Request, searcher, params: SearchParams) -> list[tuple[str, str]]:
    """Nothing matches: corpus words that a query word begins in another script or width
    (がばめんとくらうど → ガバメントクラウド), from the search box's suggestion vocabulary, each with
    the link that searches with it instead."""
    hints: list[tuple[str, str]] = []
    words = params.q.split()
    for word in words:
        found = [s.text for s in searcher.suggest(word, 3).suggestions if s.count and s.text != word]
        if found:
            fixed = " ".join(found[0] if w == word else w for w in words)
            hints.append((found[0], query_url(request, q=fixed, page=None)))
    return hints


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Response:
    searcher = get_searcher(request)
    case = searcher.case(case_id)
    similar = searcher.similar(case_id, Filters(), SIMILAR_ON_PAGE)
    permalink = absolute(request, case_path(case.id))
    before, _title, after = citation_parts(case, permalink)
    return render(request, "case.html", {
        "case": case, "similar": similar, "permalink": permalink, "back_url": _back_url(request),
        "citation_before": before, "citation_after": after,
    })


def _with_page(request: Request, page: int) -> str:
    return query_url(request, page=page)


def _with_path(request: Request, path: str, drop: tuple[str, ...] = ()) -> str:
    return query_url(request, path=path, **{k: None for k in drop})


def _back_url(request: Request) -> str | None:
    """Link back to the results the reader came from (only a same-origin search page URL)."""
    ref = request.headers.get("referer", "")
    base = str(request.base_url)  # ends with "/"
    rest = ref[len(base):] if ref.startswith(base) else None
    if rest is not None and (rest == "" or rest.startswith("?")):
        return "/" + rest
    return None
