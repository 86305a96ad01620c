"""Where a text-only build's CPU goes: per process and thread (`split`), and per analysis step in
one process (`steps`). CPU time, not wall time: on a shared machine wall time mostly measures
waiting for a core.

    .venv/bin/python bench/profile_indexing.py split --cases 10000    # a real build (workers + writer)
    .venv/bin/python bench/profile_indexing.py steps --cases 5000     # analysis only, one process

`split`: the build's `resource` figures (parent = build process incl. tantivy's writer threads,
workers = the analysis processes) and each parent thread's CPU from /proc/self/task, read just
before the writer's commit (tantivy's indexing threads end at the commit). `steps`: the first
`--cases` synthetic cases analysed and pickled in chunks of 64 in this process, cold caches after a
warm-up on other cases, with the CPU of each step's calls added up (`time.thread_time`; the
wrappers add ≈ 1 µs a call); steps nest (`analyse` contains the others but `pickle` and validation).
"""
from __future__ import annotations

import argparse
import collections
import itertools
import os
import pickle
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import OUT, corpus_dir  # noqa: E402


def _task_cpu() -> dict[int, tuple[str, float]]:
    """Thread id -> (name, CPU seconds) of this process's threads (Linux)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = (comm, (int(fields[11]) + int(fields[12])) / hz)
    return out


def split(cases: int) -> None:
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    records = corpus_dir(cases)
    data = OUT / "profile-indexing"
    shutil.rmtree(data, ignore_errors=True)
    seen: dict = {}
    commit = EmbeddedWriter.commit

    def commit_with_snapshot(self, info):
        seen["tasks"] = _task_cpu()
        seen["names"] = {t.native_id: t.name for t in threading.enumerate()}
        return commit(self, info)

    EmbeddedWriter.commit = commit_with_snapshot
    before = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    summary = build_index(records, EmbeddedWriter(data), None, None, progress=False)
    after = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    EmbeddedWriter.commit = commit
    n = summary.records
    parent, workers = ((b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) / n * 1e3 for a, b in zip(before, after))
    print(f"{n} cases in {summary.seconds:.1f} s, load {os.getloadavg()[0]:.2f}; ms of CPU per case: "
          f"total {parent + workers:.3f} = workers {workers:.3f} + parent {parent:.3f}")
    print("parent threads before the commit (ms of CPU per case):")
    for tid, (comm, cpu) in sorted(seen["tasks"].items()):
        if cpu / n * 1e3 >= 0.001:
            print(f"  {seen['names'].get(tid, comm):28s} {cpu / n * 1e3:.3f}")
    shutil.rmtree(data, ignore_errors=True)


def steps(cases: int) -> None:
    from analyzers import streams
    from indexer import prepare
    from indexer.build import _chunks, read_lines
    from ingest.models import CaseRecord

    records = corpus_dir(max(cases + 100, 10_000))
    lines = list(itertools.islice(read_lines(records), cases))
    prepare.analyse_lines(list(itertools.islice(read_lines(records), cases, cases + 100)))   # warm-up
    streams.clear_caches()
    cpu: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()

    def timed(owner, name: str, label: str) -> None:
        fn = getattr(owner, name)

        def wrapper(*args, **kwargs):
            t = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                cpu[label] += time.thread_time() - t
                calls[label] += 1
        setattr(owner, name, wrapper)

    timed(CaseRecord, "model_validate_json", "validation (pydantic)")
    timed(prepare, "analyse", "analyse (all fields)")
    timed(streams, "normalize", "  normalize")
    timed(streams, "_morph", "  morph stream")
    timed(streams, "_wakati", "    fugashi (distinct sentences)")
    timed(streams, "_filter", "    stop filter")
    timed(streams, "_bigram_text", "  bigram stream")
    started = time.thread_time()
    for chunk in _chunks(iter(lines), 64):
        result = prepare.analyse_lines(chunk)
        t = time.thread_time()
        pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        cpu["pickling the chunk"] += time.thread_time() - t
        calls["pickling the chunk"] += 1
    total = time.thread_time() - started
    print(f"{cases} cases, load {os.getloadavg()[0]:.2f}: {total / cases * 1e3:.3f} ms of CPU per case")
    for label in ("validation (pydantic)", "analyse (all fields)", "  normalize", "  morph stream",
                  "    fugashi (distinct sentences)", "    stop filter", "  bigram stream", "pickling the chunk"):
        print(f"  {label:34s} {cpu[label] / cases * 1e3:.3f} ms per case ({calls[label] / cases:.2f} calls)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("split", "steps"))
    ap.add_argument("--cases", type=int, default=None)
    args = ap.parse_args(argv)
    if args.what == "split":
        split(args.cases or 10_000)
    else:
        steps(args.cases or 5_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
