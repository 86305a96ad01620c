"""The committed corpus/records are exactly what ingest produces now, ingest is deterministic, and
the provenance it records (report, ingest time, first_seen) survives re-ingests."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from council_search.cli import main
from ingest.models import CaseRecord

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "corpus" / "raw"
RECORDS_DIR = ROOT / "corpus" / "records"


EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def ingest_to(out_dir: Path, raw_dir: Path = RAW_DIR) -> dict[str, bytes]:
    assert main(["ingest", "--quiet", "--raw-dir", str(raw_dir), "--out-dir", str(out_dir)]) == 0
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())}


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def test_committed_records_are_fresh(tmp_path, capsys):
    # The committed records are the ledger of ingest times: re-ingesting over them changes nothing.
    committed = {p.name: p.read_bytes() for p in sorted(RECORDS_DIR.glob("*.jsonl"))}
    for name, data in committed.items():
        (tmp_path / name).write_bytes(data)
    fresh = ingest_to(tmp_path)
    assert fresh == committed, "corpus/records is stale: run `council-search ingest` and commit the result"


def test_records_carry_their_report_and_ingest_times():
    for line in (RECORDS_DIR / "shinjuku-privacy-council-2023.jsonl").read_text(encoding="utf-8").splitlines():
        r = CaseRecord.model_validate_json(line)
        assert r.source.report_title == "令和５年度新宿区個人情報保護管理運営会議における審議案件一覧"
        assert r.source.publisher == "新宿区"
        assert len(r.source.sha256) == 64 and r.source.ingested_at is not None and r.first_seen is not None
        assert r.source.ingested_at.tzinfo is not None and r.first_seen.tzinfo is not None
        assert 1 <= r.source.line_start <= r.source.line_end


def test_first_seen_is_kept_and_new_cases_get_the_ingest_time(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first = ingest_to(out)
    name = next(iter(first))
    # A later ingest of a changed report where one case is new (drop №51 from the ledger to
    # stand for a case the previous report did not have).
    lines = first[name].decode("utf-8").splitlines(keepends=True)
    (out / name).write_text("".join(lines[:50]), encoding="utf-8")
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    report = next(raw.rglob("*.txt"))
    report.write_bytes(report.read_bytes() + b"\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86400))
    second = [json.loads(line) for line in ingest_to(out, raw)[name].decode("utf-8").splitlines()]
    day0, day1 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
    assert [r["first_seen"] for r in second] == [day0] * 50 + [day1]
    assert {r["source"]["ingested_at"] for r in second} == {day1}  # the file changed: ingested again
    # Unchanged input: nothing moves, whatever the clock says.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 2 * 86400))
    again = [json.loads(line) for line in ingest_to(out, raw)[name].decode("utf-8").splitlines()]
    assert again == second


def test_a_broken_ledger_line_is_ignored(tmp_path, fixed_clock, capsys):
    out = tmp_path / "out"
    name = next(iter(ingest_to(out)))
    (out / name).write_text("not json\n[1]\n{\"id\": 3}\n", encoding="utf-8")
    records = [json.loads(line) for line in ingest_to(out)[name].decode("utf-8").splitlines()]
    assert len(records) == 51 and {r["first_seen"] for r in records} == {"2026-01-01T00:00:00Z"}


def test_bad_source_date_epoch_is_a_clean_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    assert main(["ingest", "--quiet", "--raw-dir", str(RAW_DIR), "--out-dir", str(tmp_path)]) == 1
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err


def test_records_validate_against_the_contract():
    lines = (RECORDS_DIR / "shinjuku-privacy-council-2023.jsonl").read_text(encoding="utf-8").splitlines()
    records = [CaseRecord.model_validate_json(line) for line in lines]
    assert [r.number for r in records] == list(range(1, 52))
    # One model_dump(mode="json") per line, non-ASCII kept as is.
    for line, record in zip(lines, records):
        assert json.loads(line) == record.model_dump(mode="json")
        assert "\\u" not in line


def test_byte_identical_across_runs_and_hash_seeds(tmp_path, fixed_clock, capsys):
    first = ingest_to(tmp_path / "a")
    second = ingest_to(tmp_path / "b")
    assert first == second
    # A separate interpreter with another hash seed (set/dict order must not leak into output).
    env = dict(os.environ, PYTHONHASHSEED="12345", SOURCE_DATE_EPOCH=EPOCH)
    code = (
        "import sys; from council_search.cli import main; "
        f"sys.exit(main(['ingest', '--quiet', '--raw-dir', {str(RAW_DIR)!r}, '--out-dir', {str(tmp_path / 'c')!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    third = {p.name: p.read_bytes() for p in sorted((tmp_path / "c").iterdir())}
    assert third == first
