"""Where the keyword path's time goes, per query and per pass, at scale (CPU time of the calling
thread: tantivy runs a search on the calling thread, so this is the pass's own cost, not time spent
waiting for a core on a shared machine).

    .venv/bin/python bench/profile_keyword.py --cases 100000 [--repeat 3] [--queries 委託 ...]
    .venv/bin/python bench/profile_keyword.py --cases 100000 --searches [--repeat 7]

`--searches`: per query, the process CPU of one whole keyword search (`Searcher.search`, size 20:
both passes, highlighting, the response), median and max of `--repeat` after a warm-up.

Columns: `ranked` = the ranked pass as built now (top 20 + count), `facets` = the backend's facet
pass for the six facets (`EmbeddedBackend._facet_counts`: the match-only aggregation, or its
complement for a query estimated to match most cases, whose filters' own counts are cached as in a
server), `count` = the match alone, all with the phrases' exceptions known
(engine/embedded/phrases.py); `first use` = building the query the first time (finding the
exceptions of its phrases), paid once per phrase and backend; `ranked (all tokens)` / `count (all
tokens)` = the same passes with every phrase decided by the AND of every token it implies (the
shape before `_fewest_tokens`); `facets (direct)` = the match-only aggregation (no complement).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import KEYWORD_QUERIES, index_dir  # noqa: E402


def cpu_ms(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.thread_time()
        fn()
        out.append((time.thread_time() - t) * 1000)
    return statistics.median(out)


def searches(cases: int, repeat: int, queries: list[str]) -> int:
    from engine.embedded.backend import EmbeddedBackend
    from engine.searcher import Searcher

    backend = EmbeddedBackend.open(index_dir(cases, True), facet_cache_size=0)
    searcher = Searcher(backend, None)
    params = {q: searcher.params(q=q, mode="keyword", size=20) for q in queries}
    for q in queries:       # warm-up: phrase exceptions, the filters' own facet counts, page cache
        searcher.search(params[q])
    print(f"{len(backend.store)} cases; process CPU ms per keyword search (median / max of {repeat})\n")
    print("| query | median | max |\n|---|---:|---:|")
    for q in queries:
        out = []
        for _ in range(repeat):
            t = time.process_time()
            searcher.search(params[q])
            out.append((time.process_time() - t) * 1000)
        print(f"| {q} | {statistics.median(out):.1f} | {max(out):.1f} |", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--queries", nargs="*", default=None)
    ap.add_argument("--searches", action="store_true", help="CPU per whole search (Searcher.search) instead")
    args = ap.parse_args(argv)
    if args.searches:
        return searches(args.cases, args.repeat, args.queries or KEYWORD_QUERIES)

    from analyzers import parse_query
    from contract.backend import FACETS, Filters
    from engine.embedded import query as Q
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.schema import facet_field

    backend = EmbeddedBackend.open(index_dir(args.cases, True), facet_cache_size=0)
    s, schema = backend.searcher, backend.schema
    aggs = {name: {"terms": {"field": facet_field(name), "size": 100}} for name in FACETS}
    print(f"{s.num_docs} cases, {s.num_segments} segments; CPU ms (median of {args.repeat})\n")
    cols = ["ranked", "facets", "count", "first use", "ranked (all tokens)", "count (all tokens)", "facets (direct)"]
    print("| query | matches | " + " | ".join(cols) + " |\n|---|---:|" + "---:|" * len(cols))
    for text in args.queries or KEYWORD_QUERIES:
        parsed = parse_query(text)
        t = time.thread_time()   # building the queries finds the phrases' exceptions
        match = Q.full_query(schema, parsed, Filters(), backend.phrases, scoring=False)
        ranked = Q.full_query(schema, parsed, Filters(), backend.phrases)
        first_use = (time.thread_time() - t) * 1000
        tries, Q.FEWEST_TRIES = Q.FEWEST_TRIES, 0
        every_ranked = Q.full_query(schema, parsed, Filters(), backend.phrases)
        every_match = Q.full_query(schema, parsed, Filters(), backend.phrases, scoring=False)
        Q.FEWEST_TRIES = tries
        total = s.search(ranked, limit=1, count=True).count
        assert total == s.search(match, limit=1).count == s.search(every_match, limit=1).count, text
        backend._facet_counts(parsed, Filters(), 100)    # the filters' own counts, once per server
        row = [cpu_ms(lambda: s.search(ranked, limit=20, count=True), args.repeat),
               cpu_ms(lambda: backend._facet_counts(parsed, Filters(), 100), args.repeat),
               cpu_ms(lambda: s.search(match, limit=1, count=True), args.repeat),
               first_use,
               cpu_ms(lambda: s.search(every_ranked, limit=20, count=True), args.repeat),
               cpu_ms(lambda: s.search(every_match, limit=1, count=True), args.repeat),
               cpu_ms(lambda: s.aggregate(match, aggs), args.repeat)]
        print(f"| {text} | {total:,} | " + " | ".join(f"{v:.1f}" for v in row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
