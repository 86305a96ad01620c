"""Typed ingestion models: the contract between source parsers and the indexer.

Every parser emits `CaseRecord`s; the indexer, the engines and the API read nothing else.
Text fields keep the source's original characters for display (full-width stays full-width);
matching-side normalisation happens in `analyzers/`, never here.
"""
from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

# Ids and slugs go into URLs (/cases/{id}), file names and CSV cells: lowercase ASCII letters and
# digits in hyphen-separated parts, so none can start with a formula character (= + - @), hold a
# path separator or need escaping anywhere.
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_PATTERN = ID_PATTERN
MAX_ID_CHARS = 200   # the API's case-id path parameter accepts up to this


class SourceRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(description="Path of the raw file, relative to corpus/raw/")
    line_start: int = Field(ge=1, description="First line (1-based) of the case's detail sheet")
    line_end: int = Field(ge=1, description="Last line (1-based, inclusive) of the case's detail sheet")
    summary_line: int | None = Field(default=None, ge=1, description="Line of the case's row in the summary table")
    # Filled in by the ingest pipeline (the parser knows only the file and the lines):
    report_title: str = Field(default="", description="Title of the report the case was published in")
    publisher: str = Field(default="", description="Issuing body of the report (発行者), e.g. 新宿区")
    sha256: str = Field(default="", description="SHA-256 of the raw file's bytes")
    ingested_at: dt.datetime | None = Field(
        default=None, description="When this version of the raw file (same sha256) was first ingested (UTC)")


class CaseRecord(BaseModel):
    """One deliberated case. `body` is the 事業内容 text; the deliberating organisation is `council`."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN, max_length=MAX_ID_CHARS,
                    description="Stable, globally unique: {municipality_slug}-{council_slug}-{fiscal_year}-{number:03d}")
    number: int = Field(ge=1, description="№ in the report")
    municipality: str = Field(description="e.g. 新宿区")
    council: str = Field(description="Deliberating body, e.g. 個人情報保護管理運営会議")
    fiscal_year: int = Field(description="Gregorian year the fiscal year starts in (令和5年度 → 2023)")
    fiscal_year_label: str = Field(description="e.g. 令和5年度")
    report_date: dt.date | None = Field(default=None, description="Date of the report the case was published in")
    title: str
    departments: list[str] = Field(description="担当課, full names from the summary table")
    categories: list[str] = Field(description="区分, e.g. 電算処理, 外部結合, 業務委託, 外部提供, 防犯カメラ")
    meeting_date: dt.date = Field(description="付議日")
    result: str = Field(description="審議結果, e.g. 承認")
    project_name: str = Field(default="", description="事業名")
    purpose: str = Field(default="", description="目的")
    subjects: str = Field(default="", description="対象者")
    body: str = Field(default="", description="事業内容, line-end breaks joined, paragraphs separated by \\n")
    attachment: str = Field(default="", description="別紙 / data-flow diagram text (noisy, kept apart from body)")
    contractors: list[str] = Field(default_factory=list, description="Named 委託先/受託事業者/再委託先")
    prior_approvals: list[str] = Field(default_factory=list, description="Citations of earlier approvals, verbatim")
    source: SourceRef
    first_seen: dt.datetime | None = Field(
        default=None, description="When ingest first produced this case (UTC), kept across re-ingests: "
                                  "the time the case entered the corpus (the feed's `updated`)")

    @property
    def meeting_month(self) -> str:
        return self.meeting_date.strftime("%Y-%m")


class ReportManifest(BaseModel):
    """Sidecar JSON next to each raw report: what the text alone cannot say reliably."""

    model_config = ConfigDict(extra="forbid")

    file: str
    format: str = Field(description="Parser to use, e.g. shinjuku-case-list-pdf-text")
    source_name: str = ""
    title: str = ""
    publisher: str = Field(default="", description="Issuing body (発行者); empty = the municipality")
    municipality: str
    municipality_slug: str = Field(pattern=SLUG_PATTERN, max_length=60)
    council: str
    council_slug: str = Field(pattern=SLUG_PATTERN, max_length=60)
    fiscal_year: int
    fiscal_year_label: str
    report_date: dt.date | None = None
