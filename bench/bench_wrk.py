"""HTTP load on loopback with wrk (Debian: `apt-get install wrk`): `council-search serve` in its
own process on a random port, the configured index (the 51-case corpus), keep-alive connections.

    .venv/bin/python bench/bench_wrk.py [--runs 3] [--seconds 10] [--concurrency 1 8 32] [--no-varied]

For each endpoint and concurrency: requests/s, latency p50/p99, errors (non-2xx, socket errors)
and the server process's CPU time per request (user + system, from /proc), per run; then the same
query in-process (Searcher.search, p50 over 300 calls, and its CPU time) beside the HTTP p50 at
concurrency 1. wrk repeats one query, so the searcher's caches (parsed query, query embedding,
compiled engine query, facet counts, decoded records) answer every request after the first: the
"varied" rows send every judged query of eval-data once, hybrid JSON API at concurrency 1, to a
freshly started server per run (nothing cached: each pays its parse and query embedding), from a
Python keep-alive client (wrk cannot send a list once).
Prints JSON lines and a Markdown summary (ranges over the runs).
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, connections: int, seconds: int, pid: int | None = None) -> dict:
    before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run(["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before if pid else None
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50_ms": _ms(lat["50"]), "p99_ms": _ms(lat["99"]), "errors": errors, "requests": total,
            "server_cpu_ms_per_request": round(cpu * 1000 / total, 3) if cpu is not None and total else None}


def in_process(params: dict, n: int = 300) -> tuple[float, float]:
    """p50 wall ms and mean CPU ms (every thread of this process) of Searcher.search."""
    from council_search.settings import Settings
    from engine.loader import load_searcher
    searcher = load_searcher(Settings())
    p = searcher.params(**params)
    for _ in range(20):
        searcher.search(p)
    times = []
    cpu = time.process_time()
    for _ in range(n):
        t = time.perf_counter()
        searcher.search(p)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), (time.process_time() - cpu) * 1000 / n


def once_each(base: str, paths: list[str], pid: int) -> dict:
    """Each path once, in order, on one keep-alive connection (wrk cannot stop after a list: a
    Python client, ~0.1 ms of its own per request, is used for this row)."""
    import http.client
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    before, started, times, errors = cpu_seconds(pid), time.perf_counter(), [], 0
    for path in paths:
        t = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        times.append((time.perf_counter() - t) * 1000)
        errors += response.status >= 400
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - before
    conn.close()
    times.sort()
    return {"rps": round(len(paths) / elapsed, 2), "p50_ms": round(statistics.median(times), 2),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2), "errors": errors,
            "requests": len(paths), "server_cpu_ms_per_request": round(cpu * 1000 / len(paths), 3)}


def judged_queries() -> list[str]:
    """Every distinct query text of the judged sets (eval-data), in file order."""
    import yaml
    texts: list[str] = []
    for name in ("queries.yaml", "no_answer.yaml"):
        data = yaml.safe_load((ROOT / "eval-data" / name).read_text(encoding="utf-8"))
        for entry in data.get("queries", []):
            text = entry.get("text")
            if text and text not in texts:
                texts.append(text)
    return texts


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "council_search.cli", "serve", "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while True:
        try:
            if urllib.request.urlopen(base + "/healthz", timeout=2).status == 200:
                return server, base
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.3)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=20)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--no-varied", dest="varied", action="store_false",
                    help="skip the varied-query (uncached) hybrid runs")
    args = ap.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    try:
        server, base = start_server()
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    rows: dict[tuple[str, int], list[dict]] = {}
    try:
        for name, path, _ in ENDPOINTS:   # warm-up: model, page cache, query-vector cache
            for _ in range(5):
                urllib.request.urlopen(base + path, timeout=30).read()
        for run in range(args.runs):
            for name, path, _ in ENDPOINTS:
                for c in args.concurrency:
                    r = {"run": run + 1, "endpoint": name, "concurrency": c, "load_avg_1m": round(os.getloadavg()[0], 2),
                         **wrk(base + path, c, args.seconds, pid=server.pid)}
                    rows.setdefault((name, c), []).append(r)
                    print(json.dumps(r, ensure_ascii=False), flush=True)
    finally:
        stop_server(server)
    varied_name = "JSON API, hybrid (default), varied queries (uncached)"
    if args.varied:
        paths = [f"/api/search?q={urllib.parse.quote(q)}" for q in judged_queries()]
        for run in range(args.runs):
            server, base = start_server()   # fresh: no query parsed or embedded yet
            try:
                # one hybrid query that is not in the list: the embedder is loaded before the clock starts
                urllib.request.urlopen(base + "/api/search?q=" + urllib.parse.quote("起動確認"), timeout=60).read()
                r = {"run": run + 1, "endpoint": varied_name, "concurrency": 1, "load_avg_1m": round(os.getloadavg()[0], 2),
                     **once_each(base, paths, server.pid)}
            finally:
                stop_server(server)
            rows.setdefault((varied_name, 1), []).append(r)
            print(json.dumps(r, ensure_ascii=False), flush=True)
    inproc = {name: in_process(params) for name, _, params in ENDPOINTS if params}
    print(json.dumps({"in_process_p50_ms": {k: v[0] for k, v in inproc.items()},
                      "in_process_cpu_ms": {k: round(v[1], 3) for k, v in inproc.items()}}, ensure_ascii=False))

    def rng(vals, fmt="{:.0f}"):
        lo, hi = min(vals), max(vals)
        return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"
    print("\n| endpoint | concurrency | requests/s | p50 ms | p99 ms | server CPU ms/request | errors |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for (name, c), rs in rows.items():
        print(f"| {name} | {c} | {rng([r['rps'] for r in rs])} | {rng([r['p50_ms'] for r in rs], '{:.2f}')} | "
              f"{rng([r['p99_ms'] for r in rs], '{:.1f}')} | {rng([r['server_cpu_ms_per_request'] for r in rs], '{:.2f}')} | "
              f"{sum(r['errors'] for r in rs)} |")
    loads = [r["load_avg_1m"] for rs in rows.values() for r in rs]
    print(f"\nload average (1 min) during the runs: {min(loads):.1f}–{max(loads):.1f}")
    for name, (ms, cpu) in inproc.items():
        http = [r["p50_ms"] for r in rows[(name, 1)]]
        print(f"\n{name}: in-process p50 {ms:.2f} ms (CPU {cpu:.2f} ms), over HTTP (concurrency 1) p50 "
              f"{rng(http, '{:.2f}')} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
