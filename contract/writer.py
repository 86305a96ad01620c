"""The writer interface every backend implements (embedded: `engine.embedded.writer`; OpenSearch:
`engine.opensearch.writer`). The indexer prepares `IndexDocument`s once and streams them here.

Atomicity contract: nothing a reader sees changes until `commit()` returns; `abort()` (called on any
exception, including KeyboardInterrupt) discards the partial build and leaves the previous index
serving. A writer is used once: open → add* → commit | abort.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

from contract.document import IndexDocument


@dataclass
class BuildInfo:
    """Metadata of one index build (stored with the index; `/healthz` reports it)."""

    built_at: dt.datetime
    analyzer_version: str
    embedder: str | None = None          # Embedder.name, None for a text-only build
    embedder_version: str | None = None  # Embedder.version (cache key part)
    dim: int | None = None
    records: int = 0                     # filled in by the indexer before commit()
    passages: int = 0
    skipped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["built_at"] = self.built_at.isoformat()
        return data



@runtime_checkable
class IndexWriter(Protocol):
    name: str

    def has_index(self) -> bool:
        """Whether a committed index exists where this writer writes (`serve` builds one if not)."""

    def open(self, info: BuildInfo) -> None:
        """Start a new build (e.g. create a build directory or a new versioned OpenSearch index)."""

    def add(self, docs: Sequence[IndexDocument]) -> None:
        """Write a batch of documents into the pending build."""

    def commit(self, info: BuildInfo) -> str:
        """Publish the build atomically (switch the pointer/alias); returns where it lives."""

    def abort(self) -> None:
        """Discard the pending build; the previously committed index keeps serving. Idempotent."""


class BuildError(RuntimeError):
    """The build was refused (nothing committed; the previous index keeps serving)."""
