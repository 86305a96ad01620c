"""Absolute URLs for what leaves the site (feeds, citations, permalinks).

The base is the configured public URL (`COUNCIL_SEARCH_PUBLIC_BASE_URL`). Without one, it is the
address the server itself listens on (the ASGI `server` tuple), never the request's Host header: a
client-supplied Host would otherwise end up in feeds and copied citations."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import Request


def site_url(request: Request) -> str:
    """The public base URL without a trailing slash, e.g. https://search.example.jp."""
    configured = getattr(request.app.state.settings, "public_base_url", None)
    if configured:
        return str(configured).rstrip("/")
    host, port = request.scope.get("server") or ("localhost", None)
    scheme = request.scope.get("scheme", "http")
    default = {"http": 80, "https": 443}.get(scheme)
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def absolute(request: Request, path: str) -> str:
    """`path` ("/cases/…", "/feed.atom?q=…") as an absolute URL on the public site."""
    return site_url(request) + "/" + path.lstrip("/")


def case_path(case_id: str) -> str:
    return "/cases/" + quote(case_id, safe="")
