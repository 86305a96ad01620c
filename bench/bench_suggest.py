"""Search-box suggestions at scale: build time and lookup latency of engine.suggest.SuggestIndex.

    .venv/bin/python bench/bench_suggest.py [--cases 100000] [--lookups 5000]

Two vocabularies of N cases each:
- synth: bench/synth.py's corpus (real titles, 事業名 and contractors recombined; departments
  spread over ~60): the vocabulary of a corpus like ours, grown;
- distinct: every case gets its own 事業名 and contractor (real words plus a ward and a serial
  number), so the vocabulary has ~2N entries: the worst case for prefix ranges.
Lookups are what people type: 1-6 character prefixes of the vocabulary's own words, in kana and
width variants, plus misses. Latency is the in-process suggest() call (what /api/suggest adds to
the HTTP overhead), p50/p95/p99 over all lookups.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from engine.suggest import SuggestIndex, SuggestionKind, synonym_words  # noqa: E402
from synth import WARDS, generate  # noqa: E402


def distinct(records):
    for i, r in enumerate(records):
        ward = WARDS[i % len(WARDS)][0]
        r = dict(r)
        r["project_name"] = f"{ward}{r['project_name']}第{i}期"
        r["contractors"] = [f"株式会社{ward}情報サービス{i}"]
        yield r


def queries(index: SuggestIndex, n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = [e.text for e in index.entries]
    out = []
    for _ in range(n):
        t = texts[rng.randrange(len(texts))]
        start = rng.choice([0, 0, 0, rng.randrange(max(1, len(t) - 1))])
        q = t[start:start + rng.randint(1, 6)]
        roll = rng.random()
        if roll < 0.15:
            q = unicodedata.normalize("NFKC", q).translate({cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)})  # katakana -> hiragana
        elif roll < 0.25:
            q = q.translate({cp: cp + 0xFEE0 for cp in range(0x21, 0x7F)})   # ASCII -> full width
        elif roll < 0.3:
            q = "ん" + q                                                      # a miss
        out.append(q)
    return out


def measure(name: str, records, lookups: int) -> None:
    started = time.perf_counter()
    synonyms = [(w, SuggestionKind.synonym, 1) for w in synonym_words(
        (ROOT / "analyzers" / "data" / "synonyms.txt").read_text(encoding="utf-8"))]
    index = SuggestIndex.from_records(records, synonyms)
    build = time.perf_counter() - started
    qs = queries(index, lookups)
    for q in qs[:200]:
        index.suggest(q)       # warm-up
    times = []
    for q in qs:
        t = time.perf_counter()
        index.suggest(q, 10)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p = lambda x: times[min(len(times) - 1, int(x * len(times)))]  # noqa: E731
    print(f"{name}: {len(index):,} entries, built in {build:.1f} s; {len(times):,} lookups: "
          f"p50 {p(0.5):.3f} ms, p95 {p(0.95):.3f} ms, p99 {p(0.99):.3f} ms, max {times[-1]:.2f} ms, "
          f"mean {statistics.fmean(times):.3f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--lookups", type=int, default=5_000)
    args = ap.parse_args(argv)
    measure(f"synth {args.cases:,}", list(generate(args.cases)), args.lookups)
    measure(f"distinct {args.cases:,}", list(distinct(generate(args.cases))), args.lookups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
