"""The `council-search` console entry point. Each subcommand lives with its package
(`<package>/cli.py` exposing `add_arguments(parser)` and `run(args) -> int`), imported lazily so
`council-search ingest` does not pay for loading the embedding model."""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest.cli", "Parse raw reports under corpus/raw into case records (JSON Lines)"),
    "index": ("indexer.cli", "Build the search index from corpus records (atomic, incremental)"),
    "search": ("engine.cli", "Search from the command line (--json prints the HTTP API's answer)"),
    "serve": ("service.cli", "Serve the web page and JSON API (builds the index if missing)"),
    "eval": ("evaluation.cli", "Evaluate ranking quality on the judged query set"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="council-search", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = {}
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:  # a package not built yet: keep the other commands usable
            p.set_defaults(_missing=str(exc))
            continue
        module.add_arguments(p)
        modules[name] = module
    args = parser.parse_args(argv)
    if getattr(args, "_missing", None):
        print(f"council-search {args.command}: not available ({args._missing})", file=sys.stderr)
        return 2
    try:
        return int(modules[args.command].run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
