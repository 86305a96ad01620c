"""`/api/search` (JSON) and `/api/search.csv` (the same result set as a spreadsheet)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Iterator

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from engine.api_models import Hit, SearchResponse
from engine.api_params import MAX_PAGE_SIZE, SearchParams, SearchQuery
from service.deps import get_searcher, search_params
from service.errors import error_responses
from service.feed import MEDIA_TYPE as FEED_MEDIA_TYPE
from service.model_json import model_response
from service.rendering import query_url
from service.urls import absolute, site_url

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", response_model=SearchResponse, responses=error_responses(400, 503),
            summary="Search cases: hits with highlights, facet counts, paging")
def search(request: Request, params: Annotated[SearchParams, Depends(search_params)]) -> Response:
    result = get_searcher(request).search(params)
    feed = f'<{absolute(request, result.feed_url)}>; rel="alternate"; type="{FEED_MEDIA_TYPE}"'
    return model_response(result, {"Link": ", ".join(filter(None, [_page_links(request, result), feed]))})


def _page_links(request: Request, result: SearchResponse) -> str:
    """RFC 8288 `Link` header with the neighbouring pages (the body has total/page/size too)."""
    last = max(1, -(-result.total // result.size))
    rels = []
    if result.page < last:
        rels.append(("next", result.page + 1))
    if 1 < result.page <= last:
        rels.append(("prev", result.page - 1))
    if rels:
        rels += [("first", 1), ("last", last)]
    return ", ".join(f'<{query_url(request, page=n)}>; rel="{rel}"' for rel, n in rels)


CSV_MAX_ROWS = 10_000
CSV_COLUMNS = ("id", "number", "title", "municipality", "departments", "categories", "meeting_date", "result",
               "score", "url")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    # Spreadsheet apps run cells starting with = + - @ as formulas (CSV injection): quote them as text.
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_row(hit: Hit, base_url: str) -> list[str]:
    # Every cell goes through _cell, even those that cannot start with a formula character today
    # (ids are checked at ingest, numbers and dates are ours): one rule, no cell forgotten.
    return [_cell(v) for v in (
        hit.id, str(hit.number), hit.title, hit.municipality, "、".join(hit.departments),
        "、".join(hit.categories), hit.meeting_date.isoformat(), hit.result, f"{hit.score:.6g}",
        base_url + hit.url,
    )]


def _encode(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


@router.get("/search.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "UTF-8 CSV with a BOM (opens in Excel); header row + one row per hit"},
                       **error_responses(400, 503)},
            summary="The current result set as CSV (capped, streamed)")
def search_csv(request: Request, query: Annotated[SearchQuery, Query()],
               limit: Annotated[int, Query(ge=1, le=CSV_MAX_ROWS, description=f"Maximum rows (at most {CSV_MAX_ROWS})")] = CSV_MAX_ROWS,
               ) -> StreamingResponse:
    settings = request.app.state.settings
    page_size = min(settings.max_page_size, MAX_PAGE_SIZE)
    params = query.paged(1, page_size)
    searcher = get_searcher(request)
    # The first page is fetched before the response starts so errors still get a proper status.
    first = searcher.search(params)
    base_url = site_url(request)   # never the Host header (service/urls.py)

    def body() -> Iterator[bytes]:
        yield "\ufeff".encode("utf-8") + _encode([list(CSV_COLUMNS)])
        response, sent = first, 0
        while True:
            rows = [_csv_row(hit, base_url) for hit in response.hits[: limit - sent]]
            if rows:
                yield _encode(rows)
            sent += len(rows)
            if sent >= limit or sent >= response.total or not response.hits:
                return
            response = searcher.search(params.model_copy(update={"page": response.page + 1}))

    stamp = dt.date.today().strftime("%Y%m%d")
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="council-search-{stamp}.csv"',
        "X-Total-Count": str(first.total),
    })
