"""One error shape for every failure: `{"error": {"code", "message"}}` (JSON for the API, a Japanese
page for browsers). Bad input is a 4xx with a stable code, never a 500; a 500 never carries a
stack trace (it is logged server-side instead)."""
from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from contract.backend import BackendUnavailable
from council_search.gate import Busy
from engine.api_params import ParamError, param_error
from service.security import SECURITY_HEADERS

log = logging.getLogger("council_search.service")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. invalid_mode, size_too_large, not_found")
    message: str = Field(description="Human-readable explanation")


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries so /docs (and schemathesis) know every error has ErrorResponse's shape."""
    text = {
        400: "Bad parameter (unknown mode/sort, size over the cap, malformed date, date_from after date_to, q too long)",
        401: "Missing or wrong bearer token",
        403: "Write endpoints are disabled (no admin token configured)",
        404: "Unknown case id",
        413: "Draft longer than 20,000 characters (code draft_too_long)",
        415: "Body not sent as application/json (code json_required)",
        429: "Too many requests (admin endpoint rate limit); see Retry-After",
        503: "Search backend unavailable, or semantic search busy (code busy); see Retry-After",
    }
    return {s: {"model": ErrorResponse, "description": text.get(s, "Error")} for s in statuses}


def _wants_html(request: Request) -> bool:
    """Page routes answer errors with a page; API routes (and non-browser clients) with JSON."""
    path = request.url.path
    if path.startswith(("/api/", "/healthz", "/openapi", "/opensearch", "/static/")):
        return False
    if path in ("/", "/compare", "/precedents") or path.startswith("/cases/"):
        return True
    return "text/html" in request.headers.get("accept", "")


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def error_response(request: Request, status: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    if _wants_html(request):
        from service.rendering import render_error  # deferred: keeps the JSON API importable without templates
        return render_error(request, status, code, message, headers=headers)
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def retry_after(exc: BackendUnavailable) -> str:
    """Retry-After seconds: the backend's own estimate (a circuit breaker's cool-down left), else 30."""
    value = getattr(exc, "retry_after", None)
    return str(max(1, math.ceil(value))) if value else "30"


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden", 429: "rate_limited"}


def install(app: FastAPI) -> None:
    @app.exception_handler(ParamError)
    async def _param(request: Request, exc: ParamError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if request.method == "POST" and not _is_json(request):
            # JSON bodies only: FastAPI does not parse another content type as JSON, and a
            # cross-site form cannot send application/json without a CORS preflight.
            return error_response(request, 415, "json_required", "send the body as Content-Type: application/json")
        # FastAPI validated the query model of engine/api_params.py: the same mapping as the CLI's.
        err = param_error(exc.errors(), max_size=request.app.state.settings.max_page_size)
        return error_response(request, err.status, err.code, err.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        return error_response(request, exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(BackendUnavailable)
    async def _unavailable(request: Request, exc: BackendUnavailable) -> Response:
        log.warning("search backend unavailable: %s", exc)
        return error_response(request, 503, "backend_unavailable", "the search backend is unavailable; try again later",
                              headers={"Retry-After": retry_after(exc)})

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy) -> Response:
        # Expensive work is admitted through bounded gates (council_search/gate.py); beyond their
        # bound the request is refused rather than waiting without limit (held exc.delay seconds first:
        # council_search/gate.py, Gate.refusal_delay).
        if exc.delay:
            await asyncio.sleep(exc.delay)
        return error_response(request, 503, "busy", f"{exc.what} is busy; try again shortly",
                              headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        # Runs in Starlette's outermost middleware: log the traceback here, answer without it.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": {"code": "internal_error", "message": "internal server error"}},
                            status_code=500, headers=dict(SECURITY_HEADERS))
