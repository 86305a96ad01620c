"""`EmbeddedWriter`: builds a complete index in a fresh build directory, then switches CURRENT.

Everything is written into `builds/<new>/`; only `commit()` makes it visible (one os.replace).
`abort()` deletes the partial directory; a process killed mid-build leaves a directory without
meta.json, which readers never select and the next build's cleanup removes.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Sequence

import numpy as np
import tantivy

from contract.backend import FACETS
from contract.document import TEXT_FIELDS, IndexDocument
from contract.writer import BuildInfo
from engine import ranking
from engine.embedded import layout
from engine.embedded.vectors import IVF_FILE, build_ivf
from engine.embedded.schema import (
    ALL_BIGRAMS, FIELD_GAP, SCHEMA_VERSION, bigram_field, build_schema, facet_field, morph_field,
)

WRITER_HEAP = 256_000_000
# One indexing thread: with tantivy's default (one per core, 2 here) its threads used ≈ 0.1 ms more
# CPU per case in a 10k-case build (0.55-0.60 -> 0.45-0.49 ms, docs/benchmarks.md "Indexing"), and
# the analysis workers keep both cores busy anyway. One thread also writes the documents in `ord`
# order into fewer segments.
WRITER_THREADS = 1


def _as_datetime(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


class EmbeddedWriter:
    name = "embedded"

    def __init__(self, data_dir: Path, *, heap_size: int = WRITER_HEAP, threads: int = WRITER_THREADS):
        self.data_dir = Path(data_dir)
        self.heap_size = heap_size
        self.threads = threads
        self.build_dir: Path | None = None
        self._committed = False

    def has_index(self) -> bool:
        """A current build this code can read (one from an older schema counts as none: it is
        rebuilt rather than failing on its first query)."""
        try:
            build = layout.current_build(self.data_dir)
            meta = json.loads((build / "meta.json").read_text(encoding="utf-8"))
        except (layout.IndexMissing, OSError, ValueError):
            return False
        return meta.get("schema_version") == SCHEMA_VERSION

    # -- protocol ------------------------------------------------------------------------
    def open(self, info: BuildInfo) -> None:
        self.build_dir = layout.new_build_dir(self.data_dir)
        (self.build_dir / "tantivy").mkdir()
        (self.build_dir / "vectors").mkdir()
        self._schema = build_schema()
        self._index = tantivy.Index(self._schema, path=str(self.build_dir / "tantivy"))
        self._writer = self._index.writer(heap_size=self.heap_size, num_threads=self.threads)
        self._records = open(self.build_dir / "records.jsonl", "wb")
        self._offsets: list[int] = [0]
        self._ids: list[str] = []
        self._numbers: list[int] = []
        self._project_keys: list[str] = []
        self._dates: list[str] = []
        self._facets: dict[str, dict[str, list[int]]] = {name: {} for name in FACETS}
        self._dim = info.dim
        self._vec_dir = self.build_dir / "vectors"
        self._passages = open(self._vec_dir / "passages.f32", "wb") if info.dim else None
        # raw little-endian float32 rows, memory-mapped by the reader (shape from passage_start + dim)
        self._case_file = open(self._vec_dir / "case.f32", "wb") if info.dim else None
        self._passage_start: list[int] = [0]
        self._seen: set[str] = set()

    def add(self, docs: Sequence[IndexDocument]) -> None:
        assert self.build_dir is not None, "open() first"
        for doc in docs:
            if doc.id in self._seen:
                raise ValueError(f"duplicate case id {doc.id!r} in one build")
            self._seen.add(doc.id)
            ordinal = len(self._ids)
            tdoc = tantivy.Document()
            tdoc.add_text("id", doc.id)
            tdoc.add_unsigned("ord", ordinal)
            tdoc.add_unsigned("number", int(doc.number))
            if doc.project_key:
                tdoc.add_text("project_key", doc.project_key)
            all_bigrams: list[str] = []
            long_fields = ranking.LONG_FIELDS
            for name in TEXT_FIELDS:
                field = doc.tokens.get(name)
                if field is None:
                    continue
                if field.morph:     # space-joined tokens: tantivy's whitespace tokenizer splits them back
                    tdoc.add_text(morph_field(name), field.morph)
                if field.bigram:
                    if name not in long_fields:
                        tdoc.add_text(bigram_field(name), field.bigram)
                    all_bigrams.append(field.bigram)
            if all_bigrams:
                tdoc.add_text(ALL_BIGRAMS, FIELD_GAP.join(all_bigrams))
            for name in FACETS:
                for value in doc.facets.get(name, ()):
                    tdoc.add_text(facet_field(name), value)
                    self._facets[name].setdefault(value, []).append(ordinal)
            tdoc.add_date("meeting_date", _as_datetime(doc.meeting_date))
            self._writer.add_document(tdoc)

            line = json.dumps(doc.record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            self._records.write(line)
            self._offsets.append(self._offsets[-1] + len(line))
            self._ids.append(doc.id)
            self._numbers.append(int(doc.number))
            self._project_keys.append(doc.project_key)
            self._dates.append(doc.meeting_date.isoformat())

            if self._passages is not None:
                if doc.passage_vectors is None or doc.case_vector is None:
                    raise ValueError(f"{doc.id}: this build has embeddings but the document has none")
                pv = np.ascontiguousarray(doc.passage_vectors, dtype=np.float32)
                if pv.ndim != 2 or pv.shape[1] != self._dim or pv.shape[0] == 0:
                    raise ValueError(f"{doc.id}: passage vectors of shape {pv.shape}, expected (n>0, {self._dim})")
                self._passages.write(pv.tobytes())
                self._passage_start.append(self._passage_start[-1] + pv.shape[0])
                cv = np.ascontiguousarray(doc.case_vector, dtype=np.float32).reshape(self._dim)
                self._case_file.write(cv.tobytes())

    def commit(self, info: BuildInfo) -> str:
        assert self.build_dir is not None, "open() first"
        build = self.build_dir
        self._writer.commit()
        self._writer.wait_merging_threads()
        self._records.close()
        np.save(build / "records.offsets.npy", np.asarray(self._offsets, dtype=np.int64))
        _write_json(build / "cases.json", {
            "ids": self._ids, "numbers": self._numbers, "project_keys": self._project_keys,
            "meeting_dates": self._dates,
        })
        _write_json(build / "facets.json", self._facets)
        passages = 0
        if self._passages is not None:
            self._passages.close()
            passages = self._passage_start[-1]
            self._case_file.close()
            np.save(self._vec_dir / "passage_start.npy", np.asarray(self._passage_start, dtype=np.int64))
            if len(self._ids) >= ranking.ANN_MIN_CASES:
                case = np.memmap(self._vec_dir / "case.f32", dtype=np.float32, mode="r",
                                 shape=(len(self._ids), self._dim))
                build_ivf(case, self._vec_dir / IVF_FILE)
                del case
        info.records = len(self._ids)
        info.passages = passages
        meta = {"layout_version": layout.LAYOUT_VERSION, "schema_version": SCHEMA_VERSION, **info.to_json()}
        # meta.json last: its presence marks the build complete
        _write_json(build / "meta.json", meta)
        _fsync_tree(build)
        layout.switch_current(self.data_dir, build)
        self._committed = True
        layout.cleanup_builds(self.data_dir)
        return str(build)

    def abort(self) -> None:
        if self.build_dir is None or self._committed:
            return
        for handle in (getattr(self, "_records", None), getattr(self, "_passages", None),
                       getattr(self, "_case_file", None)):
            try:
                if handle is not None:
                    handle.close()
            except OSError:
                pass
        try:
            self._writer.rollback()
        except Exception:  # the writer may already be unusable; the directory goes anyway
            pass
        self._writer = None
        self._index = None
        shutil.rmtree(self.build_dir, ignore_errors=True)
        self.build_dir = None


def _write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_tree(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
