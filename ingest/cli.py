"""`council-search ingest`: parse raw reports into corpus/records/*.jsonl."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from council_search.settings import get_settings
from ingest.parsers import ParseError
from ingest.pipeline import discover, ingest_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    settings = get_settings()
    parser.add_argument("paths", nargs="*", type=Path, help="Raw report .txt files (default: every report under --raw-dir)")
    parser.add_argument("--raw-dir", type=Path, default=settings.raw_dir, help="Raw reports (default: corpus/raw)")
    parser.add_argument("--out-dir", type=Path, default=settings.records_dir, help="Where JSONL records go (default: corpus/records)")
    parser.add_argument("--quiet", action="store_true", help="Do not print warnings")


def run(args: argparse.Namespace) -> int:
    # Japanese warnings must never turn into a UnicodeEncodeError traceback on a non-UTF-8 console.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    paths = list(args.paths) or discover(args.raw_dir)
    if not paths:
        print(f"ingest: no reports (.txt with a .json manifest) under {args.raw_dir}", file=sys.stderr)
        return 2
    try:
        results = ingest_files(paths, args.raw_dir, args.out_dir)
    except ParseError as exc:
        print(f"ingest: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"ingest: error: {exc}", file=sys.stderr)
        return 1
    for res in results:
        if not args.quiet:
            for w in res.warnings:
                print(f"ingest: warning: {res.source.name}: {w}", file=sys.stderr)
        print(f"{res.source} → {res.output} ({len(res.records)} records, {len(res.warnings)} warnings)")
    return 0
