"""The FastAPI application: JSON API, Japanese web pages, static files, one error shape.

`create_app(searcher)` serves a ready searcher (tests, embedding in other programs);
`create_app()` loads one from settings at start-up, and retries on the next request if the backend
is not there yet (the API answers 503 meanwhile)."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from contract.backend import BackendUnavailable
from council_search.settings import Settings, get_settings
from service import errors
from service.deps import SearcherHolder
from service.rendering import STATIC_DIR
from service.http_checks import HeadAsGetMiddleware, ParameterBytesMiddleware
from service.routers import cases, compare, feed, meta, pages, precedents, search, suggest
from service.security import RateLimit, SecurityHeadersMiddleware

if TYPE_CHECKING:
    from engine.searcher import Searcher

log = logging.getLogger("council_search.service")

DESCRIPTION = """\
Full-text and semantic search over Japanese municipal council records (審議案件).

* The URL is the whole state: every parameter is a plain query parameter, filters repeat
  (`department=戸籍住民課&department=税務課`): OR within a facet, AND across facets.
* Errors are `{"error": {"code", "message"}}` with a 4xx status for bad input (including parameters
  that are not UTF-8 text or contain NUL: `invalid_encoding`), 404 for an unknown case, 429 when the
  admin endpoint is called too often, 503 when the search backend is unavailable or busy.
* Every GET route also answers HEAD (same status and headers, no body).
* The API is read-only; write endpoints need `Authorization: Bearer $COUNCIL_SEARCH_ADMIN_TOKEN`.
"""


def create_app(searcher: "Searcher | None" = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    holder = SearcherHolder(settings, searcher)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not holder.loaded:
            try:
                holder.get()
            except BackendUnavailable as exc:  # keep serving: /healthz says so, requests retry the load
                log.warning("search backend not available at start-up: %s", exc)
        yield
        holder.close()

    app = FastAPI(
        title="council-search",
        version="0.1.0",
        summary="議事・審議案件の全文検索・意味検索 API",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,     # /docs is served by meta.api_docs: no CDN, no inline script
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.searcher_holder = holder
    app.state.admin_rate_limit = RateLimit(settings.admin_requests_per_minute)
    errors.install(app)
    # Outermost last: security headers on everything; HEAD outside gzip so its headers are the GET's.
    app.add_middleware(ParameterBytesMiddleware)
    # Result pages are ~50 KB of repetitive Japanese HTML; ward networks and phones are slow.
    # Level 6 (zlib's default) rather than Starlette's 9: 0.2-1.1 % more bytes, 10-27 % less CPU per
    # compressed response (a results page: 0.35 -> 0.27 ms; bench/bench_gzip.py, docs/benchmarks.md).
    app.add_middleware(GZipMiddleware, minimum_size=2048, compresslevel=6)
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    for module in (search, cases, precedents, suggest, feed, meta, pages, compare):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _document_errors_truthfully(app)
    return app


def _document_errors_truthfully(app: FastAPI) -> None:
    """FastAPI documents a 422 with its own validation-error body on every route with parameters;
    this app answers bad parameters with 400 and ErrorResponse instead, so drop those entries."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for ops in schema.get("paths", {}).values():
                for op in ops.values():
                    op.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
