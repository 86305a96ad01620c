"""`make bench`: every benchmark script, in sequence (each prints its own figures).

    .venv/bin/python bench/run_all.py [--quick]

--quick runs the search benchmarks at 10k cases only (a few minutes); the default also runs 100k
and rewrites the measured section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    steps = []
    for name in ("bench_ingest.py", "bench_analysis.py"):
        if (BENCH / name).is_file():
            steps.append([sys.executable, str(BENCH / name)])
    cases = ["10000"] if args.quick else ["10000", "100000"]
    steps.append([sys.executable, str(BENCH / "bench_search.py"), "all", "--cases", *cases]
                 + ([] if args.quick else ["--write-docs"]))
    status = 0
    for cmd in steps:
        print("$", " ".join(Path(c).name if i < 2 else c for i, c in enumerate(cmd)), flush=True)
        status |= subprocess.run(cmd).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
