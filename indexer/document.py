"""`IndexDocument`: what every backend's writer receives. Analysis and embedding happen once,
here, so the embedded engine and OpenSearch index identical token streams and vectors."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analyzers.query_model import TokenStreams

# Analysed text fields (all backends index these; boosts live in engine/ranking.py).
TEXT_FIELDS: tuple[str, ...] = (
    "title", "project_name", "purpose", "subjects", "body", "attachment", "departments", "contractors",
)


@dataclass
class IndexDocument:
    id: str
    number: int
    record: dict[str, Any]                      # CaseRecord.model_dump(mode="json"): the stored display record
    content_hash: str                            # sha256 of the record JSON + analyzer/embedder versions
    meeting_date: dt.date
    facets: dict[str, list[str]]                 # keys = engine.backend.FACETS
    streams: dict[str, TokenStreams]             # keys = TEXT_FIELDS
    passages: list[str] = field(default_factory=list)
    passage_vectors: np.ndarray | None = None    # (n_passages, dim) float32, L2-normalised
    case_vector: np.ndarray | None = None        # (dim,) float32, L2-normalised
    project_key: str = ""                        # normalised 事業名, for same-project timelines
