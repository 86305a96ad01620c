"""`IndexDocument`: what every backend's writer receives. Analysis and embedding happen once, in the
indexer, so the embedded engine and OpenSearch index identical token streams and vectors."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Facet names, in display order. Multi-select: OR within a facet, AND across facets; each facet's
# counts ignore that facet's own selection.
FACETS: tuple[str, ...] = ("department", "category", "meeting_month", "result", "fiscal_year", "municipality")

# Analysed text fields (all backends index these; boosts live in engine/ranking.py).
TEXT_FIELDS: tuple[str, ...] = (
    "title", "project_name", "purpose", "subjects", "body", "attachment", "departments", "contractors",
)


@dataclass(frozen=True)
class FieldTokens:
    """One analysed text field as every engine indexes it: each token stream joined by single spaces
    (`analyzers.join_tokens`; tokens are never empty and contain no whitespace, so a whitespace
    tokenizer gives them back exactly). Strings rather than tuples of tokens: ~10x cheaper to send
    from the analysis worker processes."""

    morph: str    # morphological tokens (normalised surface forms, stop words removed)
    bigram: str   # overlapping character bigrams, one per position (substring matching)


@dataclass
class IndexDocument:
    id: str
    number: int
    record: dict[str, Any]                      # CaseRecord.model_dump(mode="json"): the stored display record
    meeting_date: dt.date
    facets: dict[str, list[str]]                 # keys = FACETS
    tokens: dict[str, FieldTokens]               # keys = TEXT_FIELDS
    passages: list[str] = field(default_factory=list)
    passage_vectors: np.ndarray | None = None    # (n_passages, dim) float32, L2-normalised
    case_vector: np.ndarray | None = None        # (dim,) float32, L2-normalised
    # normalised 事業名 (indexer.projects.project_key): cases with one key form a project timeline,
    # which backends answer through SearchBackend.same_project; "" = no timeline
    project_key: str = ""


def field_text(value: Any) -> str:
    """A stored record's field as text (list fields, such as 担当課, joined by line breaks)."""
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value or "")


def facet_values(record: dict[str, Any]) -> dict[str, list[str]]:
    """Facet values of a stored record (keys = FACETS). Used at index time and by the searcher when
    it counts facets over semantic results, so both agree."""
    return {
        "department": list(dict.fromkeys(record.get("departments") or [])),
        "category": list(dict.fromkeys(record.get("categories") or [])),
        "meeting_month": [str(record["meeting_date"])[:7]] if record.get("meeting_date") else [],
        "result": [record["result"]] if record.get("result") else [],
        "fiscal_year": [str(record["fiscal_year"])] if record.get("fiscal_year") is not None else [],
        "municipality": [record["municipality"]] if record.get("municipality") else [],
    }
