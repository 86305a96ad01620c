"""What the app checks and adapts at the HTTP layer, before any route runs.

- HEAD is answered on every GET route (uptime checkers and link checkers send HEAD; a 405 made them
  report the service down): the request runs as a GET and the body is dropped, so the status and
  headers are exactly those of the GET.
- Undecodable parameters are refused with a 400 in the error shape: bytes that are not UTF-8, a
  `%` not followed by two hex digits, or a NUL character. Starlette would otherwise pass them on
  as replacement characters or literal text, and a query would silently search for something the
  user did not send.

Plain ASGI middlewares (not BaseHTTPMiddleware), so streamed CSV responses pass through untouched.
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def send_headers_only(message: Message) -> None:
            nonlocal finished
            if message["type"] != "http.response.body":
                await send(message)
            elif not finished:
                # the first body message ends the response (content-length, if any, is the GET's)
                finished = True
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


def parameter_problem(scope: Scope) -> str | None:
    """Why the request's path or query string cannot be read as text, or None."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    for label, raw in (("path", raw_path), ("query string", scope.get("query_string", b""))):
        if not raw:
            continue
        if _BAD_ESCAPE.search(raw):
            return f"the {label} has a '%' that is not followed by two hexadecimal digits"
        try:
            text = unquote_to_bytes(raw.replace(b"+", b" ") if label == "query string" else raw).decode("utf-8")
        except UnicodeDecodeError:
            return f"the {label} is not valid UTF-8 once percent-decoded"
        if "\x00" in text:
            return f"the {label} contains a NUL character"
    return None


class ParameterBytesMiddleware:
    """400 `invalid_encoding` for paths and parameters that are not clean UTF-8 text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = parameter_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        response = error_response(Request(scope, receive), 400, "invalid_encoding", problem)
        await response(scope, receive, send)
