"""JSON bodies of the API's response models, serialised once.

A route that returns a pydantic model with `response_model=` makes FastAPI validate it again and
then dump it; for a plain `def` route the validation runs on a second worker-thread hop (a sync
route already pays one to run). The searcher's models are validated when they are built, so the
routes on the hot path (search, suggest) dump them here instead: the same TypeAdapter dump FastAPI
makes (by_alias, nothing excluded), so the same bytes, without the re-validation and the hop
(≈ 0.1–0.2 ms of a JSON search request). `response_model=` stays on the route: it documents the
body in the OpenAPI schema."""
from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response


@lru_cache(maxsize=None)
def _adapter(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(model)


def model_response(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    """`model` as an application/json response, as FastAPI's response_model path would send it."""
    response = Response(_adapter(type(model)).dump_json(model, by_alias=True), media_type="application/json")
    # after content-length and content-type, where FastAPI puts the route's own headers
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
