"""The committed corpus/records are exactly what ingest produces now, and ingest is deterministic."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from council_search.cli import main
from ingest.models import CaseRecord

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "corpus" / "raw"
RECORDS_DIR = ROOT / "corpus" / "records"


def ingest_to(out_dir: Path) -> dict[str, bytes]:
    assert main(["ingest", "--quiet", "--raw-dir", str(RAW_DIR), "--out-dir", str(out_dir)]) == 0
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir())}


def test_committed_records_are_fresh(tmp_path, capsys):
    fresh = ingest_to(tmp_path)
    committed = {p.name: p.read_bytes() for p in sorted(RECORDS_DIR.glob("*.jsonl"))}
    assert fresh == committed, "corpus/records is stale: run `council-search ingest` and commit the result"


def test_records_validate_against_the_contract():
    lines = (RECORDS_DIR / "shinjuku-privacy-council-2023.jsonl").read_text(encoding="utf-8").splitlines()
    records = [CaseRecord.model_validate_json(line) for line in lines]
    assert [r.number for r in records] == list(range(1, 52))
    # One model_dump(mode="json") per line, non-ASCII kept as is.
    for line, record in zip(lines, records):
        assert json.loads(line) == record.model_dump(mode="json")
        assert "\\u" not in line


def test_byte_identical_across_runs_and_hash_seeds(tmp_path, capsys):
    first = ingest_to(tmp_path / "a")
    second = ingest_to(tmp_path / "b")
    assert first == second
    # A separate interpreter with another hash seed (set/dict order must not leak into output).
    env = dict(os.environ, PYTHONHASHSEED="12345")
    code = (
        "import sys; from council_search.cli import main; "
        f"sys.exit(main(['ingest', '--quiet', '--raw-dir', {str(RAW_DIR)!r}, '--out-dir', {str(tmp_path / 'c')!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    third = {p.name: p.read_bytes() for p in sorted((tmp_path / "c").iterdir())}
    assert third == first
