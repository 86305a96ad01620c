"""End-to-end HTTP latency of the service (`council-search serve` in its own process, real index,
keep-alive client):

    .venv/bin/python bench/bench_http.py [--n 100]

Measures what a user or API client waits for, including query analysis, embedding, fusion,
highlighting, JSON serialisation and page rendering. The server uses the configured index (building
it if missing). Prints a Markdown table for docs/api.md."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reliability_common as rc  # noqa: E402  (starts `council-search serve` on a free port, waits for it)

QUERY = urllib.parse.quote("ガバメントクラウド 再委託")
CASES = [
    ("API keyword", f"/api/search?q={QUERY}&mode=keyword"),
    ("API hybrid (default)", f"/api/search?q={QUERY}"),
    ("API semantic", f"/api/search?q={QUERY}&mode=semantic"),
    ("API facets only (empty q, 2 filters)",
     "/api/search?department=%E6%88%B8%E7%B1%8D%E4%BD%8F%E6%B0%91%E8%AA%B2&category=%E6%A5%AD%E5%8B%99%E5%A7%94%E8%A8%97"),
    ("API case", "/api/cases/shinjuku-privacy-council-2023-003"),
    ("API similar", "/api/cases/shinjuku-privacy-council-2023-003/similar"),
    ("CSV (whole result set)", f"/api/search.csv?q={QUERY}"),
    ("page: results (hybrid)", f"/?q={QUERY}"),
    ("page: case (+ similar, timeline)", "/cases/shinjuku-privacy-council-2023-003"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="requests per endpoint (after 3 warm-up requests)")
    args = parser.parse_args(argv)

    with rc.server() as (base, _pid), httpx.Client(base_url=base, timeout=30) as client:
        print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)", file=sys.stderr)
        print("| request | p50 ms | p95 ms | bytes |\n| --- | ---: | ---: | ---: |")
        for name, path in CASES:
            for _ in range(3):
                client.get(path).raise_for_status()
            times = []
            for _ in range(args.n):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            times.sort()
            p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
            print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {len(response.content)} |")
        print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
