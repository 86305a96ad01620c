"""The `SearchBackend` interface: the low-level primitives every engine implements.

Everything above this line (query parsing, synonym expansion, RRF fusion, paging inside the fusion
window, highlighting, response shaping) lives in `engine.searcher` and is shared by all backends, so
the embedded engine and OpenSearch give the same answers for the same data. Every method the
searcher calls is here: a backend implements all of them (tests/test_architecture.py checks both).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, Protocol, runtime_checkable

import numpy as np

from contract.document import FACETS
from contract.query import ParsedQuery

__all__ = ["FACETS", "BackendUnavailable", "Filters", "Mode", "Ranked", "SearchBackend", "Sort"]


class Mode(str, Enum):
    keyword = "keyword"
    semantic = "semantic"
    hybrid = "hybrid"


class Sort(str, Enum):
    relevance = "relevance"
    newest = "newest"
    oldest = "oldest"


@dataclass(frozen=True)
class Filters:
    """Selected facet values (keyed by FACETS names) and an inclusive meeting-date range."""

    selected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def without(self, facet: str) -> "Filters":
        return Filters({k: v for k, v in self.selected.items() if k != facet}, self.date_from, self.date_to)

    @property
    def is_empty(self) -> bool:
        return not any(self.selected.values()) and self.date_from is None and self.date_to is None


@dataclass
class Ranked:
    ids: list[str]
    scores: list[float]
    total: int  # number of matching documents (not just returned)


@runtime_checkable
class SearchBackend(Protocol):
    name: str

    def keyword(self, query: ParsedQuery, filters: Filters, sort: Sort, offset: int, limit: int) -> Ranked:
        """BM25 over the analysed fields with field boosts; an empty query matches all (filtered)."""

    def knn(self, vector: np.ndarray, filters: Filters, k: int, exclude: tuple[str, ...] = ()) -> Ranked:
        """Nearest cases by cosine similarity (a case's score is its best passage)."""

    def match_ids(self, query: ParsedQuery, filters: Filters, ids: list[str]) -> set[str]:
        """Which of `ids` the keyword query (with filters) matches: hybrid mode's exact totals and
        facet counts over the semantic window."""

    def facet_counts(self, query: ParsedQuery, filters: Filters, size: int = 100) -> dict[str, list[tuple[str, int]]]:
        """Counts per facet value over the keyword match set; each facet ignores its own selection."""

    def cached_facet_counts(self, query: ParsedQuery, filters: Filters, size: int = 100
                            ) -> dict[str, list[tuple[str, int]]] | None:
        """`facet_counts` if the backend holds them already (no work), else None: the searcher asks
        first and only hands a count it has to compute to another thread."""

    def fetch(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Stored records (CaseRecord.model_dump(mode="json")) by id; missing ids are absent."""

    def case_vector(self, case_id: str) -> np.ndarray | None:
        """The case-level vector used by similar(), or None if unknown."""

    def same_project(self, case_id: str) -> list[str]:
        """Ids of the cases whose IndexDocument.project_key equals this case's (itself included);
        [] when the case is unknown or has no key."""

    def passage_vectors(self, case_id: str) -> np.ndarray | None:
        """The case's passage vectors (n, dim), in the order the index cut its text into passages
        (embeddings.passages.case_passages), or None if unknown: aligning a draft's paragraphs
        with a case's passages needs them."""

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored record, in no particular order (vocabularies built once per process)."""

    def case_vector_sample(self, limit: int) -> np.ndarray:
        """Up to `limit` case vectors (n × dim; all when the corpus is smaller): the corpus z-score
        of engine/matching.py is computed from their mean and covariance."""

    def info(self) -> dict[str, Any]:
        """Health data: {"backend", "records", "built_at", "embedder", ...}. Raises BackendUnavailable."""

    def close(self) -> None:
        """Release files/connections. The searcher's owner calls it once, at shutdown."""


class BackendUnavailable(RuntimeError):
    """The engine cannot be reached (e.g. OpenSearch down): the API answers 503. `retry_after`
    (seconds), when the engine knows it (a circuit breaker's cool-down), becomes Retry-After."""

    def __init__(self, message: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
