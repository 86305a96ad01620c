"""`/api/suggest?q=`: completions for the search box from the corpus vocabulary."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.api_models import SuggestResponse
from engine.api_params import MAX_QUERY_CHARS
from engine.suggest import MAX_LIMIT
from service.deps import get_searcher
from service.errors import error_responses
from service.model_json import model_response

router = APIRouter(prefix="/api", tags=["suggest"])

@router.get("/suggest", response_model=SuggestResponse, responses=error_responses(400, 503),
            summary="Completions for what is typed: 事業名, title phrases, departments, contractors, synonyms")
def suggest(request: Request,
            q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description=(
                "What has been typed so far. Matched on normalised text (full/half width, case, "
                "hiragana = katakana, 異体字) at the start of a phrase or of a word inside it."),
                examples=["ガバ"])] = "",
            limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many (1–{MAX_LIMIT})")] = 10,
            ) -> Response:
    return model_response(get_searcher(request).suggest(q, limit))
