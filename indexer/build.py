"""Build an index from corpus records: read (skipping invalid records), prepare, write atomically.

`build_from_settings` is the one entry point of `council-search index` and of `serve`'s first run;
the writer it picks (embedded or OpenSearch) is an engine's `contract.writer.IndexWriter`."""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from pydantic import ValidationError
from tqdm import tqdm

from analyzers import ANALYZER_VERSION
from contract import provenance
from contract.document import IndexDocument
from contract.writer import BuildError, BuildInfo, IndexWriter
from council_search.settings import Settings
from embeddings import get_embedder
from embeddings.base import Embedder
from embeddings.cache import EmbeddingCache
from engine.embedded.writer import EmbeddedWriter
from engine.opensearch.writer import OpenSearchWriter
from indexer.prepare import PassageEmbedder, analyse_lines, validation_message
from indexer.workers import OrderedWorkers
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
    """Read → analyse → embed → write. `workers`: analysis processes (default: one per CPU for
    large inputs, else 1, which analyses in this process; the code path is the same)."""
    records_dir = Path(records_dir)
    if not records_dir.is_dir():
        raise FileNotFoundError(f"records directory not found: {records_dir}")
    started = time.perf_counter()
    problems: list[Problem] = []
    passage_embedder = PassageEmbedder(embedder, cache)
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
    bar = tqdm(total=n_lines, unit="case", desc="indexing", file=sys.stderr) if show else None

    def batches(analysed: Iterable[list[tuple[str, IndexDocument | str]]]) -> Iterator[list[IndexDocument]]:
        """Analysed chunks → embedded documents; invalid lines and repeated ids become problems."""
        seen: set[str] = set()
        for results in analysed:
            docs = []
            for where, item in results:
                if isinstance(item, str):
                    problem = Problem(where, item)
                elif item.id in seen:
                    problem = Problem(where, f"duplicate id {item.id!r} (first occurrence kept)")
                else:
                    seen.add(item.id)
                    docs.append(item)
                    continue
                problems.append(problem)
                if on_problem:
                    on_problem(problem)
            yield passage_embedder.embed(docs)
            if bar:
                bar.update(len(results))

    chunks = _chunks(read_lines(records_dir), batch_size)
    pool = None
    try:
        if workers > 1:
            # fork before the writer starts its threads; children only run the analyzers
            pool = OrderedWorkers(analyse_lines, workers, in_flight=2)
            analysed = pool.map(chunks)
        else:
            analysed = map(analyse_lines, chunks)
        location = write_all(writer, info, _counting(batches(analysed), info, problems))
    finally:
        if pool is not None:
            pool.close()
        if bar:
            bar.close()
    embedded = (cache.misses - misses0) if cache else passage_embedder.passages
    cached = (cache.hits - hits0) if cache else 0
    return BuildSummary(records=info.records, passages=info.passages, skipped=len(problems),
                        seconds=time.perf_counter() - started, location=location,
                        embedded=embedded, cached=cached, problems=problems)


def write_all(writer: IndexWriter, info: BuildInfo, batches: Iterable[Sequence[IndexDocument]]) -> str:
    """open → add every batch → commit, aborting on any failure (then re-raising)."""
    writer.open(info)
    try:
        for batch in batches:
            if batch:
                writer.add(batch)
        return writer.commit(info)
    except BaseException:
        writer.abort()
        raise


def writer_for(settings: Settings) -> IndexWriter:
    """The configured backend's writer."""
    if settings.backend == "opensearch":
        return OpenSearchWriter.from_env()
    if settings.backend == "embedded":
        return EmbeddedWriter(settings.data_dir)
    raise ValueError(f"unknown backend {settings.backend!r} (embedded | opensearch)")


def build_from_settings(settings: Settings, *, records_dir: Path | None = None, use_cache: bool = True,
                        progress: bool | None = None, on_problem: Callable[[Problem], None] | None = None,
                        writer: IndexWriter | None = None) -> BuildSummary:
    """Build the configured backend's index (or `writer`'s) from `records_dir` (default:
    settings.records_dir) with the configured embedder (`none`: a text-only index). Raises
    EmbedderUnavailable, BuildError, BackendUnavailable or OSError; the previous index then keeps
    serving."""
    embedder = (None if settings.embedder.lower() == "none"
                else get_embedder(settings.embedder, settings.embedder_model_dir))
    cache = EmbeddingCache(settings.embedding_cache_path) if use_cache and embedder is not None else None
    try:
        return build_index(records_dir or settings.records_dir, writer or writer_for(settings), embedder, cache,
                           progress=progress, on_problem=on_problem)
    finally:
        if cache is not None:
            cache.close()


def ensure_index(settings: Settings, *, progress: bool | None = None) -> BuildSummary | None:
    """`serve`'s (and `search`'s) first run: build the configured backend's index from the corpus
    records if there is none (`make run` on a fresh clone, also against an empty OpenSearch). None
    when one exists: it is left alone (re-index with `council-search index`). Raises
    BackendUnavailable when OpenSearch cannot be reached."""
    writer = writer_for(settings)
    if writer.has_index():
        return None
    where = settings.data_dir if settings.backend == "embedded" else "OpenSearch"
    print(f"no {settings.backend} index ({where}); building it from {settings.records_dir} …", file=sys.stderr)
    summary = build_from_settings(settings, progress=progress, writer=writer,
                                  on_problem=lambda p: print(f"skipped {p}", file=sys.stderr))
    print(summary.line(), file=sys.stderr)
    return summary


def _chunks(items, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _counting(batches, info: BuildInfo, problems: list[Problem]):
    n = 0
    tally = provenance.ProvenanceTally()
    for batch in batches:
        n += len(batch)
        tally.add(doc.record for doc in batch)
        yield batch
    info.skipped = len(problems)
    info.extra[provenance.KEY] = tally.to_json()   # before commit(): stored with the build's metadata
    if n == 0:
        # never replace a serving index with an empty one
        raise BuildError(f"no valid records to index ({len(problems)} skipped)")
