"""`/api/cases/{id}` (the whole record + same-project timeline) and `/api/cases/{id}/similar`."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from engine.api_models import CaseDetail, SimilarResponse
from engine.api_params import SimilarParams
from service.deps import get_searcher, similar_params
from service.errors import error_responses

router = APIRouter(prefix="/api/cases", tags=["cases"])

CaseId = Annotated[str, Path(min_length=1, max_length=200,
                             description="Case id, e.g. shinjuku-privacy-council-2023-012 (see `id` in search hits)")]


@router.get("/{case_id}", response_model=CaseDetail, responses=error_responses(400, 404, 503),
            summary="One case: every corpus field, plus the same-project timeline")
def case(request: Request, case_id: CaseId) -> CaseDetail:
    return get_searcher(request).case(case_id)


@router.get("/{case_id}/similar", response_model=SimilarResponse, responses=error_responses(400, 404, 503),
            summary="Cases similar in content (by embedding), optionally filtered like a search")
def similar(request: Request, case_id: CaseId,
            params: Annotated[SimilarParams, Depends(similar_params)]) -> SimilarResponse:
    return get_searcher(request).similar(case_id, params.to_filters(), params.size)
