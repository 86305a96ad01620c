"""Everything about the service rather than about one case: facet values, health, the OpenSearch
description document, the self-hosted API reference (/docs) and the token-guarded index reload."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from contract.backend import BackendUnavailable
from engine.api_models import FacetsResponse, Health
from service.deps import get_searcher
from service.errors import error_responses
from service.rendering import render, templates
from service.security import require_admin
from service.urls import site_url

router = APIRouter(tags=["meta"])


@router.get("/api/facets", response_model=FacetsResponse, responses=error_responses(503),
            summary="Facet values with counts over all cases (what an empty query would show)")
def facets(request: Request) -> FacetsResponse:
    return get_searcher(request).facets()


@router.get("/healthz", response_model=Health, responses=error_responses(503),
            summary="Index loaded? record count, index build time, backend")
def healthz(request: Request) -> Health | JSONResponse:
    try:
        return get_searcher(request).health()
    except BackendUnavailable as exc:
        # Unlike other endpoints, health says why: it is what an operator looks at.
        return JSONResponse({"error": {"code": "backend_unavailable", "message": str(exc) or "backend unavailable"}},
                            status_code=503, headers={"Retry-After": "30"})


@router.post("/api/admin/reload", response_model=Health, responses=error_responses(401, 403, 429, 503),
             summary="Reload the index from disk after council-search index (needs the admin bearer token)",
             dependencies=[Depends(require_admin)])
def reload_index(request: Request) -> Health:
    return request.app.state.searcher_holder.reload().health()


@router.get("/opensearch.xml", include_in_schema=False)
def opensearch_description(request: Request) -> Response:
    """Lets browsers add the site as a search engine (OpenSearch 1.1 description document)."""
    # The origin comes from configuration, never from the Host header (service/urls.py).
    body = templates.get_template("opensearch.xml").render(base=site_url(request))
    return Response(body, media_type="application/opensearchdescription+xml; charset=utf-8")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def api_docs(request: Request) -> Response:
    """The OpenAPI schema rendered server-side: Swagger UI would need a CDN and inline script, and
    ward networks are closed."""
    schema = request.app.openapi()
    return render(request, "docs.html", {"schema": schema})
