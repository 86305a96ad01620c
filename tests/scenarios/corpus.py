"""The real corpus as IndexDocuments, for the backend tests.

Uses the indexer's own document builder, so OpenSearch receives exactly what the embedded engine
receives. Embeddings are off here (`dim=None`): keyword parity does not depend on vectors; tests
that need vectors add them (the real embedder, or deterministic unit vectors) themselves.
"""
from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

from contract.document import IndexDocument
from ingest.models import CaseRecord

ROOT = Path(__file__).resolve().parents[2]
RECORDS_DIR = ROOT / "corpus" / "records"


@lru_cache(maxsize=1)
def records() -> tuple[CaseRecord, ...]:
    out = []
    for path in sorted(RECORDS_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(CaseRecord.model_validate(json.loads(line)))
    if not out:
        raise FileNotFoundError(f"no case records under {RECORDS_DIR}")
    return tuple(out)


@lru_cache(maxsize=1)
def documents() -> tuple[IndexDocument, ...]:
    from indexer.prepare import index_documents  # the indexer's own: analysis happens once, there

    return tuple(index_documents(records()))


def build_info(dim: int | None = None):
    from contract.writer import BuildInfo

    return BuildInfo(built_at=dt.datetime.now(dt.timezone.utc), analyzer_version="test", embedder=None, dim=dim)
