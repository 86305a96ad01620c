"""Precedents from a draft: latency for 5,000-character drafts (target p95 <= 1 s on this machine).

    .venv/bin/python bench/bench_precedents.py [--drafts 20] [--chars 5000] [--data-dir var]

Each draft is 5,000 characters of sentences drawn from the corpus's 事業内容 in a new random order
(so no embedding is reused between drafts), sent through Searcher.precedents (what POST
/api/precedents runs, without HTTP): split, embed (at most engine.precedents.EMBED_BUDGET_CHARS),
k-NN per embedded passage, score, align the top 10. Prints p50/p95/max and the load average at the
start and end (2 shared cores: the wall time depends on what else runs) and the request's CPU
time (the embedding runs on one thread, so CPU time is close to the wall time on an idle core).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contract.backend import Filters  # noqa: E402
from council_search.settings import get_settings  # noqa: E402
from engine import precedents as P  # noqa: E402
from engine.loader import load_searcher  # noqa: E402


def drafts(records: list[dict], n: int, chars: int, seed: int = 11) -> list[str]:
    sentences = [s for r in records for s in re.findall(r"[^。\n]+。?", r.get("body") or "") if len(s) > 10]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        rng.shuffle(sentences)
        text, i = "", 0
        while len(text) < chars:
            text += sentences[i % len(sentences)] + ("\n" if rng.random() < 0.3 else "")
            i += 1
        out.append(text[:chars])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drafts", type=int, default=20)
    ap.add_argument("--chars", type=int, default=5000)
    args = ap.parse_args(argv)

    searcher = load_searcher(get_settings())
    records = list(searcher.backend.records())
    texts = drafts(records, args.drafts + 1, args.chars)
    load_start = os.getloadavg()[0]
    searcher.precedents(texts[0], Filters(), 10)            # warm-up: model and taggers loaded
    times, cpu, passages = [], [], 0
    for text in texts[1:]:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = searcher.precedents(text, Filters(), 10)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        passages = response.passages
    times.sort()
    cpu.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    cpu95 = cpu[min(len(cpu) - 1, int(0.95 * len(cpu)))]
    print(f"{len(times)} drafts of {args.chars:,} characters ({passages} passages, "
          f"{P.EMBED_BUDGET_CHARS:,} characters embedded), {len(records)} cases: "
          f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms, max {times[-1]:.0f} ms "
          f"(CPU time: p50 {statistics.median(cpu):.0f} ms, p95 {cpu95:.0f} ms); "
          f"load average {load_start:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
