"""The response models of the HTTP API: what `engine.searcher.Searcher` returns and `service/` serves.

The API serialises them with FastAPI (`response_model=`), and `council-search search --json` prints
`SearchResponse.model_dump_json()`: the same model, so the same JSON document. What is tested
(tests/test_engine_cli.py) is that both parse to equal JSON values apart from `took_ms` — not that the
bytes are identical (key order and number formatting are the serialiser's).

The request side (parameters, their validation and error codes) is engine/api_params.py.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, Iterable

from pydantic import BaseModel, Field

from contract.backend import FACETS, Mode, Sort
from contract.query_warnings import QueryWarning
from engine.api_params import Synonyms
from ingest.models import CaseRecord


class SearchWarning(BaseModel):
    """A note about how the query was read or run (contract/query_warnings.py lists every code)."""

    code: str = Field(description="Stable code, e.g. unbalanced_quote, relaxed_match, semantic_unavailable")
    message: str = Field(description="English text, e.g. 'unbalanced quote ignored'")
    message_ja: str = Field(description="The same in Japanese (what the web page shows)")


class Expansion(BaseModel):
    """A query word the synonym list expanded, or read as an abbreviation (shown above the results,
    with a link to search without them)."""

    term: str = Field(description="The query word as typed")
    synonyms: list[str] = Field(description="What it also searched for (normalised), e.g. 防犯カメラ for 監視カメラ")
    abbreviations: list[str] = Field(default_factory=list, description=(
        "No case contains the word, so it was also read as a Japanese abbreviation of the corpus's compounds "
        "(児相 → 児童相談, 生保 → 生活保護: its characters start the compound's words in order); these readings "
        "were searched too"))


class QueryEcho(BaseModel):
    """The request as understood (after validation), keyed like the URL parameters."""

    q: str
    mode: Mode
    department: list[str] = []
    category: list[str] = []
    meeting_month: list[str] = []
    result: list[str] = []
    fiscal_year: list[str] = []
    municipality: list[str] = []
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: Sort
    synonyms: Synonyms = Synonyms.on
    page: int
    size: int
    expansions: list[Expansion] = Field(default_factory=list, description=(
        "Synonyms the query words were expanded with (empty with synonyms=off)"))
    warnings: list[SearchWarning] = Field(default_factory=list, description=(
        "Notes about how the query was read or run: something dropped or cut, a sentence searched by its "
        "words, a relaxed match, keyword results instead of semantic ones"))

    @classmethod
    def of(cls, params: Any, warnings: Iterable[QueryWarning], expansions: Iterable[Expansion] = ()) -> "QueryEcho":
        """The echo of validated SearchParams (engine/api_params.py) and the notes of this search."""
        return cls(**params.model_dump(include={"q", "mode", "sort", "synonyms", "page", "size", "date_from",
                                                "date_to", *FACETS}),
                   expansions=list(expansions), warnings=[SearchWarning(code=w.code, message=w.message, message_ja=w.message_ja) for w in warnings])


class Highlights(BaseModel):
    title: str = Field(description="HTML-escaped title; matches wrapped in <mark>")
    snippets: list[str] = Field(default_factory=list, description="HTML-escaped body fragments with <mark>")


class MatchHow(str, Enum):
    literal = "literal"
    synonym = "synonym"
    normalized = "normalized"
    abbreviation = "abbreviation"


class TermMatch(BaseModel):
    """One query word the case contains, and how."""

    term: str = Field(description="The query word as typed")
    how: MatchHow = Field(description=(
        "literal: the case contains the word as typed; normalized: it contains it in another width, case "
        "or 異体字 (ＡＷＳ typed, AWS in the text); synonym: it contains a synonym instead; abbreviation: no case "
        "contains the word, and it contains what the word abbreviates, read from the corpus's compounds (児相 → "
        "児童相談所)"))
    via: str | None = Field(default=None, description=(
        "normalized: the form in the case (AWS); synonym: the synonym in the case (監視カメラ → 防犯カメラ); "
        "abbreviation: the form in the case (児相 → 児童相談)"))


class MatchInfo(BaseModel):
    """Why a case is in the result."""

    terms: list[TermMatch] = Field(default_factory=list, description=(
        "The query words the case contains (for a related case: the ones it shares with the query)"))
    by_meaning: bool = Field(default=False, description=(
        "True when the case counts as a match only by meaning: it lacks some query word, and as a semantic "
        "neighbour it passed the calibrated test (docs/quality.md, 'Matches vs related')"))
    semantic_rank: int | None = Field(default=None, description=(
        "Its rank among the query's nearest cases by meaning (1 = nearest), when it is among the first 100; "
        "null in keyword mode"))


class Hit(BaseModel):
    id: str
    number: int
    title: str
    municipality: str
    departments: list[str]
    categories: list[str]
    meeting_date: dt.date
    result: str
    score: float = Field(description="Mode-dependent: BM25 (keyword), cosine (semantic), RRF (hybrid)")
    highlights: Highlights
    url: str = Field(description="Path of the case page, /cases/{id}")
    match: MatchInfo | None = Field(default=None, description=(
        "Why the case is in a search result (null in similar-case lists and for an empty query)"))


class FacetValue(BaseModel):
    value: str
    count: int
    selected: bool = False


class SearchResponse(BaseModel):
    query: QueryEcho
    total: int = Field(description=(
        "Number of cases that match: they contain every query word (synonyms and normalisation included), "
        "or they are semantic neighbours that passed the calibrated test (hybrid and semantic mode). The "
        "facet counts, the CSV and the page count describe exactly this set"))
    page: int
    size: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(description=f"Keys: {', '.join(FACETS)}")
    feed_url: str = Field(description="Path of this search's Atom feed (/feed.atom?…): its newest matches, "
                                      "for feed readers")

    related: list[Hit] = Field(default_factory=list, description=(
        "First page only: a handful of cases near in meaning (or, in keyword mode, containing some of the "
        "words) that do not match, nearest first; `score` is their cosine (BM25 of the any-word query in keyword "
        "mode). Never counted in total or the facets, never in the CSV"))


class TimelineEntry(BaseModel):
    id: str
    number: int
    title: str
    meeting_date: dt.date
    result: str
    current: bool = Field(default=False, description="True for the case the timeline belongs to")


class CaseDetail(CaseRecord):
    """The whole stored record plus its same-project timeline (oldest first, including the case itself,
    marked `current`; empty when no other case shares the project) and its page path. Provenance:
    `source` (report title, publisher, file, line range, ingest time), `report_date`, `first_seen`,
    and `index_built_at`."""

    timeline: list[TimelineEntry] = Field(default_factory=list)
    url: str
    index_built_at: dt.datetime | None = Field(default=None, description="When the index serving this answer was built")


class SimilarResponse(BaseModel):
    id: str = Field(description="The case the hits are similar to")
    filters: dict[str, list[str]] = Field(default_factory=dict, description=(
        "The filters applied, keyed like the URL parameters: facet values, and date_from / date_to as "
        "one-element lists of YYYY-MM-DD"))
    total: int
    size: int
    took_ms: float
    hits: list[Hit]


class FacetsResponse(BaseModel):
    total: int
    facets: dict[str, list[FacetValue]]


class SourceReport(BaseModel):
    """A report the indexed cases came from (provenance recorded by ingest, tallied by the build)."""

    file: str = Field(description="Raw file, relative to corpus/raw/")
    report_title: str = ""
    publisher: str = Field(default="", description="Issuing body, e.g. 新宿区")
    report_date: dt.date | None = None
    sha256: str = Field(default="", description="SHA-256 of the raw file ingested")
    ingested_at: dt.datetime | None = Field(default=None, description="When that version of the file was first ingested")
    records: int = Field(description="Cases from this report in the index")


class Health(BaseModel):
    status: str = Field(description="ok")
    backend: str
    records: int
    built_at: dt.datetime | None = Field(default=None, description="When the index was built (the pages' 「最終更新」)")
    data_updated: dt.datetime | None = Field(
        default=None, description="Newest first_seen of the indexed cases: when the data last gained a case")
    sources: list[SourceReport] = Field(default_factory=list, description="The reports the indexed cases came from")
    embedder: str | None = None
    analyzer_version: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class Suggestion(BaseModel):
    text: str = Field(description="The completion, as written in the records")
    kind: str = Field(description="project (事業名), department, contractor, phrase (from titles) or synonym")
    count: int = Field(description="Number of cases that use it (synonyms: cases containing the word)")


class SuggestResponse(BaseModel):
    q: str
    suggestions: list[Suggestion]


# ---------------------------------------------------------------- precedents from a draft

class AlignedPair(BaseModel):
    draft_index: int = Field(description="0-based index of the draft passage")
    draft: str = Field(description="The draft passage, HTML-escaped, shared words in <mark>")
    case: str = Field(description="The case's passage it aligns with, HTML-escaped, shared words in <mark>")
    score: float = Field(description="Cosine of the two passages (by=meaning) or word overlap (by=words)")
    by: str = Field(description="meaning (embeddings) or words (shared words; draft passages past the embedding budget)")


class PrecedentHit(Hit):
    semantic: float = Field(description="Best cosine between a draft passage and a passage of the case")
    project_coverage: float = Field(description="Share of the case's 事業名 found in the draft (0–1)")
    pairs: list[AlignedPair] = Field(default_factory=list, description="Draft passages aligned with the case's passages")


class PrecedentsResponse(BaseModel):
    passages: int = Field(description="Passages the draft was cut into")
    embedded: int = Field(description="Passages embedded (the first ones, up to the per-request budget)")
    filters: dict[str, list[str]] = Field(default_factory=dict)
    total: int = Field(description="Number of cases returned")
    size: int
    took_ms: float
    hits: list[PrecedentHit]
