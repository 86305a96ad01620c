"""Time to ingest the seed report (parse + render JSONL + atomic write), single process.

    .venv/bin/python bench/bench_ingest.py [--repeat N] [--json]

Reports best and median wall time over N runs for: reading + parsing the report, rendering the
JSON Lines, and the whole `ingest_files` call (parse, render, write to a temp dir), plus the
one-off cost of a cold `council-search ingest` process and peak Python memory of one parse.
Target: the whole ingest well under a second.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.pipeline import ingest_files, parse_file, render_jsonl  # noqa: E402

RAW_DIR = ROOT / "corpus" / "raw"
SEED = RAW_DIR / "shinjuku" / "r05-kojin-joho-hogo-kanri-unei-kaigi.txt"


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    _m, records, _w = parse_file(SEED, RAW_DIR)
    results: dict[str, float | int] = {"lines": SEED.read_text(encoding="utf-8").count("\n"), "records": len(records)}

    best, med = timed(lambda: parse_file(SEED, RAW_DIR), args.repeat)
    results.update(parse_best_ms=best * 1e3, parse_median_ms=med * 1e3)
    best, med = timed(lambda: render_jsonl(records), args.repeat)
    results.update(render_best_ms=best * 1e3, render_median_ms=med * 1e3)
    with tempfile.TemporaryDirectory() as tmp:
        best, med = timed(lambda: ingest_files([SEED], RAW_DIR, Path(tmp)), args.repeat)
    results.update(ingest_best_ms=best * 1e3, ingest_median_ms=med * 1e3)

    tracemalloc.start()
    parse_file(SEED, RAW_DIR)
    results["parse_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(sys.executable).with_name("council-search")
        t0 = time.perf_counter()
        subprocess.run([str(exe), "ingest", "--quiet", "--raw-dir", str(RAW_DIR), "--out-dir", tmp], check=True, capture_output=True)
        results["cold_cli_ms"] = (time.perf_counter() - t0) * 1e3

    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"seed report: {results['lines']} lines → {results['records']} records")
        print(f"parse          best {results['parse_best_ms']:7.1f} ms   median {results['parse_median_ms']:7.1f} ms")
        print(f"render JSONL   best {results['render_best_ms']:7.1f} ms   median {results['render_median_ms']:7.1f} ms")
        print(f"ingest (all)   best {results['ingest_best_ms']:7.1f} ms   median {results['ingest_median_ms']:7.1f} ms")
        print(f"peak Python memory of one parse: {results['parse_peak_mib']:.1f} MiB")
        print(f"cold `council-search ingest` process (interpreter start + imports + ingest): {results['cold_cli_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
