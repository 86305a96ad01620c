"""`council-search serve`: build the index if it is missing, then serve the page and the API."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from council_search.settings import Settings

import uvicorn

from contract.backend import BackendUnavailable
from council_search.settings import get_settings
from indexer.build import ensure_index
from service.http_protocol import GuardedH11Protocol, protocol_class

# A 10,000-character Japanese q is ~90 KB once percent-encoded; h11's default 16 KB limit would answer
# it with a bare 400 before the app sees it. With room for it, the app refuses it with its own JSON.
MAX_REQUEST_HEAD_BYTES = 256 * 1024


def uvicorn_options(settings: "Settings | None" = None) -> dict[str, Any]:
    """Server options shared by `serve` and the in-process server of the browser tests and benches:
    h11 with the request-head timeout and JSON errors of service/http_protocol.py, and the idle
    keep-alive timeout, both from settings (docs/reliability.md lists the reverse-proxy equivalents)."""
    settings = settings or get_settings()
    return {"http": protocol_class(settings.header_timeout), "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
            "timeout_keep_alive": settings.keep_alive_timeout, "server_header": False}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    parser.add_argument("--no-index", action="store_true",
                        help="do not build a missing index first (the API answers 503 until one exists)")


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        print(f"council-search serve: invalid port {args.port}", file=sys.stderr)
        return 2
    settings = get_settings()
    if not args.no_index:
        try:
            ensure_index(settings)
        except BackendUnavailable as exc:
            # OpenSearch down: the API recovers by itself when the cluster comes back, so serve (503 until then).
            print(f"council-search serve: {exc}; serving anyway (the API answers 503 until OpenSearch is back "
                  "and `council-search index` has loaded it)", file=sys.stderr)
        except Exception as exc:  # a clear message, not a traceback: the operator fixes the corpus/config
            print(f"council-search serve: could not build the index: {exc}", file=sys.stderr)
            return 1
    # factory=True: the app (and its searcher) is created inside the server process, also with --reload.
    options = uvicorn_options(settings)
    if args.reload:   # the reloader pickles the config: the module-level class (default timeout) pickles
        options["http"] = GuardedH11Protocol
    uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port, reload=args.reload,
                log_level="info", **options)
    return 0
