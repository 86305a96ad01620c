"""Where the keyword path's time goes, per query and per pass (CPU time of the calling thread:
tantivy runs a search on the calling thread, so this is the pass's own cost, not waiting for a
core on a shared machine).

    .venv/bin/python bench/profile_keyword.py --cases 100000 [--repeat 5] [--shapes ...]
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

BROAD = ["委託", "ガバメントクラウド 再委託", "外部結合 業務委託"]


def cpu_ms(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.thread_time()
        fn()
        out.append((time.thread_time() - t) * 1000)
    return statistics.median(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--queries", nargs="*", default=None)
    ap.add_argument("--fields", action="store_true", help="also time each field's bigram/morph phrase alone")
    args = ap.parse_args(argv)

    from analyzers import parse_query
    from engine.backend import FACETS, Filters
    from engine.embedded import query as Q
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.schema import bigram_field, facet_field, morph_field
    from indexer.document import TEXT_FIELDS

    backend = EmbeddedBackend.open(index_dir(args.cases, True), facet_cache_size=0)
    s, schema = backend.searcher, backend.schema
    print(f"segments: {s.num_segments}, docs: {s.num_docs}")
    aggs = {name: {"terms": {"field": facet_field(name), "size": 100}} for name in FACETS}
    queries = args.queries or KEYWORD_QUERIES
    cols = ["ranked", "ranked_gate", "facets_fields", "facets_all", "count_all"]
    print("| query | matches | " + " | ".join(cols) + " |")
    for text in queries:
        parsed = parse_query(text)
        row = {}
        Q.RANKED_SHAPE = "fields"
        q = Q.full_query(schema, parsed, Filters())
        total = s.search(q, limit=20, count=True).count
        row["ranked"] = cpu_ms(lambda: s.search(q, limit=20, count=True), args.repeat)
        Q.RANKED_SHAPE = "gate"
        qg = Q.full_query(schema, parsed, Filters())
        row["ranked_gate"] = cpu_ms(lambda: s.search(qg, limit=20, count=True), args.repeat)
        Q.RANKED_SHAPE = "fields"
        Q.MATCH_SHAPE = "fields"
        qf = Q.full_query(schema, parsed, Filters(), scoring=False)
        row["facets_fields"] = cpu_ms(lambda: s.aggregate(qf, aggs), args.repeat)
        Q.MATCH_SHAPE = "all"
        qa = Q.full_query(schema, parsed, Filters(), scoring=False)
        row["facets_all"] = cpu_ms(lambda: s.aggregate(qa, aggs), args.repeat)
        row["count_all"] = cpu_ms(lambda: s.search(qa, limit=1, count=True), args.repeat)
        assert s.search(qa, limit=1, count=True).count == total == s.search(qf, limit=1, count=True).count, text
        print(f"| {text} | {total} | " + " | ".join(f"{row[c]:.1f}" for c in cols) + " |", flush=True)
        if args.fields:
            for field in TEXT_FIELDS:
                parts = []
                for kind, fname in (("b", bigram_field(field)), ("m", morph_field(field))):
                    leaves = []
                    for g in parsed.groups:
                        for t in g.terms:
                            for v in t.variants:
                                leaf = (Q._bigram_query(schema, fname, v) if kind == "b"
                                        else Q._sequence(schema, fname, v.streams.morph))
                                if leaf is not None:
                                    leaves.append(leaf)
                    qq = Q._any(leaves)
                    if qq is None:
                        parts.append(f"{kind} -")
                        continue
                    parts.append(f"{kind} {cpu_ms(lambda: s.search(qq, limit=20, count=True), args.repeat):.1f}")
                print(f"|   {field} | " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
