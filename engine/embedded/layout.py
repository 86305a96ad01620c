"""On-disk layout of the embedded index and the atomic pointer switch.

    <data_dir>/index/
        CURRENT                    "builds/<current>\nbuilds/<previous>" — replaced with os.replace (atomic)
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

"Previous" is the build that was serving before the current one, and CURRENT itself records it
(second line), written in the same atomic replace that publishes the new build. So there is no
moment at which a crash can make a build "previous" that never served: a build completed (meta.json
written) but killed before the switch is not named by CURRENT and is removed by the next cleanup.
(Before, "previous" meant "the newest other complete build", and such a never-published build then
displaced the one that had really been serving, which cleanup deleted.)
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

LAYOUT_VERSION = 1
KEEP_BUILDS = 2   # the current build and the previous one (readers still holding it keep working)


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
    lines = _pointer_lines(data_dir)
    if not lines:
        raise IndexMissing(f"no index at {root} (run `council-search index`)")
    path = root / lines[0]
    if not (path / "meta.json").is_file():
        raise IndexMissing(f"index pointer {pointer} names an incomplete build {path}")
    return path


def _pointer_lines(data_dir: Path) -> list[str]:
    try:
        text = (index_root(data_dir) / "CURRENT").read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def previous_build(data_dir: Path) -> Path | None:
    """The build that was serving before the current one (the rollback target), if it still exists."""
    lines = _pointer_lines(data_dir)
    if len(lines) < 2:
        return None
    path = index_root(data_dir) / lines[1]
    return path if (path / "meta.json").is_file() else None


def switch_current(data_dir: Path, build_dir: Path) -> None:
    """Point CURRENT at `build_dir` and record the build it replaces as previous, in one atomic step
    (write a temp file, fsync, os.replace)."""
    root = index_root(data_dir)
    rel = build_dir.resolve().relative_to(root.resolve())
    lines = _pointer_lines(data_dir)
    serving = lines[0] if lines and (root / lines[0] / "meta.json").is_file() else None
    previous = serving if serving and serving != str(rel) else (lines[1] if len(lines) > 1 else None)
    tmp = root / f".CURRENT.{uuid.uuid4().hex}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(str(rel) + "\n" + (previous + "\n" if previous else ""))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / "CURRENT")
    _fsync_dir(root)


def cleanup_builds(data_dir: Path, keep: int = KEEP_BUILDS) -> list[Path]:
    """Remove every build but the current one and (with keep >= 2) the previous one as CURRENT
    records it: abandoned builds (no meta.json) and completed builds that were never published
    (killed between meta.json and the switch) go."""
    root = index_root(data_dir)
    builds = root / "builds"
    if not builds.is_dir():
        return []
    kept: set[Path] = set()
    try:
        kept.add(current_build(data_dir).resolve())
    except IndexMissing:
        pass
    previous = previous_build(data_dir)
    if previous is not None and keep >= 2:
        kept.add(previous.resolve())
    removed = [p for p in sorted(builds.iterdir()) if p.is_dir() and p.resolve() not in kept]
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
