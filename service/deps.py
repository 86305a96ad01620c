"""Shared request plumbing: the searcher behind the app, and the search parameters every search-like
route takes (API, CSV and the page share one definition, so the URL means the same everywhere)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Query, Request

from council_search.settings import Settings
from engine.backend import FACETS, BackendUnavailable, Mode, Sort
from engine.models import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, MAX_QUERY_CHARS, SearchParams

if TYPE_CHECKING:  # engine.searcher imports the analyzers and embedders: not needed to define routes
    from engine.searcher import Searcher


class SearcherHolder:
    """Holds the app's searcher; loads it on first use if the app was created without one (so a
    backend that is down at start-up is retried on the next request rather than never)."""

    def __init__(self, settings: Settings, searcher: "Searcher | None" = None) -> None:
        self.settings = settings
        self._searcher = searcher
        self._owned = False  # a searcher passed in belongs to the caller; one we loaded is ours to close
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._searcher is not None

    def get(self) -> "Searcher":
        if self._searcher is None:
            with self._lock:
                if self._searcher is None:
                    self._searcher, self._owned = self._load(), True
        return self._searcher

    def reload(self) -> "Searcher":
        """Open the index afresh and swap it in. The previous searcher is not closed here: requests
        may still be using it; it is released when the last of them drops it."""
        new = self._load()
        with self._lock:
            self._searcher, self._owned = new, True
        return new

    def close(self) -> None:
        """At shutdown: close a searcher this holder opened (one passed in is left to its owner)."""
        with self._lock:
            if not self._owned:
                return
            searcher, self._searcher, self._owned = self._searcher, None, False
        backend = getattr(searcher, "backend", None)
        if hasattr(backend, "close"):
            backend.close()

    def _load(self) -> "Searcher":
        from engine.loader import load_searcher
        try:
            # Never build inside a request: `council-search serve` / `index` build; the app only opens.
            return load_searcher(self.settings, build_if_missing=False)
        except BackendUnavailable:
            raise
        except OSError as exc:  # no index built yet (IndexMissing), or the index dir is unreadable
            raise BackendUnavailable(f"index not available: {exc}") from exc


def get_searcher(request: Request) -> "Searcher":
    return request.app.state.searcher_holder.get()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


FILTER_HELP = {
    "department": "担当課 (repeatable; OR within, AND across facets), e.g. 戸籍住民課",
    "category": "区分 (repeatable), e.g. 業務委託, 外部結合, 電算処理, 外部提供",
    "result": "審議結果 (repeatable), e.g. 承認",
    "fiscal_year": "Fiscal year the case belongs to, as its starting Gregorian year (repeatable), e.g. 2023",
    "municipality": "自治体 (repeatable), e.g. 新宿区",
    "meeting_month": "Meeting month YYYY-MM (repeatable), e.g. 2023-09",
}
DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2})?$"


@dataclass(frozen=True)
class SearchInputs:
    """The raw, not yet validated search inputs of a request (everything but paging)."""

    q: str = ""
    mode: Mode = Mode.hybrid
    sort: Sort = Sort.relevance
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: str | None = None
    date_to: str | None = None

    def params(self, *, page: int = 1, size: int = DEFAULT_PAGE_SIZE, max_size: int = MAX_PAGE_SIZE) -> SearchParams:
        """Validate into the engine's SearchParams (raises ParamError with a stable code)."""
        return SearchParams.create(
            max_size=min(max_size, MAX_PAGE_SIZE), q=self.q, mode=self.mode, sort=self.sort,
            filters={k: v for k, v in self.filters.items() if v},
            # HTML forms send empty date inputs as `date_from=`: that means "no bound".
            date_from=self.date_from or None, date_to=self.date_to or None, page=page, size=size,
        )


def filter_inputs(
    department: Annotated[list[str], Query(description=FILTER_HELP["department"])] = [],
    category: Annotated[list[str], Query(description=FILTER_HELP["category"])] = [],
    result: Annotated[list[str], Query(description=FILTER_HELP["result"])] = [],
    fiscal_year: Annotated[list[str], Query(description=FILTER_HELP["fiscal_year"])] = [],
    municipality: Annotated[list[str], Query(description=FILTER_HELP["municipality"])] = [],
    meeting_month: Annotated[list[str], Query(description=FILTER_HELP["meeting_month"])] = [],
    date_from: Annotated[str | None, Query(pattern=DATE_PATTERN, description="Meeting date on or after, YYYY-MM-DD (inclusive)")] = None,
    date_to: Annotated[str | None, Query(pattern=DATE_PATTERN, description="Meeting date on or before, YYYY-MM-DD (inclusive)")] = None,
) -> SearchInputs:
    """Facet filters and the date range (similar cases take these without a query)."""
    selected = {"department": department, "category": category, "result": result, "fiscal_year": fiscal_year,
                "municipality": municipality, "meeting_month": meeting_month}
    return SearchInputs(filters={k: selected[k] for k in FACETS}, date_from=date_from, date_to=date_to)


def search_inputs(
    filters: Annotated[SearchInputs, Depends(filter_inputs)],
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description=(
        "Query text. Space = AND, `OR` between words, `-word` excludes, \"…\" for a phrase; a case number "
        "(№12, 12) or id jumps to that case. Empty = all cases (browse by facets)."),
        examples=["ガバメントクラウド 再委託"])] = "",
    mode: Annotated[Mode, Query(description="keyword (BM25), semantic (embeddings) or hybrid (reciprocal rank fusion of both)")] = Mode.hybrid,
    sort: Annotated[Sort, Query(description="relevance, newest or oldest (by meeting date)")] = Sort.relevance,
) -> SearchInputs:
    """Everything a search page or API call depends on except paging."""
    return replace(filters, q=q, mode=mode, sort=sort)


PageParam = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"1-based page number (at most {MAX_PAGE})")]
SizeParam = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE,
                                 description=f"Hits per page (1–{MAX_PAGE_SIZE}; a deployment may cap lower)")]


@dataclass(frozen=True)
class Paging:
    page: int
    size: int


def paging(page: PageParam = 1, size: SizeParam = DEFAULT_PAGE_SIZE) -> Paging:
    return Paging(page, size)
