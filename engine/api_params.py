"""The request parameters of the search API, validated once, at the edge.

These pydantic models are the *only* definition of what a search, a CSV export or a similar-cases
request accepts:
- FastAPI uses them as query models (`Annotated[SearchParams, Query()]` in service/deps.py), so
  their field descriptions are the OpenAPI documentation of the parameters;
- `council-search search`, the evaluation harness and library callers build them with
  `SearchParams.create(...)` / `Searcher.params(...)` from raw values (strings are fine).

Both paths run the same pydantic validation, and `param_error()` turns the first pydantic error into
one `ParamError(code, message)` — so the same bad value gets the same code *and* message from the
API, the page and the CLI (tests/test_params.py holds them to it). The deployment's page-size cap
(Settings.max_page_size) is not known to the model; `check_page_size()` applies it, at each edge.

Error statuses: ParamError 400, NotFoundError 404 (an unknown case id). Never a pydantic
ValidationError: the service maps `exc.status` / `exc.code` / `exc.message` straight to
`{"error": {"code", "message"}}`.
"""
from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated, Any, Mapping, Sequence
from urllib.parse import urlencode

from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, WithJsonSchema, field_validator,
                      model_validator)
from pydantic_core import PydanticCustomError

from contract.backend import FACETS, Filters, Mode, Sort

# Limits. `size` is also capped by Settings.max_page_size (check_page_size()).
MAX_QUERY_CHARS = 1000      # longer input is refused, not truncated (a pasted PDF page is a mistake)
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = 1000             # deeper paging is refused (use filters); keeps offset scans bounded
MAX_FILTER_VALUES = 50      # per facet
MAX_FILTER_VALUE_CHARS = 200
DEFAULT_SIMILAR_SIZE = 10
# Dates outside this range are refused (not clamped): none is a meeting date, and the engines' date
# types end near them (tantivy's at 2262).
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)

# Exactly the accepted dates, MIN_DATE..MAX_DATE (month lengths and leap years included), or empty:
# the OpenAPI schema carries this pattern, so a schema-valid date is never refused (schemathesis
# checks both ways) and clients can validate before sending.
_MD = r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))"
_LEAP = r"(?:(?:19|20|21)(?:0[48]|[2468][048]|[13579][26])|2000)"   # 1900 and 2100 are not leap years
DATE_PATTERN = rf"^(?:(?:19|20|21)\d\d-{_MD}|{_LEAP}-02-29)?$"
_DATE_RE = re.compile(DATE_PATTERN)


class ParamError(ValueError):
    """A bad request parameter. `code` is a stable machine-readable string (docs/api.md lists them)."""

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


# Every code a bad parameter can get, with its message; `{name}` is the parameter, `{max_size}` the
# deployment's page-size cap, `{detail}` the validator's own explanation.
PARAM_ERRORS: dict[str, str] = {
    "query_too_long": f"q must be at most {MAX_QUERY_CHARS} characters",
    "invalid_mode": "mode must be one of: " + ", ".join(m.value for m in Mode),
    "invalid_sort": "sort must be one of: " + ", ".join(s.value for s in Sort),
    "invalid_page": f"page must be an integer between 1 and {MAX_PAGE}",
    "invalid_size": "size must be an integer between 1 and {max_size}",
    "size_too_large": "size must be between 1 and {max_size}",
    "invalid_date": f"{{name}} must be a date in YYYY-MM-DD form, {MIN_DATE} to {MAX_DATE}",
    "invalid_date_range": "date_from must not be after date_to",
    "invalid_filter": "{name}: {detail}",
    "unknown_parameter": "unknown parameter {name!r}",
    "invalid_parameter": "{name}: {detail}",
    "invalid_encoding": "{name} contains a NUL character",
}


def _param(code: str, *, name: str = "", detail: str = "", max_size: int = MAX_PAGE_SIZE) -> ParamError:
    message = PARAM_ERRORS[code].format(name=name, detail=detail, max_size=max_size)
    return ParamError(code, message.removeprefix(": "))


def param_error(errors: Sequence[Mapping[str, Any]], *, max_size: int = MAX_PAGE_SIZE) -> ParamError:
    """The one mapping from validation errors (pydantic's `ValidationError.errors()` or FastAPI's
    `RequestValidationError.errors()`, whose locations start with "query"/"path") to a ParamError:
    the first error decides, one stable code per parameter."""
    max_size = min(max_size, MAX_PAGE_SIZE)
    err = errors[0] if errors else {}
    loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
    if loc and loc[0] in ("query", "path", "header", "body"):
        loc = loc[1:]
    name = loc[0] if loc else ""
    kind = str(err.get("type", ""))
    detail = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind in ("invalid_date_range", "invalid_filter", "invalid_date"):   # our validators' own errors
        return _param(kind, name=name, detail=detail)
    if kind == "string_pattern_mismatch" and name == "text":        # PrecedentsRequest.text: blank
        return ParamError("empty_draft", "text is empty")
    if kind == "string_pattern_mismatch" and name not in ("date_from", "date_to"):   # TEXT_PATTERN
        return _param("invalid_encoding", name=name)
    if kind == "extra_forbidden":
        return _param("unknown_parameter", name=name)
    if name == "q" and kind == "string_too_long":
        return _param("query_too_long")
    if name in ("mode", "sort", "page"):
        return _param(f"invalid_{name}")
    if name == "size":
        bound = (err.get("ctx") or {}).get("le")    # a model's own cap (precedents: 20) when lower
        if isinstance(bound, int):
            max_size = min(max_size, bound)
        return _param("size_too_large" if kind == "less_than_equal" else "invalid_size", max_size=max_size)
    if name in ("date_from", "date_to"):
        return _param("invalid_date", name=name)
    if name in FACETS:
        return _param("invalid_filter", name=name, detail=detail)
    return _param("invalid_parameter", name=name, detail=detail)


def check_page_size(size: int, max_size: int) -> None:
    """The deployment's cap on hits per page (Settings.max_page_size, itself at most MAX_PAGE_SIZE)."""
    if size > min(max_size, MAX_PAGE_SIZE):
        raise _param("size_too_large", max_size=min(max_size, MAX_PAGE_SIZE))


FACET_HELP = {
    "department": "担当課 (repeatable; OR within, AND across facets), e.g. 戸籍住民課",
    "category": "区分 (repeatable), e.g. 業務委託, 外部結合, 電算処理, 外部提供",
    "meeting_month": "Meeting month YYYY-MM (repeatable), e.g. 2023-09",
    "result": "審議結果 (repeatable), e.g. 承認",
    "fiscal_year": "Fiscal year the case belongs to, as its starting Gregorian year (repeatable), e.g. 2023",
    "municipality": "自治体 (repeatable), e.g. 新宿区",
}
assert tuple(FACET_HELP) == FACETS  # one field per facet, in FACETS order


def _facet(name: str) -> Any:
    return Field(default=(), description=FACET_HELP[name])


class _Params(BaseModel):
    """Shared set-up: frozen; unknown URL parameters are ignored (as any web page's are), while
    `create()` refuses unknown keywords (a typo in code is a bug)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def create(cls, *, max_size: int = MAX_PAGE_SIZE, filters: Mapping[str, Any] | None = None, **raw: Any):
        """Validate raw values (strings are fine: mode="keyword", date_from="2023-05-01", page="2";
        facets as keywords or as `filters={"department": [...]}`). Raises ParamError;
        `max_size` is the deployment's page-size cap."""
        for name in raw:
            if name not in cls.model_fields:
                raise _param("unknown_parameter", name=name)
        for name, values in (filters or {}).items():
            if name not in FACETS:
                raise _param("invalid_filter", name="filters",
                             detail=f"unknown facet {name!r} (expected one of: {', '.join(FACETS)})")
            raw[name] = values
        try:
            params = cls(**{k: v for k, v in raw.items() if v is not None})
        except ValidationError as exc:
            raise param_error(exc.errors(), max_size=max_size) from None
        if "size" in cls.model_fields:
            check_page_size(params.size, max_size)   # type: ignore[attr-defined]
        return params


# null too: a JSON body (POST /api/precedents) may send "date_to": null for "no bound"
_DATE_SCHEMA = WithJsonSchema({"anyOf": [{"type": "string", "pattern": DATE_PATTERN}, {"type": "null"}]})
# Text parameters are any text without NUL (the HTTP layer refuses NUL, service/http_checks.py);
# saying so in the schema keeps a schema-valid request from ever being refused.
TEXT_PATTERN = r"^[^\x00]*$"
FacetValues = tuple[Annotated[str, Field(pattern=TEXT_PATTERN)], ...]


class FilterParams(_Params):
    """Facet filters and the meeting-date range: what a similar-cases request takes."""

    department: FacetValues = _facet("department")
    category: FacetValues = _facet("category")
    meeting_month: FacetValues = _facet("meeting_month")
    result: FacetValues = _facet("result")
    fiscal_year: FacetValues = _facet("fiscal_year")
    municipality: FacetValues = _facet("municipality")
    date_from: Annotated[dt.date | None, _DATE_SCHEMA] = Field(default=None, description=(
        f"Meeting date on or after, YYYY-MM-DD (inclusive; {MIN_DATE} to {MAX_DATE}; empty = no bound)"))
    date_to: Annotated[dt.date | None, _DATE_SCHEMA] = Field(default=None, description=(
        f"Meeting date on or before, YYYY-MM-DD (inclusive; {MIN_DATE} to {MAX_DATE}; empty = no bound)"))

    @field_validator(*FACETS, mode="before")
    @classmethod
    def _clean_values(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        """Trimmed, non-empty, de-duplicated (first occurrence kept), bounded in count and length."""
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        # Only text, as the schema says (an array of strings): a number, an object or a nested list in
        # a JSON body is refused, not turned into text (schemathesis' negative-data check).
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise PydanticCustomError("invalid_filter", "values must be strings")
        cleaned: list[str] = []
        for v in value:
            s = v.strip()
            if len(s) > MAX_FILTER_VALUE_CHARS:
                raise PydanticCustomError("invalid_filter", f"a value is longer than {MAX_FILTER_VALUE_CHARS} characters")
            if s and s not in cleaned:
                cleaned.append(s)
        if len(cleaned) > MAX_FILTER_VALUES:
            raise PydanticCustomError("invalid_filter", f"more than {MAX_FILTER_VALUES} values")
        return tuple(cleaned)

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        # HTML forms send an empty date input as `date_from=`: that means "no bound". Only the ISO
        # form is a date here (pydantic alone would also take a Unix timestamp).
        if value is None or value == "":
            return None
        if isinstance(value, str) and not _DATE_RE.match(value):
            raise PydanticCustomError("invalid_date", "not a YYYY-MM-DD date in range")
        if not isinstance(value, (str, dt.date)):   # pydantic would read a number as a Unix time
            raise PydanticCustomError("invalid_date", "not a YYYY-MM-DD date")
        return value

    @field_validator("date_from", "date_to")
    @classmethod
    def _date_range(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and not MIN_DATE <= value <= MAX_DATE:
            raise PydanticCustomError("invalid_date", "out of range")
        return value

    @model_validator(mode="after")
    def _date_order(self):
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise PydanticCustomError("invalid_date_range", "date_from is after date_to")
        return self

    @property
    def filters(self) -> dict[str, tuple[str, ...]]:
        """The selected values of each facet that has any."""
        return {name: getattr(self, name) for name in FACETS if getattr(self, name)}

    def to_filters(self) -> Filters:
        return Filters(self.filters, self.date_from, self.date_to)


class Synonyms(str, Enum):
    on = "on"
    off = "off"


class SearchQuery(FilterParams):
    """What to search for, without paging (the CSV export takes this and pages itself)."""

    q: str = Field(default="", max_length=MAX_QUERY_CHARS, pattern=TEXT_PATTERN, description=(
        "Query text. Space = AND, `OR` between words, `-word` excludes, \"…\" for a phrase; a case number "
        "(№12, 12) or id jumps to that case. Empty = all cases (browse by facets)."),
        examples=["ガバメントクラウド 再委託"])
    mode: Mode = Field(default=Mode.hybrid, description=(
        "keyword (BM25), semantic (embeddings) or hybrid (reciprocal rank fusion of both)"))
    sort: Sort = Field(default=Sort.relevance, description="relevance, newest or oldest (by meeting date)")
    synonyms: Synonyms = Field(default=Synonyms.on, description=(
        "on: each query word also finds its synonyms from the synonym list (監視カメラ finds 防犯カメラ; the "
        "response's query.expansions lists them); off: only the words as typed (width, case and 異体字 are "
        "still normalised)"))

    @field_validator("q", mode="before")
    @classmethod
    def _strip_q(cls, value: Any) -> Any:
        return "" if value is None else (value.strip() if isinstance(value, str) else value)

    def paged(self, page: int, size: int) -> "SearchParams":
        """This query at one page (page and size already within bounds)."""
        return SearchParams(**dict(self), page=page, size=size)

    def result_set_items(self) -> list[tuple[str, str]]:
        """The URL parameters that define the result set (not its order or paging), in one canonical
        order: the same search always has the same feed URL, and the feed the same id."""
        items: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        if self.mode != Mode.hybrid:
            items.append(("mode", self.mode.value))
        for name in FACETS:
            items.extend((name, v) for v in getattr(self, name))
        items.extend((name, getattr(self, name).isoformat()) for name in ("date_from", "date_to") if getattr(self, name))
        return items

    def feed_url(self) -> str:
        """Path of this search's Atom feed (served by service/routers/feed.py)."""
        qs = urlencode(self.result_set_items())
        return "/feed.atom" + (f"?{qs}" if qs else "")


class SearchParams(SearchQuery):
    """Everything a search depends on (the URL is the whole state)."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description=f"1-based page number (at most {MAX_PAGE})")
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE,
                      description=f"Hits per page (1–{MAX_PAGE_SIZE}; a deployment may cap lower)")


class SimilarParams(FilterParams):
    """A similar-cases request: filters like a search, and how many cases."""

    size: int = Field(default=DEFAULT_SIMILAR_SIZE, ge=1, le=MAX_PAGE_SIZE, description="How many similar cases")


# ---------------------------------------------------------------- precedents from a draft

MAX_DRAFT_CHARS = 20_000     # longer drafts are refused with 413 (not cut)
MAX_PRECEDENTS = 20          # each returned case is aligned passage by passage


class PrecedentsRequest(FilterParams):
    """POST /api/precedents body: the draft, the search filters (same names, meaning and checks as
    /api/search's query parameters, as JSON lists), cases to leave out and how many to return.
    Unknown keys are refused (a JSON body is written by a program: a typo is a bug)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # pattern: at least one non-space character, so the schema says what the API accepts (a blank
    # draft is 400 empty_draft)
    text: str = Field(pattern=r"\S", description=(
        f"The draft (plain text, up to {MAX_DRAFT_CHARS:,} characters; longer is refused with 413 draft_too_long)"),
        examples=["区では、住民記録システムを標準準拠システムへ移行し、ガバメントクラウドで運用する。"
                  "移行業務及び運用保守業務を委託し、委託業者から再委託の申し入れがあった。"])
    exclude: tuple[str, ...] = Field(default=(), max_length=MAX_FILTER_VALUES, description="Case ids to leave out")
    size: int = Field(default=10, ge=1, le=MAX_PRECEDENTS, description=f"How many cases (1–{MAX_PRECEDENTS})")

    @model_validator(mode="before")
    @classmethod
    def _json_lists(cls, data: Any) -> Any:
        """In a JSON body the facets are lists, as the schema says; a bare string or null (which the
        query string and library callers may give) is refused here (schemathesis' negative-data check)."""
        if isinstance(data, Mapping):
            for name in FACETS:
                if name in data and not isinstance(data[name], (list, tuple)):
                    raise PydanticCustomError("invalid_filter", "values must be a JSON list of strings")
        return data
