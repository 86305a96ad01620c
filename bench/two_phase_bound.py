"""Could the keyword ranked pass run in two phases and stay exact? Phase 1 scores without the long
fields' whole-word term clauses (the dense, costly ones); the top W are re-scored by the full query
(`full_query(ids=…)`). The result is provably the full ranking when the 20th full score is at least
the W-th phase-1 score plus a bound on what the dropped clauses can add (idf × (k1 + 1) × boost per
token and field). Prints, per benchmark query, the CPU ms of the full ranked pass and of phase 1,
the bound, and for W = 100 and 1,000: whether the bound holds and whether the top 20 came out equal
anyway (docs/benchmarks.md, "1M keyword, session 4").

    .venv/bin/python bench/two_phase_bound.py --cases 100000
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import KEYWORD_QUERIES, index_dir  # noqa: E402
from bench.profile_keyword import cpu_ms  # noqa: E402

BM25_K1 = 1.2   # tantivy's


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    args = ap.parse_args(argv)

    from tantivy import Occur, Query

    from analyzers import default_synonyms
    from contract.backend import Filters
    from contract.document import TEXT_FIELDS
    from engine import ranking
    from engine.embedded import query as Q
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.schema import ALL_BIGRAMS, bigram_field, morph_field
    from engine.searcher import Searcher

    backend = EmbeddedBackend.open(index_dir(args.cases, True), facet_cache_size=0)
    searcher = Searcher(backend, None)
    schema, stats, ts = backend.schema, backend.phrases, backend.searcher

    def phase1_variant(variant, phrase: bool, weight: float):
        # engine/embedded/query.variant_query without the LONG_FIELDS term clauses
        match = Q._bigram_match(schema, ALL_BIGRAMS, variant, stats, weight * ranking.ALL_TEXT_WEIGHT, (), True)
        if match is None:
            return None
        clauses = []
        for field in TEXT_FIELDS:
            if field in ranking.LONG_FIELDS:
                continue
            boost = ranking.FIELD_BOOSTS.get(field, 1.0) * weight
            clauses.append(Q._bigram_match(schema, bigram_field(field), variant, stats, boost * ranking.BIGRAM_WEIGHT, ()))
            clauses.append(Q._morph_match(schema, morph_field(field), variant, 0 if phrase else ranking.MORPH_SLOP,
                                          stats, boost * ranking.MORPH_WEIGHT, ()))
        return Query.boolean_query([(Occur.Must, match)] + [(Occur.Should, c) for c in clauses if c is not None])

    def weight(v) -> float:
        return ranking.SYNONYM_WEIGHT if v.is_synonym else 1.0

    def phase1(pq):
        groups = [Q._any([Q._any([phase1_variant(v, t.phrase, weight(v)) for v in t.variants]) for t in g.terms])
                  for g in pq.groups]
        q = groups[0] if len(groups) == 1 else Query.boolean_query([(Occur.Must, g) for g in groups])
        excl = Q.excluded_query(schema, pq, stats)
        return q if excl is None else Query.boolean_query([(Occur.Must, q), (Occur.MustNot, excl)])

    def dropped_bound(pq) -> float:
        total = 0.0
        for g in pq.groups:
            for t in g.terms:
                for v in t.variants:
                    tokens = tuple(dict.fromkeys(v.streams.morph))
                    for field in ranking.LONG_FIELDS:
                        boost = ranking.FIELD_BOOSTS.get(field, 1.0) * weight(v) * ranking.MORPH_WEIGHT / max(1, len(tokens))
                        total += sum(boost * Q.idf(ts.doc_freq(morph_field(field), tok), ts.num_docs) * (BM25_K1 + 1)
                                     for tok in tokens)
        return total

    synonyms = default_synonyms(searcher.synonyms_file)
    print(f"{ts.num_docs} cases")
    print("| query | full ranked ms | phase 1 ms | bound | W=100: bound holds / top 20 equal | W=1000: bound holds / top 20 equal |")
    print("|---|---:|---:|---:|---|---|")
    for text in KEYWORD_QUERIES:
        pq = searcher._parse(text, synonyms, True)
        if pq.case_number is not None or pq.case_id or not pq.groups:
            continue
        full = backend._query(pq, Filters(), True)
        p1 = phase1(pq)
        want = backend._ids_of(ts.search(full, limit=20, count=False).hits)
        bound = dropped_bound(pq)
        cells = []
        for w in (100, 1000):
            r1 = ts.search(p1, limit=w, count=False)
            floor = r1.hits[-1][0] if len(r1.hits) == w else float("-inf")   # fewer than W matches: all re-scored
            r2 = ts.search(Q.full_query(schema, pq, Filters(), stats, ids=backend._ids_of(r1.hits)), limit=20, count=False)
            kth = r2.hits[-1][0] if r2.hits else 0.0
            cells.append(f"{'yes' if kth >= floor + bound else 'no'} / {'yes' if backend._ids_of(r2.hits) == want else 'no'}")
        print(f"| {text} | {cpu_ms(lambda: ts.search(full, limit=20, count=True), 3):.1f} | "
              f"{cpu_ms(lambda: ts.search(p1, limit=1000, count=True), 3):.1f} | {bound:.2f} | {cells[0]} | {cells[1]} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
