"""Abuse run: 8 connections send varied 1,000-character queries while a second client measures
ordinary keyword and hybrid queries (issue 14's per-request cost promise).

    .venv/bin/python bench/abuse.py [--seconds 120] [--abusers 8] [--mode hybrid] [--out docs/reliability]

The abusers cycle through random 1,000-character slices of the report text (a new query every time,
so no cache answers them), in the default mode (hybrid: embedding plus keyword, the costliest).
The measuring client sends one request at a time, alternating a judged keyword query and a judged
hybrid query. Reports both clients' status counts and latencies, and the slowest request of all.
Targets (exit 1 otherwise): measuring client keyword p95 < 50 ms, hybrid p95 < 500 ms, no request
over 2 s, no 5xx other than 503 busy (the documented refusal of long queries beyond the gate).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reliability_common as rc  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--abusers", type=int, default=8)
    ap.add_argument("--mode", default="hybrid", choices=["keyword", "semantic", "hybrid"])
    ap.add_argument("--out", default="docs/reliability")
    args = ap.parse_args(argv)

    import httpx
    text, queries = rc.corpus_text(), rc.queries()
    stop = threading.Event()
    lock = threading.Lock()
    abuse_status: Counter = Counter()
    abuse_lat: list[float] = []
    ordinary: dict[str, list[float]] = {"keyword": [], "hybrid": []}
    ordinary_status: Counter = Counter()
    load: list[float] = []

    with rc.server() as (base, pid):
        def abuser(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=60) as client:
                while not stop.is_set():
                    q = rc.long_query(rng, text)
                    started = time.perf_counter()
                    try:
                        status = client.get("/api/search", params={"q": q, "mode": args.mode}).status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    with lock:
                        abuse_status[status] += 1
                        abuse_lat.append(time.perf_counter() - started)

        def measurer() -> None:
            rng = random.Random(1000)
            with httpx.Client(base_url=base, timeout=60) as client:
                for mode in ("keyword", "hybrid"):   # warm both paths before measuring
                    client.get("/api/search", params={"q": queries[0], "mode": mode})
                i = 0
                while not stop.is_set():
                    mode = ("keyword", "hybrid")[i % 2]
                    i += 1
                    started = time.perf_counter()
                    status = client.get("/api/search", params={"q": rng.choice(queries), "mode": mode}).status_code
                    elapsed = time.perf_counter() - started
                    with lock:
                        ordinary_status[(mode, status)] += 1
                        if status == 200:
                            ordinary[mode].append(elapsed)

        threads = [threading.Thread(target=abuser, args=(i,), daemon=True) for i in range(args.abusers)]
        threads.append(threading.Thread(target=measurer, daemon=True))
        for t in threads:
            t.start()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            time.sleep(5)
            load.append(rc.memory(pid)["load1"])
        stop.set()
        for t in threads:
            t.join(timeout=120)

    def ms(v: float) -> float:
        return round(v * 1000, 1)

    slowest = max(abuse_lat + ordinary["keyword"] + ordinary["hybrid"])
    five = {str(k): v for k, v in abuse_status.items() if isinstance(k, int) and k >= 500 and k != 503}
    five.update({f"{m} {k}": v for (m, k), v in ordinary_status.items() if k >= 500})
    result = {
        "seconds": args.seconds, "abusers": args.abusers, "abuse_mode": args.mode,
        "abuse_statuses": {str(k): v for k, v in abuse_status.items()},
        "abuse_latency_ms": ({"p50": ms(rc.percentile(abuse_lat, 50)), "p95": ms(rc.percentile(abuse_lat, 95)),
                              "max": ms(max(abuse_lat))} if abuse_lat else None),   # --abusers 0: a baseline
        "ordinary_statuses": {f"{m} {k}": v for (m, k), v in ordinary_status.items()},
        "ordinary_latency_ms": {m: {"n": len(v), "p50": ms(rc.percentile(v, 50)), "p95": ms(rc.percentile(v, 95)),
                                    "max": ms(max(v))} for m, v in ordinary.items() if v},
        "slowest_request_ms": ms(slowest), "unexpected_5xx": five,
        "load1_range": [round(min(load), 2), round(max(load), 2)] if load else None,
    }
    kw, hy = result["ordinary_latency_ms"].get("keyword"), result["ordinary_latency_ms"].get("hybrid")
    result["ok"] = bool(kw and hy and kw["p95"] < 50 and hy["p95"] < 500 and slowest <= 2.0 and not five)
    Path(f"{args.out}-abuse.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
