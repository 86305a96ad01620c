"""`/api/cases/{id}` (the whole record + same-project timeline) and `/api/cases/{id}/similar`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from engine.models import MAX_PAGE_SIZE, CaseDetail, SimilarResponse
from service.deps import SearchInputs, filter_inputs, get_searcher
from service.errors import error_responses

router = APIRouter(prefix="/api/cases", tags=["cases"])

CaseId = Annotated[str, Path(min_length=1, max_length=200,
                             description="Case id, e.g. shinjuku-privacy-council-2023-012 (see `id` in search hits)")]
DEFAULT_SIMILAR = 10


@router.get("/{case_id}", response_model=CaseDetail, responses=error_responses(400, 404, 503),
            summary="One case: every corpus field, plus the same-project timeline")
def case(request: Request, case_id: CaseId) -> CaseDetail:
    return get_searcher(request).case(case_id)


@router.get("/{case_id}/similar", response_model=SimilarResponse, responses=error_responses(400, 404, 503),
            summary="Cases similar in content (by embedding), optionally filtered like a search")
def similar(request: Request, case_id: CaseId, inputs: Annotated[SearchInputs, Depends(filter_inputs)],
            size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="How many similar cases")] = DEFAULT_SIMILAR,
            ) -> SimilarResponse:
    params = inputs.params(size=size, max_size=request.app.state.settings.max_page_size)
    return get_searcher(request).similar(case_id, params.to_filters(), params.size)
