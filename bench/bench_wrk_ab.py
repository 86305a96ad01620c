"""Before/after on one machine state: two `council-search serve` processes from two source trees
(e.g. `git archive main | tar -x -C /tmp/before` and the working tree), started once, then short wrk
runs (concurrency 1) that alternate between them for every endpoint and round (the order flips every
round), so load drifts hit both sides alike. For each run: requests/s and the server process's CPU
time per request (user + system from /proc); then ranges and the median CPU change per endpoint.

    .venv/bin/python bench/bench_wrk_ab.py BEFORE_TREE AFTER_TREE [--rounds 4] [--seconds 3]

Both servers open the same index (COUNCIL_SEARCH_DATA_DIR, default this tree's var/), with this
venv's Python; each tree's own code is imported (the server runs with the tree as its directory).
Same query and endpoints as bench/bench_wrk.py. Needs wrk (Debian: apt-get install wrk)."""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_wrk import ENDPOINTS, cpu_seconds  # noqa: E402


def start(tree: Path, data_dir: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, COUNCIL_SEARCH_DATA_DIR=data_dir, PYTHONPATH=str(tree))
    server = subprocess.Popen([sys.executable, "-m", "council_search.cli", "serve", "--no-index", "--port", str(port)],
                              cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while True:
        try:
            if urllib.request.urlopen(base + "/healthz", timeout=2).status == 200:
                break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError(f"server from {tree} did not start")
        time.sleep(0.3)
    for _, path, _ in ENDPOINTS:   # warm-up: model, caches
        for _ in range(20):
            urllib.request.urlopen(base + path, timeout=30).read()
    return server, base


def wrk_c1(url: str, seconds: int, pid: int) -> tuple[float, float]:
    before = cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), cpu * 1000 / max(1, total)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--data-dir", default=os.environ.get("COUNCIL_SEARCH_DATA_DIR", str(ROOT / "var")))
    args = ap.parse_args(argv)
    servers: dict[str, tuple[subprocess.Popen, str]] = {}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        for side in ("before", "after"):
            servers[side] = start(getattr(args, side).resolve(), args.data_dir)
        for r in range(args.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for name, path, _ in ENDPOINTS:
                for side in order:
                    server, base = servers[side]
                    rps, cpu = wrk_c1(base + path, args.seconds, server.pid)
                    results.setdefault((name, side), []).append((rps, cpu))
                    print(f"round {r + 1} | {name} | {side} | {rps:.1f} req/s | {cpu:.3f} ms CPU/request | "
                          f"load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        for server, _ in servers.values():
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:   # a slow graceful shutdown must not lose the table
                server.kill()
                server.wait()
    print("\n| endpoint (concurrency 1) | req/s before | req/s after | CPU ms/request before | after | median CPU |\n"
          "|---|---:|---:|---:|---:|---:|")
    for name, _, _ in ENDPOINTS:
        b, a = results[(name, "before")], results[(name, "after")]
        mb, ma = statistics.median(x[1] for x in b), statistics.median(x[1] for x in a)
        print(f"| {name} | {min(x[0] for x in b):.0f}–{max(x[0] for x in b):.0f} | "
              f"{min(x[0] for x in a):.0f}–{max(x[0] for x in a):.0f} | "
              f"{min(x[1] for x in b):.2f}–{max(x[1] for x in b):.2f} | {min(x[1] for x in a):.2f}–{max(x[1] for x in a):.2f} | "
              f"{mb:.2f} → {ma:.2f} ({100 * (ma / mb - 1):+.0f} %) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
