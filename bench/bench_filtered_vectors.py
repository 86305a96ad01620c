"""A filtered semantic search's coarse stage on a large build (vectors read by row): the float
vectors of every allowed case read and scanned, against the approximate index with the filter
inside it (what `_exact_below` picks for such builds), CPU ms per search and the share of the
read scan's candidates the index returns.

    .venv/bin/python bench/bench_filtered_vectors.py --cases 1000000 [--queries 10]

Filters are random sets of cases (a ward or a department is spread over the ordinals the same
way); queries are case vectors plus a little noise (near their own case, as a real query is near
the cases it finds)."""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import index_dir  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=10)
    ap.add_argument("--allowed", type=int, nargs="+", default=[1000, 2500, 5000, 10000, 20000])
    args = ap.parse_args(argv)

    import numpy as np

    from engine import ranking
    from engine.embedded import layout
    from engine.embedded import vectors as V

    build = layout.current_build(index_dir(args.cases, True))
    meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    vi = V.VectorIndex.load(build / "vectors", int(meta["records"]), int(meta["dim"]))
    print(f"{len(vi)} cases, coarse stage {type(vi.coarse).__name__}, case vectors {type(vi.case_vectors).__name__}")
    rng = np.random.default_rng(1)
    n, k = len(vi), ranking.SEMANTIC_CANDIDATES
    queries = [vi.case_vectors[int(i)] + rng.normal(0, 0.02, vi.dim).astype(np.float32)
               for i in rng.integers(0, n, args.queries)]
    chosen = V._exact_below
    print("| allowed cases | read + scan CPU ms p50 | index + filter CPU ms p50 | candidates in common (min) |")
    print("|---:|---:|---:|---:|")
    for allowed in args.allowed:
        reads, index, common = [], [], []
        for q in queries:
            mask = np.zeros(n, dtype=bool)
            mask[rng.choice(n, allowed, replace=False)] = True
            V._exact_below = lambda _vectors: n           # every filter read and scanned
            t = time.process_time()
            exact = vi.coarse.candidates(q, k, mask)
            reads.append((time.process_time() - t) * 1000)
            V._exact_below = lambda _vectors: 0           # every filter through the index
            t = time.process_time()
            approx = vi.coarse.candidates(q, k, mask)
            index.append((time.process_time() - t) * 1000)
            common.append(len(set(exact.tolist()) & set(approx.tolist())) / max(1, len(exact)))
        V._exact_below = chosen
        print(f"| {allowed:,} | {statistics.median(reads):.1f} | {statistics.median(index):.1f} | {min(common):.3f} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
