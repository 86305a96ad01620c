"""Build an index from corpus records: read (skipping invalid records), prepare, write atomically."""
from __future__ import annotations

import collections
import datetime as dt
import functools
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from pydantic import ValidationError

from analyzers import ANALYZER_VERSION
from embeddings.base import Embedder
from embeddings.cache import EmbeddingCache
from indexer.prepare import Preparer, analyse_lines, validation_message
from indexer.writer import BuildInfo, IndexWriter, write_all
from ingest.models import CaseRecord

BATCH_SIZE = 64
# Analysis is CPU-bound Python: large builds fan it out to worker processes (the parent embeds and
# writes). Below this many records the pool's start-up costs more than it saves.
PARALLEL_MIN_RECORDS = 2000


@dataclass
class Problem:
    where: str      # file:line
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class BuildSummary:
    records: int
    passages: int
    skipped: int
    seconds: float
    location: str
    embedded: int = 0          # passages embedded by the model (not from the cache)
    cached: int = 0            # passages taken from the embedding cache
    problems: list[Problem] = field(default_factory=list)

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds > 0 else 0.0
        return (f"indexed {self.records} records ({self.passages} passages: {self.embedded} embedded, "
                f"{self.cached} from cache), skipped {self.skipped}, in {self.seconds:.1f} s "
                f"({rate:,.0f} records/s) -> {self.location}")


def read_records(records_dir: Path, problems: list[Problem]) -> Iterator[CaseRecord]:
    """Every valid CaseRecord under records_dir (*.jsonl, sorted); invalid lines and duplicate ids
    are reported in `problems` and skipped."""
    files = sorted(Path(records_dir).glob("*.jsonl"))
    seen: set[str] = set()
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path.name}:{lineno}"
                try:
                    record = CaseRecord.model_validate_json(line)
                except ValidationError as exc:
                    problems.append(Problem(where, validation_message(exc)))
                    continue
                if record.id in seen:
                    problems.append(Problem(where, f"duplicate id {record.id!r} (first occurrence kept)"))
                    continue
                seen.add(record.id)
                yield record


def read_lines(records_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(Path(records_dir).glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    yield f"{path.name}:{lineno}", line


def count_lines(records_dir: Path) -> int:
    total = 0
    for path in Path(records_dir).glob("*.jsonl"):
        with open(path, "rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


def build_index(records_dir: Path, writer: IndexWriter, embedder: Embedder | None = None,
                cache: EmbeddingCache | None = None, *, progress: bool | None = None,
                batch_size: int = BATCH_SIZE, on_problem: Callable[[Problem], None] | None = None,
                workers: int | None = None) -> BuildSummary:
    """`workers`: analysis processes (default: one per CPU for large inputs, else in-process)."""
    records_dir = Path(records_dir)
    if not records_dir.is_dir():
        raise FileNotFoundError(f"records directory not found: {records_dir}")
    started = time.perf_counter()
    problems: list[Problem] = []
    preparer = Preparer(embedder, cache)
    info = BuildInfo(
        built_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
        analyzer_version=str(ANALYZER_VERSION),
        embedder=embedder.name if embedder else None,
        embedder_version=embedder.version if embedder else None,
        dim=embedder.dim if embedder else None,
    )
    hits0, misses0 = (cache.hits, cache.misses) if cache else (0, 0)
    show = sys.stderr.isatty() if progress is None else progress
    n_lines = count_lines(records_dir)
    if workers is None:
        workers = (os.cpu_count() or 1) if n_lines >= PARALLEL_MIN_RECORDS else 1
    bar = None
    if show:
        from tqdm import tqdm
        bar = tqdm(total=n_lines, unit="case", desc="indexing", file=sys.stderr)

    def batches():
        batch: list[CaseRecord] = []
        reported = 0
        for record in read_records(records_dir, problems):
            while reported < len(problems):
                if on_problem:
                    on_problem(problems[reported])
                reported += 1
            batch.append(record)
            if len(batch) >= batch_size:
                yield preparer.prepare(batch)
                if bar:
                    bar.update(len(batch))
                batch = []
        if batch:
            yield preparer.prepare(batch)
            if bar:
                bar.update(len(batch))
        for problem in problems[reported:]:
            if on_problem:
                on_problem(problem)

    def parallel_batches(pool):
        seen: set[str] = set()
        reported = 0
        chunks = _chunks(read_lines(records_dir), batch_size)
        task = functools.partial(analyse_lines, embedder_version=preparer.embedder_version)
        for results in _bounded_map(pool, task, chunks, in_flight=2 * workers):
            docs = []
            for item in results:
                if isinstance(item, tuple):
                    problems.append(Problem(*item))
                elif item.id in seen:
                    problems.append(Problem(f"id {item.id}", "duplicate id (first occurrence kept)"))
                else:
                    seen.add(item.id)
                    docs.append(item)
            for problem in problems[reported:]:
                if on_problem:
                    on_problem(problem)
            reported = len(problems)
            yield preparer.embed(docs)
            if bar:
                bar.update(len(results))

    pool = None
    try:
        info.skipped = 0
        if workers > 1:
            # fork before the writer starts its threads; children only run the analyzers
            pool = multiprocessing.get_context("fork").Pool(workers)
            source = parallel_batches(pool)
        else:
            source = batches()
        location = write_all(writer, info, _counting(source, info, problems))
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if bar:
            bar.close()
    embedded = (cache.misses - misses0) if cache else preparer.passages
    cached = (cache.hits - hits0) if cache else 0
    return BuildSummary(records=info.records, passages=info.passages, skipped=len(problems),
                        seconds=time.perf_counter() - started, location=location,
                        embedded=embedded, cached=cached, problems=problems)


def _bounded_map(pool, fn, items, in_flight: int):
    """Ordered pool map with at most `in_flight` chunks queued or done-but-unconsumed (Pool.imap
    reads its whole input ahead and buffers every result: at 100k records that was ~0.6 GB)."""
    pending: collections.deque = collections.deque()
    for item in items:
        pending.append(pool.apply_async(fn, (item,)))
        if len(pending) >= in_flight:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class BuildError(RuntimeError):
    """The build was refused (nothing committed; the previous index keeps serving)."""


def _counting(batches, info: BuildInfo, problems: list[Problem]):
    n = 0
    for batch in batches:
        n += len(batch)
        yield batch
    info.skipped = len(problems)
    if n == 0:
        # never replace a serving index with an empty one
        raise BuildError(f"no valid records to index ({len(problems)} skipped)")
