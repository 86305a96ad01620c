"""HTTP load on loopback with wrk (Debian: `apt-get install wrk`): `council-search serve` in its
own process on a random port, the configured index (the 51-case corpus), keep-alive connections.

    .venv/bin/python bench/bench_wrk.py [--runs 3] [--seconds 10] [--concurrency 1 8 32]

For each endpoint and concurrency: requests/s, latency p50/p99 and errors (non-2xx, socket
errors), per run; then the same query in-process (Searcher.search, p50 over 300 calls) beside the
HTTP p50 at concurrency 1. Prints JSON lines and a Markdown summary (ranges over the runs).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERY = "ガバメントクラウド 再委託"
Q = urllib.parse.quote(QUERY)
ENDPOINTS = [
    ("JSON API, keyword", f"/api/search?q={Q}&mode=keyword", {"q": QUERY, "mode": "keyword"}),
    ("JSON API, hybrid (default)", f"/api/search?q={Q}", {"q": QUERY}),
    ("page, keyword", f"/?q={Q}&mode=keyword", None),
    ("page, hybrid (default)", f"/?q={Q}", None),
]


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(url: str, connections: int, seconds: int) -> dict:
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": _ms(lat["50"]), "p99_ms": _ms(lat["99"]), "errors": errors, "requests": total}


def in_process(params: dict, n: int = 300) -> float:
    from council_search.settings import Settings
    from engine.loader import load_searcher
    searcher = load_searcher(Settings())
    p = searcher.params(**params)
    for _ in range(20):
        searcher.search(p)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        searcher.search(p)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "council_search.cli", "serve", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rows: dict[tuple[str, int], list[dict]] = {}
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if urllib.request.urlopen(base + "/healthz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("server did not start", file=sys.stderr)
                return 1
            time.sleep(0.3)
        for name, path, _ in ENDPOINTS:   # warm-up: model, page cache, query-vector cache
            for _ in range(5):
                urllib.request.urlopen(base + path, timeout=30).read()
        for run in range(args.runs):
            for name, path, _ in ENDPOINTS:
                for c in args.concurrency:
                    r = {"run": run + 1, "endpoint": name, "concurrency": c, "load_avg_1m": round(os.getloadavg()[0], 2),
                         **wrk(base + path, c, args.seconds)}
                    rows.setdefault((name, c), []).append(r)
                    print(json.dumps(r, ensure_ascii=False), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=20)
    inproc = {name: in_process(params) for name, _, params in ENDPOINTS if params}
    print(json.dumps({"in_process_p50_ms": inproc}, ensure_ascii=False))

    def rng(vals, fmt="{:.0f}"):
        lo, hi = min(vals), max(vals)
        return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"
    print(f"\n| endpoint | concurrency | requests/s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|---:|")
    for (name, c), rs in rows.items():
        print(f"| {name} | {c} | {rng([r['rps'] for r in rs])} | {rng([r['p50_ms'] for r in rs], '{:.2f}')} | "
              f"{rng([r['p99_ms'] for r in rs], '{:.1f}')} | {sum(r['errors'] for r in rs)} |")
    for name, ms in inproc.items():
        http = [r["p50_ms"] for r in rows[(name, 1)]]
        print(f"\n{name}: in-process p50 {ms:.2f} ms, over HTTP (concurrency 1) p50 {rng(http, '{:.2f}')} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
