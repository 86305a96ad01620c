"""Security headers on every response, and the bearer-token check for write endpoints.

The page loads only same-origin files: no inline script or event handler (the CSP has no
'unsafe-inline' for scripts), no external fonts or CDNs, and it cannot be framed."""
from __future__ import annotations

import hmac
import threading
import time
from collections import deque

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.api_params import ParamError

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)


class SecurityHeadersMiddleware:
    """Plain ASGI middleware (not BaseHTTPMiddleware) so streamed CSV responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self._raw if k not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AuthError(ParamError):
    status = 401
    headers = {"WWW-Authenticate": "Bearer"}


class WritesDisabled(ParamError):
    status = 403


class RateLimited(ParamError):
    status = 429

    def __init__(self, retry_after: int):
        super().__init__("rate_limited", f"too many admin requests; retry after {retry_after} s")
        self.headers = {"Retry-After": str(retry_after)}


class RateLimit:
    """At most `limit` calls per `window` seconds, for the whole process (sliding window).

    For the admin endpoint: a reload opens the whole index again, and each call with a wrong token
    is a guess at it, so both are counted. Process-wide rather than per client: behind a reverse
    proxy every client has the proxy's address."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit, self.window = limit, window
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self) -> None:
        now = time.monotonic()
        with self._lock:
            while self._calls and now - self._calls[0] >= self.window:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                raise RateLimited(max(1, int(self.window - (now - self._calls[0])) + 1))
            self._calls.append(now)


def require_admin(request: Request) -> None:
    """Dependency for write endpoints: `Authorization: Bearer $COUNCIL_SEARCH_ADMIN_TOKEN`.
    With no token configured, writes are off altogether (403), so a default deployment is read-only.
    Calls are rate-limited (Settings.admin_requests_per_minute) before the token is even compared."""
    request.app.state.admin_rate_limit.check()
    token = request.app.state.settings.admin_token
    if not token:
        raise WritesDisabled("writes_disabled", "write endpoints are disabled (COUNCIL_SEARCH_ADMIN_TOKEN is not set)")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise AuthError("unauthorized", "a valid 'Authorization: Bearer <token>' header is required")
