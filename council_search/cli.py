"""The `council-search` console entry point. Each subcommand lives with its package
(`<package>/cli.py` exposing `add_arguments(parser)` and `run(args) -> int`). Only the chosen
subcommand's module is imported, so `council-search ingest` does not pay for loading tantivy,
the embedding model or FastAPI."""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest.cli", "Parse raw reports under corpus/raw into case records (JSON Lines)"),
    "index": ("indexer.cli", "Build the search index from corpus records (atomic, incremental)"),
    "search": ("service.search_cli", "Search from the command line (--json prints the HTTP API's answer)"),
    "serve": ("service.cli", "Serve the web page and JSON API (builds the index if missing)"),
    "eval": ("evaluation.cli", "Evaluate ranking quality on the judged query set"),
}


def _chosen(argv: list[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in SUBCOMMANDS else None
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="council-search",
        description="Full-text and semantic search over Japanese municipal council records.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen(argv)
    module = None
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
    args = parser.parse_args(argv)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
