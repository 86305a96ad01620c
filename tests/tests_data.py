"""Small hand-made inputs shared by tests."""
from __future__ import annotations

import json
from pathlib import Path

RECORDS = Path(__file__).resolve().parent.parent / "corpus" / "records"


def a_record() -> dict:
    """The first corpus record as a plain dict (a valid CaseRecord)."""
    path = sorted(RECORDS.glob("*.jsonl"))[0]
    with path.open(encoding="utf-8") as f:
        return json.loads(f.readline())
