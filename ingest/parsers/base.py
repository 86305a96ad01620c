"""What every source parser shares: its result type and the one error it may raise."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ingest.models import CaseRecord, ReportManifest


class ParseError(ValueError):
    """The input is not a report this parser understands (or is damaged). The message is for users."""


@dataclass
class ParseResult:
    records: list[CaseRecord]
    # Disagreements and oddities worth a human look (e.g. summary vs detail sheet wording).
    warnings: list[str] = field(default_factory=list)


class ReportParser(Protocol):
    def __call__(self, text: str, manifest: ReportManifest, source_file: str) -> ParseResult: ...
