"""When the serving index was built, for the page footer (「最終更新」) and case responses.

Asked of the backend at most every TTL seconds per searcher (OpenSearch answers it over the
network; a rebuild behind an alias shows up within the TTL, an embedded rebuild on reload)."""
from __future__ import annotations

import datetime as dt
import threading
import time

from fastapi import Request

from contract.backend import BackendUnavailable

TTL_SECONDS = 30.0
_lock = threading.Lock()


def index_built_at(request: Request, *, load: bool = True) -> dt.datetime | None:
    """The build time of the index behind this app, or None if it is not known. With load=False
    (page chrome, error pages) a searcher that is not loaded yet is not loaded for it."""
    holder = request.app.state.searcher_holder
    if not load and not holder.loaded:
        return None
    try:
        searcher = holder.get()
    except BackendUnavailable:
        return None
    now = time.monotonic()
    cached = getattr(request.app.state, "build_stamp", None)
    if cached and cached[0] is searcher and now - cached[2] < TTL_SECONDS:
        return cached[1]
    try:
        built_at = searcher.health().built_at
    except BackendUnavailable:
        return None
    with _lock:
        request.app.state.build_stamp = (searcher, built_at, now)
    return built_at
