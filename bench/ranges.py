"""Ranges over repeated benchmark runs: min–max of each figure across the JSON results of
`bench_search.py query --json` (or `build --json`), as the Markdown rows docs/benchmarks.md shows.

    .venv/bin/python bench/ranges.py bench/out/query-100000-*.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def rng(values: list[float], digits: int = 1) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.{digits}f}" if round(lo, digits) == round(hi, digits) else f"{lo:.{digits}f}–{hi:.{digits}f}"


def main(paths: list[str]) -> int:
    runs = [json.loads(Path(p).read_text(encoding="utf-8").strip().splitlines()[-1]) for p in paths]
    queries = [r for r in runs if r.get("step") == "query"]
    builds = [r for r in runs if r.get("step") == "build"]
    if queries:
        r0 = queries[0]
        print(f"{len(queries)} runs at {r0['cases']:,} cases; load average at the end of each run: "
              + ", ".join(str(r.get("load_avg_1m", "?")) for r in queries) + "\n")
        print("| scenario | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |\n|---|---:|---:|---:|---:|")
        for name in r0["scenarios"]:
            vals = [r["scenarios"][name] for r in queries]
            print(f"| {name} | {rng([v['p50_ms'] for v in vals])} | {rng([v['p95_ms'] for v in vals])} | "
                  f"{rng([v['cpu_p50_ms'] for v in vals])} | {rng([v['cpu_p95_ms'] for v in vals])} |")
        if r0.get("broad_queries"):
            print("\nBroad queries (p50 / max of the repetitions, ms):\n")
            names = list(next(iter(r0["broad_queries"].values())))
            print("| query | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names))
            for q in r0["broad_queries"]:
                cells = []
                for name in names:
                    vals = [r["broad_queries"][q][name] for r in queries]
                    cells.append(f"{rng([v['p50_ms'] for v in vals])} / {rng([v['max_ms'] for v in vals])}")
                print(f"| {q} | " + " | ".join(cells) + " |")
        rss = [r.get("rss", {}) for r in queries]
        print(f"\npeak RSS {rng([r['peak_rss_mb'] for r in queries], 0)} MB; at the end "
              f"{rng([x.get('RssAnon', 0) for x in rss], 0)} MB anonymous + {rng([x.get('RssFile', 0) for x in rss], 0)} MB mapped files")
    if builds:
        print("\n| cases | vectors | runs | seconds | cases/s | cases per CPU-second | load average | tantivy MB | total MB | peak RSS MB |\n"
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        b0 = builds[0]
        cpu = [b["cases_per_cpu_s"] for b in builds if "cases_per_cpu_s" in b]
        print(f"| {b0['cases']:,} | {'yes' if b0['vectors'] else 'text only'} | {len(builds)} | {rng([b['seconds'] for b in builds])} | "
              f"{rng([b['cases_per_s'] for b in builds])} | {rng(cpu) if cpu else '—'} | "
              f"{', '.join(str(b.get('load_avg_1m', '?')) for b in builds)} | {rng([b['size_mb']['tantivy'] for b in builds])} | "
              f"{rng([b['total_mb'] for b in builds])} | {rng([b['peak_rss_mb'] for b in builds], 0)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
