"""`council-search search`: search from the command line. `--json` prints what GET /api/search
returns for the same parameters (SearchResponse.model_dump_json()), and for a bad parameter the
API's error body `{"error": {"code", "message"}}` (exit status 2). Like `serve`, it builds a missing
embedded index first (`indexer.build.ensure_index`)."""
from __future__ import annotations

import argparse
import html
import json
import re
import sys

from contract.backend import FACETS, BackendUnavailable
from council_search.settings import get_settings
from engine.api_params import ParamError, SearchParams
from engine.loader import load_searcher
from indexer.build import ensure_index

_TAG = re.compile(r"</?mark>")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("q", nargs="?", default="", help="Query (space = AND, OR, -exclude, \"phrase\", №12)")
    parser.add_argument("--mode", default="hybrid", help="keyword | semantic | hybrid (default)")
    parser.add_argument("--sort", default="relevance", help="relevance (default) | newest | oldest")
    parser.add_argument("--synonyms", default="on", help="on (default) | off: expand query words with the synonym list")
    parser.add_argument("--page", default=1, type=str)
    parser.add_argument("--size", default=10, type=str)
    parser.add_argument("--date-from", default=None, help="YYYY-MM-DD")
    parser.add_argument("--date-to", default=None, help="YYYY-MM-DD")
    for name in ("department", "category", "meeting-month", "result", "fiscal-year", "municipality"):
        parser.add_argument(f"--{name}", action="append", default=None, metavar="VALUE",
                            help=f"Filter by {name} (repeatable: OR within, AND across facets)")
    parser.add_argument("--json", action="store_true", help="Print the HTTP API's JSON response")


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    raw = dict(q=args.q, mode=args.mode, sort=args.sort, synonyms=args.synonyms, page=args.page, size=args.size,
               date_from=args.date_from, date_to=args.date_to, **{name: getattr(args, name) for name in FACETS})
    try:
        # The API's parameter model and error mapping (engine/api_params.py): the same bad value gets
        # the same code and message as GET /api/search. Checked before the index and model load.
        params = SearchParams.create(max_size=settings.max_page_size, **raw)
    except ParamError as exc:
        if args.json:
            print(json.dumps(exc.to_dict(), ensure_ascii=False))
        print(f"council-search search: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    try:
        ensure_index(settings)
        response = load_searcher(settings).search(params)
    except BackendUnavailable as exc:
        print(f"council-search search: {exc}", file=sys.stderr)
        return 3
    if args.json:
        print(response.model_dump_json())
        return 0
    first = (response.page - 1) * response.size + 1 if response.hits else 0
    print(f"{response.total} cases match ({response.query.mode.value}, {response.took_ms:.0f} ms)"
          + (f", showing {first}-{first + len(response.hits) - 1}" if response.hits else ""))
    for expansion in response.query.expansions:
        print(f"synonyms: {expansion.term} -> {', '.join(expansion.synonyms)} (--synonyms off to search without)")
    for warning in response.query.warnings:
        print(f"note: {warning.message}")
    for hit in response.hits:
        _print_hit(hit)
    if response.related:
        print(f"\nrelated (near in meaning, not matching, not counted): {len(response.related)}")
        for hit in response.related:
            _print_hit(hit)
    return 0


def _print_hit(hit) -> None:
    print()
    print(f"№{hit.number}  {_plain(hit.highlights.title) or hit.title}")
    print(f"    {hit.meeting_date}  {'・'.join(hit.departments)}  [{', '.join(hit.categories)}]  {hit.result}  {hit.id}")
    if hit.match:
        print(f"    why: {_reasons(hit.match)}")
    for snippet in hit.highlights.snippets[:1]:
        print(f"    {_plain(snippet, terminal=sys.stdout.isatty())}")


def _reasons(match) -> str:
    parts = [t.term if t.how.value == "literal" else f"{t.term} -> {t.via} ({t.how.value})" for t in match.terms]
    if match.by_meaning:
        parts.append(f"by meaning (rank {match.semantic_rank})")
    elif match.semantic_rank:
        parts.append(f"semantic rank {match.semantic_rank}")
    return ", ".join(parts) or "-"


def _plain(fragment: str, terminal: bool = False) -> str:
    """Highlight HTML → terminal text (bold marks on a tty)."""
    if terminal:
        fragment = fragment.replace("<mark>", "\x1b[1m").replace("</mark>", "\x1b[0m")
    return html.unescape(_TAG.sub("", fragment))
