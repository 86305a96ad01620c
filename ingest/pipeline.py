"""Raw report (+ sidecar manifest) → JSON Lines of CaseRecords, written atomically.

Provenance: every record names its report (title, publisher, file, sha256, line range) and carries
two times. `source.ingested_at` is when this version of the raw file was first ingested, and
`first_seen` is when ingest first produced the case. The previous output file is the ledger both
are read back from, so re-running ingest on unchanged input rewrites identical bytes, and a case
keeps its `first_seen` however often the report is re-ingested or the index rebuilt. The clock is
`SOURCE_DATE_EPOCH` when set (reproducible builds), else the current UTC time.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ingest.models import CaseRecord, ReportManifest
from ingest.parsers import ParseError, get_parser


@dataclass
class IngestResult:
    source: Path
    output: Path
    records: list[CaseRecord]
    warnings: list[str]


def manifest_path(raw_path: Path) -> Path:
    return raw_path.with_suffix(".json")


def load_manifest(raw_path: Path) -> ReportManifest:
    path = manifest_path(raw_path)
    if not path.is_file():
        raise ParseError(f"{raw_path}: no manifest {path.name} next to it")
    try:
        return ReportManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ParseError(f"{path}: invalid manifest ({'.'.join(map(str, first['loc']))}: {first['msg']})") from None


def read_report(raw_path: Path) -> str:
    try:
        return raw_path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{raw_path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def parse_file(raw_path: Path, raw_dir: Path) -> tuple[ReportManifest, list[CaseRecord], list[str]]:
    manifest = load_manifest(raw_path)
    text = read_report(raw_path)
    try:
        rel = raw_path.resolve().relative_to(raw_dir.resolve()).as_posix()
    except ValueError:
        rel = raw_path.name
    try:
        result = get_parser(manifest.format)(text, manifest, rel)
    except ParseError as exc:
        raise ParseError(f"{raw_path}: {exc}") from None
    return manifest, sorted(result.records, key=lambda r: r.number), result.warnings


def output_name(manifest: ReportManifest) -> str:
    return f"{manifest.municipality_slug}-{manifest.council_slug}-{manifest.fiscal_year}.jsonl"


def render_jsonl(records: list[CaseRecord]) -> str:
    return "".join(json.dumps(r.model_dump(mode="json"), ensure_ascii=False) + "\n" for r in records)


def write_atomic(path: Path, content: str) -> None:
    """Write via a temp file in the same directory + os.replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def ingest_time() -> dt.datetime:
    """Now in UTC to the second, or SOURCE_DATE_EPOCH when set (reproducible output)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise ParseError(f"SOURCE_DATE_EPOCH={epoch!r} is not a Unix time in seconds") from None
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclass
class Ledger:
    """What a previous ingest recorded in its output file: first_seen per case id, and when each
    version (sha256) of the raw file was first ingested."""

    first_seen: dict[str, dt.datetime]
    ingested: dict[str, dt.datetime]


def _when(value: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_ledger(output: Path) -> Ledger:
    """Tolerant: a missing file, or lines that are not records, just mean nothing was recorded."""
    ledger = Ledger({}, {})
    try:
        lines = output.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return ledger
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        seen = _when(data.get("first_seen"))
        if seen and isinstance(data.get("id"), str):
            ledger.first_seen.setdefault(data["id"], seen)
        source = data.get("source") if isinstance(data.get("source"), dict) else {}
        ingested = _when(source.get("ingested_at"))
        if ingested and isinstance(source.get("sha256"), str):
            ledger.ingested.setdefault(source["sha256"], ingested)
    return ledger


def with_provenance(records: list[CaseRecord], manifest: ReportManifest, sha256: str, ledger: Ledger,
                    now: dt.datetime) -> list[CaseRecord]:
    ingested_at = ledger.ingested.get(sha256, now)
    report = {"report_title": manifest.title, "publisher": manifest.publisher or manifest.municipality,
              "sha256": sha256, "ingested_at": ingested_at}
    return [r.model_copy(update={"source": r.source.model_copy(update=report),
                                 "first_seen": ledger.first_seen.get(r.id, now)})
            for r in records]


def ingest_files(paths: list[Path], raw_dir: Path, out_dir: Path) -> list[IngestResult]:
    """Parse every report first, then write: one bad input leaves every output untouched."""
    parsed = []
    outputs: set[Path] = set()
    now = ingest_time()
    for path in paths:
        if not path.is_file():
            raise ParseError(f"{path}: no such file")
        manifest, records, warnings = parse_file(path, raw_dir)
        out = out_dir / output_name(manifest)
        if out in outputs:
            raise ParseError(f"{path}: another report also writes {out.name} (same municipality, council and year)")
        outputs.add(out)
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        records = with_provenance(records, manifest, sha256, read_ledger(out), now)
        parsed.append(IngestResult(path, out, records, warnings))
    for result in parsed:
        write_atomic(result.output, render_jsonl(result.records))
    return parsed


def discover(raw_dir: Path) -> list[Path]:
    """Raw reports under raw_dir: every .txt with a sidecar manifest, in a stable order."""
    return sorted(p for p in raw_dir.rglob("*.txt") if manifest_path(p).is_file())
