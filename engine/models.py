"""Typed request/response models of the search API: the contract between `engine.searcher` and
`service/` (the HTTP API serialises these with `model_dump(mode="json")`, and `council-search search
--json` prints `SearchResponse.model_dump_json()`, so both give byte-identical answers).

Bad parameters raise `ParamError(code, message)` (HTTP 400) or `NotFoundError` (HTTP 404); never a
pydantic `ValidationError` — the API maps `exc.status` / `exc.code` / `exc.message` straight to
`{"error": {"code", "message"}}`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.backend import FACETS, Filters, Mode, Sort
from ingest.models import CaseRecord

# Limits. `size` is also capped by Settings.max_page_size (the searcher passes it in).
MAX_QUERY_CHARS = 1000      # longer input is refused, not truncated (a pasted PDF page is a mistake)
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000             # deeper paging is refused (use filters); keeps offset scans bounded
MAX_FILTER_VALUES = 50      # per facet
MAX_FILTER_VALUE_CHARS = 200


class ParamError(ValueError):
    """A bad request parameter. `code` is a stable machine-readable string."""

    status = 400

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


class NotFoundError(ParamError):
    """An unknown case id (HTTP 404)."""

    status = 404

    def __init__(self, message: str, code: str = "not_found"):
        super().__init__(code, message)


# ---------------------------------------------------------------- request

class SearchParams(BaseModel):
    """Everything a search depends on (the URL is the whole state). Build with `SearchParams.create()`
    to get `ParamError`s instead of pydantic errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field(default="", max_length=MAX_QUERY_CHARS, description="Query text (AND by space, OR, -exclude, \"phrase\")")
    mode: Mode = Field(default=Mode.hybrid, description="keyword | semantic | hybrid")
    filters: dict[str, tuple[str, ...]] = Field(default_factory=dict, description=f"Selected facet values per facet ({', '.join(FACETS)}); OR within a facet, AND across")
    date_from: dt.date | None = Field(default=None, description="Meeting date on or after (YYYY-MM-DD)")
    date_to: dt.date | None = Field(default=None, description="Meeting date on or before (YYYY-MM-DD)")
    sort: Sort = Field(default=Sort.relevance, description="relevance | newest | oldest")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("filters", mode="before")
    @classmethod
    def _clean_filters(cls, value: Any) -> dict[str, tuple[str, ...]]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ValueError("filters must be a mapping of facet name to values")
        out: dict[str, tuple[str, ...]] = {}
        for name, values in value.items():
            if name not in FACETS:
                raise ValueError(f"unknown facet {name!r} (expected one of: {', '.join(FACETS)})")
            if values is None:
                continue
            if isinstance(values, (str, int)):
                values = [values]
            cleaned = []
            for v in values:
                s = str(v).strip()
                if not s:
                    continue
                if len(s) > MAX_FILTER_VALUE_CHARS:
                    raise ValueError(f"{name} value longer than {MAX_FILTER_VALUE_CHARS} characters")
                if s not in cleaned:
                    cleaned.append(s)
            if len(cleaned) > MAX_FILTER_VALUES:
                raise ValueError(f"more than {MAX_FILTER_VALUES} {name} values")
            if cleaned:
                out[name] = tuple(cleaned)
        return out

    @field_validator("q", mode="before")
    @classmethod
    def _strip_q(cls, value: Any) -> Any:
        return "" if value is None else (value.strip() if isinstance(value, str) else value)

    @model_validator(mode="after")
    def _check_dates(self) -> "SearchParams":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self

    @classmethod
    def create(cls, *, max_size: int = MAX_PAGE_SIZE, **kwargs: Any) -> "SearchParams":
        """Validate raw values (strings are fine: mode="keyword", date_from="2023-05-01", page="2").
        Raises ParamError with a stable code; `max_size` is the deployment's page-size cap."""
        size = kwargs.get("size")
        try:
            if size is not None and int(size) > max_size:
                raise ParamError("size_too_large", f"size must be between 1 and {max_size}")
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ParamError):
                raise
            raise ParamError("invalid_size", "size must be an integer") from None
        try:
            return cls(**{k: v for k, v in kwargs.items() if v is not None})
        except ValidationError as exc:
            raise _param_error(exc) from None

    def to_filters(self) -> Filters:
        return Filters(dict(self.filters), self.date_from, self.date_to)

    def echo(self) -> "QueryEcho":
        return QueryEcho(
            q=self.q, mode=self.mode, sort=self.sort, page=self.page, size=self.size,
            date_from=self.date_from, date_to=self.date_to,
            **{name: list(self.filters.get(name, ())) for name in FACETS},
        )


def _param_error(exc: ValidationError) -> ParamError:
    """First pydantic error → one ParamError with a stable code per parameter."""
    err = exc.errors()[0]
    loc = err.get("loc") or ("",)
    name = str(loc[0]) if loc else ""
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        return ParamError("unknown_parameter", f"unknown parameter {name!r}")
    if name == "q":
        return ParamError("query_too_long", f"q must be at most {MAX_QUERY_CHARS} characters")
    if name == "mode":
        return ParamError("invalid_mode", "mode must be one of: " + ", ".join(m.value for m in Mode))
    if name == "sort":
        return ParamError("invalid_sort", "sort must be one of: " + ", ".join(s.value for s in Sort))
    if name == "page":
        return ParamError("invalid_page", f"page must be an integer between 1 and {MAX_PAGE}")
    if name == "size":
        return ParamError("invalid_size", f"size must be an integer between 1 and {MAX_PAGE_SIZE}")
    if name in ("date_from", "date_to"):
        return ParamError("invalid_date", f"{name} must be a date in YYYY-MM-DD form")
    if name == "filters":
        return ParamError("invalid_filter", msg)
    if "date_from is after date_to" in msg:
        return ParamError("invalid_date_range", "date_from must not be after date_to")
    return ParamError("invalid_parameter", f"{name}: {msg}" if name else msg)


# ---------------------------------------------------------------- response

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
    page: int
    size: int
    warnings: list[str] = Field(default_factory=list, description="Query-parser notes, e.g. 'unbalanced quote ignored'")


class Highlights(BaseModel):
    title: str = Field(description="HTML-escaped title; matches wrapped in <mark>")
    snippets: list[str] = Field(default_factory=list, description="HTML-escaped body fragments with <mark>")


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


class FacetValue(BaseModel):
    value: str
    count: int
    selected: bool = False


class SearchResponse(BaseModel):
    query: QueryEcho
    total: int = Field(description="Number of matching cases")
    page: int
    size: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(description=f"Keys: {', '.join(FACETS)}")


class TimelineEntry(BaseModel):
    id: str
    number: int
    title: str
    meeting_date: dt.date
    result: str
    current: bool = Field(default=False, description="True for the case the timeline belongs to")


class CaseDetail(CaseRecord):
    """The whole stored record plus its same-project timeline (oldest first, including the case itself,
    marked `current`; empty when no other case shares the project) and its page path."""

    timeline: list[TimelineEntry] = Field(default_factory=list)
    url: str


class SimilarResponse(BaseModel):
    id: str = Field(description="The case the hits are similar to")
    filters: dict[str, list[str]] = Field(default_factory=dict)
    total: int
    size: int
    took_ms: float
    hits: list[Hit]


class FacetsResponse(BaseModel):
    total: int
    facets: dict[str, list[FacetValue]]


class Health(BaseModel):
    status: str = Field(description="ok")
    backend: str
    records: int
    built_at: dt.datetime | None = None
    embedder: str | None = None
    analyzer_version: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
