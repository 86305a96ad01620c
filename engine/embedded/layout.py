"""On-disk layout of the embedded index and the atomic pointer switch.

    <data_dir>/index/
        CURRENT                    "builds/<build-name>" — replaced with os.replace (atomic)
        builds/<build-name>/
            meta.json              BuildInfo + layout version
            tantivy/               text fields, facet keywords, dates (engine.embedded.schema)
            cases.json             per-case columns by ordinal: id, number, project_key, meeting_date
            records.jsonl          stored display records, one per line, by ordinal
            records.offsets.npy    byte offset of each line (n+1,)
            facets.json            facet value -> ordinals (numpy filter masks for kNN)
            vectors/               case.f32 (n, dim), passages.f32 (m, dim) raw float32; passage_start.npy (n+1,)

A build directory is complete before CURRENT names it; readers resolve CURRENT once at load time,
so a crash mid-build leaves them on the previous build.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

LAYOUT_VERSION = 1
KEEP_BUILDS = 2   # the current build and one previous (readers still holding it keep working)


class IndexMissing(FileNotFoundError):
    """No committed embedded index at this location."""


def index_root(data_dir: Path) -> Path:
    return Path(data_dir) / "index"


def new_build_dir(data_dir: Path) -> Path:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = index_root(data_dir) / "builds" / f"{stamp}-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    return path


def current_build(data_dir: Path) -> Path:
    root = index_root(data_dir)
    pointer = root / "CURRENT"
    try:
        rel = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissing(f"no index at {root} (run `council-search index`)") from None
    path = root / rel
    if not (path / "meta.json").is_file():
        raise IndexMissing(f"index pointer {pointer} names an incomplete build {path}")
    return path


def switch_current(data_dir: Path, build_dir: Path) -> None:
    """Point CURRENT at `build_dir` atomically (write a temp file, fsync, os.replace)."""
    root = index_root(data_dir)
    rel = build_dir.resolve().relative_to(root.resolve())
    tmp = root / f".CURRENT.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(str(rel) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / "CURRENT")
    _fsync_dir(root)


def cleanup_builds(data_dir: Path, keep: int = KEEP_BUILDS) -> list[Path]:
    """Remove old and abandoned builds, keeping the current one and the `keep - 1` newest others."""
    root = index_root(data_dir)
    builds = root / "builds"
    if not builds.is_dir():
        return []
    try:
        current = current_build(data_dir).resolve()
    except IndexMissing:
        current = None
    others = sorted((p for p in builds.iterdir() if p.is_dir() and p.resolve() != current), reverse=True)
    # abandoned (never completed) builds always go; completed ones beyond `keep` go
    completed = [p for p in others if (p / "meta.json").is_file()]
    removed = [p for p in others if p not in completed[: max(0, keep - 1)]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    for tmp in root.glob(".CURRENT.*.tmp"):
        tmp.unlink(missing_ok=True)
    return removed


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
