"""`/api/cases/{id}` (the whole record + same-project timeline + provenance), `/api/cases/{id}/similar`
and `/api/cases/{id}/citation`."""
from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response

from engine.api_models import CaseDetail, SimilarResponse
from engine.api_params import SimilarParams
from service.citation import CSL_MEDIA_TYPE, CitationFormat, citation_csl, citation_text, negotiate
from service.deps import get_searcher, similar_params
from service.errors import error_responses
from service.freshness import index_built_at
from service.urls import absolute, case_path

router = APIRouter(prefix="/api/cases", tags=["cases"])

CaseId = Annotated[str, Path(min_length=1, max_length=200, examples=["shinjuku-privacy-council-2023-003"],
                             description="Case id, e.g. shinjuku-privacy-council-2023-012 (see `id` in search hits)")]


@router.get("/{case_id}", response_model=CaseDetail, responses=error_responses(400, 404, 503),
            summary="One case: every corpus field, plus the same-project timeline")
def case(request: Request, case_id: CaseId) -> CaseDetail:
    detail = get_searcher(request).case(case_id)
    return detail.model_copy(update={"index_built_at": index_built_at(request)})


@router.get("/{case_id}/similar", response_model=SimilarResponse, responses=error_responses(400, 404, 503),
            summary="Cases similar in content (by embedding), optionally filtered like a search")
def similar(request: Request, case_id: CaseId,
            params: Annotated[SimilarParams, Depends(similar_params)]) -> SimilarResponse:
    return get_searcher(request).similar(case_id, params.to_filters(), params.size)


@router.get("/{case_id}/citation", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}},
                                         CSL_MEDIA_TYPE: {"schema": {"type": "object"}}},
                             "description": "The citation as one line of text, or one CSL-JSON item"},
                       **error_responses(400, 404, 503)},
            summary="How to cite a case: plain text (default) or CSL-JSON for reference managers")
def citation(request: Request, case_id: CaseId,
             format: Annotated[CitationFormat | None, Query(description=(
                 "text or csl-json. Without it the Accept header decides: "
                 f"{CSL_MEDIA_TYPE} or application/json give CSL-JSON, anything else text"))] = None,
             ) -> Response:
    case = get_searcher(request).case(case_id)
    chosen = format or negotiate(request.headers.get("accept", ""))
    permalink = absolute(request, case_path(case.id))
    headers = {"Vary": "Accept"}
    if chosen == CitationFormat.text:
        return PlainTextResponse(citation_text(case, permalink) + "\n", headers=headers)
    body = json.dumps(citation_csl(case, permalink), ensure_ascii=False, indent=2) + "\n"
    return Response(body.encode("utf-8"), media_type=CSL_MEDIA_TYPE, headers=headers)
