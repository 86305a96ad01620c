"""Soak: mixed traffic at fixed concurrency against `council-search serve` in its own process, with
the server's memory sampled every 10 s (issue 14's memory promise).

    .venv/bin/python bench/soak.py [--minutes 10] [--concurrency 8] [--warmup 60] [--out docs/reliability]

Traffic (round-robin over the judged queries and the 51 cases): keyword and hybrid API searches,
the results page, the CSV export, the case page and similar cases. Samples: RSS, PSS and anonymous
memory (/proc/PID/smaps_rollup), the number of unidic dictionary mappings (/proc/PID/maps), threads,
and the 1-minute load average (the machine is shared). Writes <out>-soak.json and <out>-soak.svg
(hand-written SVG, no plotting library) and prints a summary. Exit status 1 when a target fails:
RSS after warm-up never above 1.3x its value at the end of warm-up, a constant dictionary mapping
count, no 5xx.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reliability_common as rc  # noqa: E402

SAMPLE_EVERY = 10.0


def request_mix(rng: random.Random, queries: list[str], ids: list[str]) -> tuple[str, str]:
    q = urllib.parse.quote(rng.choice(queries))
    case = rng.choice(ids)
    kind = rng.choice(["keyword", "hybrid", "page", "csv", "case", "similar"])
    return kind, {
        "keyword": f"/api/search?q={q}&mode=keyword",
        "hybrid": f"/api/search?q={q}",
        "page": f"/?q={q}",
        "csv": f"/api/search.csv?q={q}&mode=keyword",
        "case": f"/cases/{case}",
        "similar": f"/api/cases/{case}/similar",
    }[kind]


def run(args: argparse.Namespace) -> dict:
    import httpx
    queries, ids = rc.queries(), rc.case_ids()
    statuses: Counter = Counter()
    latencies: dict[str, list[float]] = {}
    lock = threading.Lock()
    samples: list[dict] = []
    stop = threading.Event()

    with rc.server() as (base, pid):
        def worker(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=60) as client:
                while not stop.is_set():
                    kind, path = request_mix(rng, queries, ids)
                    started = time.perf_counter()
                    try:
                        status = client.get(path).status_code
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    elapsed = time.perf_counter() - started
                    with lock:
                        statuses[status] += 1
                        latencies.setdefault(kind, []).append(elapsed)

        samples.append({"t": 0.0, **rc.memory(pid)})
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.concurrency)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        end = t0 + args.minutes * 60
        next_sample = t0 + SAMPLE_EVERY
        while time.monotonic() < end:
            time.sleep(max(0.0, min(next_sample, end) - time.monotonic()))
            with lock:
                done = sum(statuses.values())
            samples.append({"t": round(time.monotonic() - t0, 1), "requests": done, **rc.memory(pid)})
            next_sample += SAMPLE_EVERY
        stop.set()
        for t in threads:
            t.join(timeout=120)
        time.sleep(SAMPLE_EVERY)   # idle: does memory come back down?
        samples.append({"t": round(time.monotonic() - t0, 1), "idle": True, **rc.memory(pid)})

    result = {
        "minutes": args.minutes, "concurrency": args.concurrency, "warmup_s": args.warmup,
        "requests": sum(statuses.values()), "statuses": {str(k): v for k, v in statuses.items()},
        "latency_ms": {k: {"p50": round(rc.percentile(v, 50) * 1000, 1), "p95": round(rc.percentile(v, 95) * 1000, 1),
                           "max": round(max(v) * 1000, 1), "n": len(v)} for k, v in sorted(latencies.items())},
        "samples": samples,
    }
    return score(result)


def score(result: dict) -> dict:
    """The memory figures and the verdict, from the samples (also for a saved run: --rescore)."""
    samples, warmup = result["samples"], result["warmup_s"]
    after_warmup = [s for s in samples if s["t"] >= warmup and not s.get("idle")]
    base_rss = after_warmup[0]["rss"] if after_warmup else samples[0]["rss"]
    max_rss = max(s["rss"] for s in after_warmup) if after_warmup else base_rss
    statuses = result["statuses"]
    result.update({
        "requests_per_s": round(result["requests"] / (result["minutes"] * 60), 1),
        # 503 busy is the documented refusal beyond the admission gates; any other 5xx is a failure
        "busy_503": statuses.get("503", 0),
        "other_5xx": sum(v for k, v in statuses.items() if k.isdigit() and int(k) >= 500 and k != "503"),
        "rss_after_warmup_mb": round(base_rss, 1), "rss_max_after_warmup_mb": round(max_rss, 1),
        "rss_ratio": round(max_rss / base_rss, 3),
        "dict_mapping_counts_after_warmup": sorted({s["dict_maps"] for s in after_warmup}),
        "dict_mapping_counts_all": sorted({s["dict_maps"] for s in samples[1:]}),
        "threads": sorted({s["threads"] for s in samples[1:]}),
        "load1_range": [round(min(s["load1"] for s in samples), 2), round(max(s["load1"] for s in samples), 2)],
    })
    result.pop("server_errors", None)
    result.pop("dict_mapping_counts", None)
    result["ok"] = (result["rss_ratio"] <= 1.3 and len(result["dict_mapping_counts_after_warmup"]) == 1
                    and result["other_5xx"] == 0)
    return {k: v for k, v in result.items() if k != "samples"} | {"samples": samples}


def svg_chart(result: dict) -> str:
    """Two panels: memory (RSS, PSS, anonymous; MiB) and dictionary mappings, over time (s)."""
    samples = result["samples"]
    w, h, left, right, top, gap, panel2 = 760, 420, 60, 20, 30, 50, 90
    panel1 = h - top - gap - panel2 - 30
    tmax = max(s["t"] for s in samples) or 1
    mem_max = max(max(s["rss"], s["pss"], s["anonymous"]) for s in samples) * 1.1
    maps_max = max(max(s["dict_maps"] for s in samples) * 1.5, 4)

    def x(t: float) -> float:
        return left + (w - left - right) * t / tmax

    def y1(v: float) -> float:
        return top + panel1 - panel1 * v / mem_max

    y2_top = top + panel1 + gap

    def y2(v: float) -> float:
        return y2_top + panel2 - panel2 * v / maps_max

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           'font-family="sans-serif" font-size="11">', f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13">Soak: {result["minutes"]} min at concurrency '
           f'{result["concurrency"]}, {result["requests"]} requests, server memory every 10 s</text>']
    for frac in (0, 0.25, 0.5, 0.75, 1):
        v = mem_max * frac
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y1(v):.1f}" y2="{y1(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y1(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    out.append(f'<text x="12" y="{top + panel1 / 2}" transform="rotate(-90 12 {top + panel1 / 2})" '
               'text-anchor="middle">MiB</text>')
    warm = result["warmup_s"]
    out.append(f'<line x1="{x(warm):.1f}" x2="{x(warm):.1f}" y1="{top}" y2="{top + panel1}" stroke="#999" '
               'stroke-dasharray="4 3"/>')
    out.append(f'<text x="{x(warm) + 4:.1f}" y="{top + 12}" fill="#666">end of warm-up</text>')
    limit = result["rss_after_warmup_mb"] * 1.3
    out.append(f'<line x1="{x(warm):.1f}" x2="{w - right}" y1="{y1(limit):.1f}" y2="{y1(limit):.1f}" '
               'stroke="#c00" stroke-dasharray="2 2"/>')
    out.append(f'<text x="{w - right}" y="{y1(limit) - 4:.1f}" text-anchor="end" fill="#c00">1.3 × RSS after warm-up</text>')
    for key, colour in (("rss", "#1f77b4"), ("pss", "#2ca02c"), ("anonymous", "#ff7f0e")):
        points = " ".join(f"{x(s['t']):.1f},{y1(s[key]):.1f}" for s in samples)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
    for i, (label, colour) in enumerate((("RSS", "#1f77b4"), ("PSS", "#2ca02c"), ("anonymous", "#ff7f0e"))):
        out.append(f'<rect x="{left + 10 + i * 110}" y="{top + panel1 - 16}" width="12" height="3" fill="{colour}"/>')
        out.append(f'<text x="{left + 26 + i * 110}" y="{top + panel1 - 11}">{label}</text>')
    for v in (0, maps_max / 2, maps_max):
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{y2(v):.1f}" y2="{y2(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y2(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    points = " ".join(f"{x(s['t']):.1f},{y2(s['dict_maps']):.1f}" for s in samples)
    out.append(f'<polyline fill="none" stroke="#9467bd" stroke-width="2" points="{points}"/>')
    out.append(f'<text x="{left + 10}" y="{y2_top - 6}">unidic dictionary mappings</text>')
    for frac in (0, 0.25, 0.5, 0.75, 1):
        t = tmax * frac
        out.append(f'<text x="{x(t):.1f}" y="{h - 12}" text-anchor="middle">{t:.0f} s</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--warmup", type=float, default=60, help="seconds of traffic before the RSS baseline")
    ap.add_argument("--out", default="docs/reliability", help="path prefix of the JSON and SVG written")
    ap.add_argument("--rescore", type=Path, help="recompute figures and chart from a saved <out>-soak.json")
    args = ap.parse_args(argv)
    result = score(json.loads(args.rescore.read_text(encoding="utf-8"))) if args.rescore else run(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}-soak.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    Path(f"{out}-soak.svg").write_text(svg_chart(result), encoding="utf-8")
    summary = {k: v for k, v in result.items() if k != "samples"}
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
