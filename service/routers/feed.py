"""`/feed.atom`: the Atom feed of any search (the same parameters as `/` and `/api/search`), with
conditional GET (ETag / Last-Modified → 304) so feed readers can poll cheaply."""
from __future__ import annotations

import datetime as dt
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.api_params import SearchQuery
from contract.backend import Sort
from service import feed
from service.deps import get_searcher
from service.errors import error_responses
from service.freshness import index_built_at
from service.urls import site_url

router = APIRouter(tags=["feed"])

CACHE_CONTROL = "public, max-age=300"


@router.get(
    "/feed.atom", response_class=Response,
    responses={200: {"content": {feed.MEDIA_TYPE: {"schema": {"type": "string"}}},
                     "description": "Atom 1.0 (RFC 4287) document: the newest matching cases, at most 50"},
               304: {"description": "Not modified since the ETag (If-None-Match) or date (If-Modified-Since) given"},
               **error_responses(400, 503)},
    summary="Atom feed of a search: its newest matching cases (subscribe to be told of new ones)")
def search_feed(request: Request, query: Annotated[SearchQuery, Query()]) -> Response:
    size = min(feed.MAX_ENTRIES, request.app.state.settings.max_page_size)
    # Always newest first, whatever `sort` says: a feed lists what is new. Paging is not a feed's.
    params = query.model_copy(update={"sort": Sort.newest}).paged(1, size)
    searcher = get_searcher(request)
    result = searcher.search(params)
    hits = result.hits   # the matches (never "related" cases)
    records = searcher.backend.fetch([h.id for h in hits]) if hits else {}
    built_at = index_built_at(request) or dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    entries = feed.entries_of(hits, records, fallback=built_at)
    body = feed.render_feed(params=params, entries=entries, site=site_url(request), empty_updated=built_at)
    updated = max((e.updated for e in entries), default=built_at)
    headers = {
        "ETag": feed.etag_of(body),
        "Last-Modified": format_datetime(updated.astimezone(dt.timezone.utc), usegmt=True),
        "Cache-Control": CACHE_CONTROL,
    }
    if _not_modified(request, headers["ETag"], updated):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=f"{feed.MEDIA_TYPE}; charset=utf-8", headers=headers)


def _not_modified(request: Request, etag: str, updated: dt.datetime) -> bool:
    """RFC 9110 §13.1: If-None-Match (weak comparison) wins; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False   # an unparsable date is ignored (RFC 9110 §13.1.3)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return updated.replace(microsecond=0) <= when
