"""Where the keyword path's time goes, per query and per pass, at scale (CPU time of the calling
thread: tantivy runs a search on the calling thread, so this is the pass's own cost, not time spent
waiting for a core on a shared machine).

    .venv/bin/python bench/profile_keyword.py --cases 100000 [--repeat 3] [--queries 委託 ...]

Columns: `ranked` = the ranked pass as built now (top 20 + count), `facets` = the match-only
aggregation for the six facets, `count` = the match alone; `ranked (per-field)` and
`facets (per-field)` = the shapes before the all-text field (a union of per-field bigram phrases
deciding the match, per-field whole-word phrases adding score), rebuilt here for comparison.
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


def per_field_query(schema, parsed, scoring: bool):
    """The pre-redesign shape: Must(OR of per-field bigram phrases) + Should(per-field morph)."""
    import tantivy
    from tantivy import Occur, Query

    from engine import ranking
    from engine.embedded import query as Q
    from engine.embedded.schema import bigram_field, morph_field
    from contract.document import TEXT_FIELDS

    def variant(v, phrase, weight):
        recall, precision = [], []
        for field in TEXT_FIELDS:
            boost = ranking.FIELD_BOOSTS.get(field, 1.0) * weight
            b = Q._bigram_query(schema, bigram_field(field), v)
            if b is not None:
                recall.append(Query.boost_query(b, boost) if scoring else b)
            if scoring:
                m = Q._sequence(schema, morph_field(field), v.streams.morph, 0 if phrase else ranking.MORPH_SLOP)
                if m is not None:
                    precision.append(Query.boost_query(m, boost * ranking.MORPH_WEIGHT))
        must, should = Q._any(recall), Q._any(precision)
        if must is None or should is None:
            return must
        return Query.boolean_query([(Occur.Must, must), (Occur.Should, should)])

    def term(t):
        return Q._any([variant(v, t.phrase, ranking.SYNONYM_WEIGHT if v.is_synonym else 1.0) for v in t.variants])

    musts = [Q._any([term(t) for t in g.terms]) for g in parsed.groups]
    clauses = [(Occur.Must, m) for m in musts]
    excl = Q._any([term(t) for t in parsed.excluded]) if parsed.excluded else None
    if excl is not None:
        clauses.append((Occur.MustNot, excl))
    return clauses[0][1] if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--queries", nargs="*", default=None)
    args = ap.parse_args(argv)

    from analyzers import parse_query
    from contract.backend import FACETS, Filters
    from engine.embedded import query as Q
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.schema import facet_field

    backend = EmbeddedBackend.open(index_dir(args.cases, True), facet_cache_size=0)
    s, schema = backend.searcher, backend.schema
    aggs = {name: {"terms": {"field": facet_field(name), "size": 100}} for name in FACETS}
    print(f"{s.num_docs} cases, {s.num_segments} segments; CPU ms (median of {args.repeat})\n")
    cols = ["ranked", "facets", "count", "ranked (per-field)", "facets (per-field)"]
    print("| query | matches | " + " | ".join(cols) + " |\n|---|---:|" + "---:|" * len(cols))
    for text in args.queries or KEYWORD_QUERIES:
        parsed = parse_query(text)
        ranked = Q.full_query(schema, parsed, Filters())
        match = Q.full_query(schema, parsed, Filters(), scoring=False)
        old_ranked, old_match = per_field_query(schema, parsed, True), per_field_query(schema, parsed, False)
        total = s.search(ranked, limit=1, count=True).count
        assert total == s.search(match, limit=1).count == s.search(old_match, limit=1).count, text
        row = [cpu_ms(lambda: s.search(ranked, limit=20, count=True), args.repeat),
               cpu_ms(lambda: s.aggregate(match, aggs), args.repeat),
               cpu_ms(lambda: s.search(match, limit=1, count=True), args.repeat),
               cpu_ms(lambda: s.search(old_ranked, limit=20, count=True), args.repeat),
               cpu_ms(lambda: s.aggregate(old_match, aggs), args.repeat)]
        print(f"| {text} | {total:,} | " + " | ".join(f"{v:.1f}" for v in row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
