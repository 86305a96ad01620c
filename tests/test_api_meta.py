"""Facets, health, OpenSearch description, /docs, the error shape for every failure, security
headers, the token-guarded reload, and 503 when there is no backend."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from contract.backend import FACETS
from council_search.settings import Settings
from engine.api_models import FacetsResponse, Health
from service.app import create_app
from service.security import CONTENT_SECURITY_POLICY


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    if code:
        assert body["error"]["code"] == code
    assert "Traceback" not in r.text and 'File "' not in r.text


def test_facets_of_everything(client):
    r = client.get("/api/facets")
    assert r.status_code == 200
    body = FacetsResponse.model_validate(r.json())
    assert body.total == 51
    assert list(body.facets) == list(FACETS)
    assert sum(v.count for v in body.facets["meeting_month"]) == 51
    assert not any(v.selected for values in body.facets.values() for v in values)
    depts = {v.value: v.count for v in body.facets["department"]}
    assert depts["戸籍住民課"] == 4  # №3, 12, 31, 32
    counts = [v.count for v in body.facets["department"]]
    assert counts == sorted(counts, reverse=True)


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    health = Health.model_validate(r.json())
    assert health.status == "ok" and health.records == 51 and health.backend


def test_opensearch_description(client):
    r = client.get("/opensearch.xml")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/opensearchdescription+xml")
    root = ET.fromstring(r.content)
    ns = {"os": "http://a9.com/-/spec/opensearch/1.1/"}
    assert root.find("os:ShortName", ns).text
    templates = {u.get("type"): u.get("template") for u in root.findall("os:Url", ns)}
    assert templates["text/html"].startswith("http://testserver/?q={searchTerms}")
    assert templates["application/json"].startswith("http://testserver/api/search?q={searchTerms}")
    page = client.get("/").text
    assert 'rel="search" type="application/opensearchdescription+xml"' in page


def test_openapi_documents_every_parameter(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/search", "/api/search.csv", "/api/cases/{case_id}", "/api/cases/{case_id}/similar",
            "/api/facets", "/healthz"} <= set(paths)
    for path, ops in paths.items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                assert p.get("description") or p["schema"].get("description"), (path, p["name"])
            if method == "get" and path.startswith("/api/search"):
                assert {"400", "503"} <= set(op["responses"])
    params = {p["name"]: p for p in paths["/api/search"]["get"]["parameters"]}
    assert set(FACETS) <= set(params)
    assert params["department"]["schema"]["type"] == "array"  # repeatable
    assert params["size"]["schema"]["maximum"] == 100
    mode = schema["components"]["schemas"]["Mode"]["enum"]
    assert mode == ["keyword", "semantic", "hybrid"]


def test_docs_page_is_self_hosted(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert "/api/search" in r.text and "department" in r.text
    assert "cdn" not in r.text.lower() and "<script>" not in r.text


def test_every_error_has_the_shape(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.get("/nothing-here"), 404, "not_found")
    assert_error(client.get("/static/nothing.css"), 404, "not_found")
    r = client.post("/api/search")
    assert_error(r, 405, "method_not_allowed")
    assert "GET" in r.headers.get("allow", "")
    assert_error(client.delete("/api/cases/x"), 405)


def test_security_headers_everywhere(client):
    for path in ("/api/search", "/", "/healthz", "/api/nothing", "/static/style.css", "/api/search.csv"):
        h = client.get(path).headers
        assert h["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"]
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_a_broken_searcher_is_a_500_without_a_stack_trace():
    app = create_app(searcher=object())  # not a searcher: every call raises AttributeError
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/search", params={"q": "x"})
        assert_error(r, 500, "internal_error")
        assert "AttributeError" not in r.text
        assert r.headers["x-content-type-options"] == "nosniff"
        # bad input is still a 400: parameters are validated before the backend is touched
        assert_error(c.get("/api/search", params={"mode": "x"}), 400, "invalid_mode")


def test_no_index_is_503_and_health_says_so(tmp_path):
    settings = Settings(data_dir=tmp_path / "no-index", corpus_dir=tmp_path / "no-corpus")
    with TestClient(create_app(settings=settings)) as c:  # start-up does not crash without an index
        r = c.get("/healthz")
        assert_error(r, 503, "backend_unavailable")
        assert_error(c.get("/api/search"), 503, "backend_unavailable")
        assert_error(c.get("/api/facets"), 503, "backend_unavailable")
        assert c.get("/api/search").headers.get("retry-after")
        assert_error(c.get("/api/search", params={"size": 1000}), 400, "size_too_large")
        page = c.get("/", headers={"accept": "text/html"})
        assert page.status_code == 503 and "一時的に利用できません" in page.text


def test_admin_reload_needs_the_token(searcher, index_settings, tmp_path):
    with TestClient(create_app(searcher)) as c:  # no token configured: writes are off
        assert_error(c.post("/api/admin/reload"), 403, "writes_disabled")
        assert_error(c.post("/api/admin/reload", headers={"authorization": "Bearer anything"}), 403)
    settings = Settings(admin_token="s3cret-token", data_dir=tmp_path / "no-index")
    with TestClient(create_app(searcher, settings)) as c:
        r = c.post("/api/admin/reload")
        assert_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == "Bearer"
        assert_error(c.post("/api/admin/reload", headers={"authorization": "Bearer wrong"}), 401)
        assert_error(c.post("/api/admin/reload", headers={"authorization": "Basic s3cret-token"}), 401)
        # right token: the reload really runs (and here finds no index, so the old searcher stays)
        r = c.post("/api/admin/reload", headers={"authorization": "Bearer s3cret-token"})
        assert_error(r, 503, "backend_unavailable")
        assert c.get("/healthz").json()["records"] == 51
    with TestClient(create_app(searcher, index_settings.model_copy(update={"admin_token": "s3cret-token"}))) as c:
        r = c.post("/api/admin/reload", headers={"authorization": "Bearer s3cret-token"})
        assert r.status_code == 200 and r.json()["records"] == 51
        assert c.app.state.searcher_holder.get() is not searcher  # a fresh searcher over the index on disk
    assert_error(TestClient(create_app(searcher)).get("/api/admin/reload"), 405)
