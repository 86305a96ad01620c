"""Property-based run of schemathesis against the app's own OpenAPI schema: whatever input it
generates, the API answers without a 5xx, with a documented status code, content type, headers and
body schema."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from council_search.settings import Settings
from service.app import create_app
from service.deps import SearcherHolder

import schemathesis_hooks  # noqa: E402,F401  (registers the cross-parameter date rule)

# Every check that applies to a read-only API without credentials, including both directions of
# schema exactness: schema-valid requests are accepted, schema-invalid ones are refused (issue 14).
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.response_headers_conformance, schemathesis.checks.positive_data_acceptance,
          schemathesis.checks.negative_data_rejection, schemathesis.checks.missing_required_header,
          schemathesis.checks.unsupported_method]

# The schema does not depend on the searcher, so it is loaded at import (schemathesis' lazy fixture
# loader does not work with this pytest); the session's real searcher is plugged in by `real_searcher`.
APP = create_app(settings=Settings())  # explicit: do not prime get_settings()' cache at collection time
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def real_searcher(searcher):
    APP.state.searcher_holder = SearcherHolder(APP.state.settings, searcher)
    yield


# Every draft sent to /api/precedents is embedded by the real model (~0.1-1 s each on a busy
# 2-core machine): it gets fewer examples than the cheap endpoints.
EMBEDDING = "/api/precedents"


@schema.exclude(path=EMBEDDING).parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(real_searcher, case):
    case.call_and_validate(checks=CHECKS)


@schema.include(path=EMBEDDING).parametrize()
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_embedding_endpoints_conform_to_their_schema(real_searcher, case):
    case.call_and_validate(checks=CHECKS)
