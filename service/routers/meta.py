"""Everything about the service rather than about one case: facet values, health, the OpenSearch
description document, the self-hosted API reference (/docs) and the token-guarded index reload."""
from __future__ import annotations

import concurrent.futures
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from contract.backend import BackendUnavailable
from engine.api_models import FacetsResponse, Health
from service.deps import get_searcher
from service.errors import error_responses, retry_after
from service.rendering import render, templates
from service.security import require_admin
from service.urls import site_url

router = APIRouter(tags=["meta"])


@router.get("/api/facets", response_model=FacetsResponse, responses=error_responses(503),
            summary="Facet values with counts over all cases (what an empty query would show)")
def facets(request: Request) -> FacetsResponse:
    return get_searcher(request).facets()


# /healthz answers within a second whatever the backend does: a load balancer's probe must not hang
# on a cluster that accepts connections and never answers (0.7 s leaves room for the request itself
# on a busy machine). Two workers: a stuck health check never holds more than two threads; the next
# probes answer 503 at the deadline meanwhile.
HEALTH_DEADLINE = 0.7
_health_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


@router.get("/healthz", response_model=Health, responses=error_responses(503),
            summary="Index loaded? record count, index build time, backend (answers within 1 s)")
def healthz(request: Request) -> Health | JSONResponse:
    future = _health_pool.submit(lambda: get_searcher(request).health())
    try:
        return future.result(timeout=HEALTH_DEADLINE)
    except concurrent.futures.TimeoutError:
        exc = BackendUnavailable(f"the search backend did not answer within {HEALTH_DEADLINE} s")
    except BackendUnavailable as err:
        exc = err
    # Unlike other endpoints, health says why: it is what an operator looks at.
    return JSONResponse({"error": {"code": "backend_unavailable", "message": str(exc) or "backend unavailable"}},
                        status_code=503, headers={"Retry-After": retry_after(exc)})


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
