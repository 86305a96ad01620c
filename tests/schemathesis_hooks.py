"""Schemathesis hooks shared by tests/test_api_schema.py and the CLI run of docs/reliability.md
(`SCHEMATHESIS_HOOKS=tests.schemathesis_hooks schemathesis run ...`).

The one rule OpenAPI cannot state is across parameters: date_from must not be after date_to (400
invalid_date_range, documented in docs/api.md). Without this hook, generated "valid" requests with
the dates the wrong way round would be counted as valid data refused."""
from __future__ import annotations

import schemathesis


@schemathesis.hook
def filter_query(ctx, query):
    if not query:
        return True
    start, end = query.get("date_from"), query.get("date_to")
    if isinstance(start, str) and isinstance(end, str) and start and end:
        return start <= end   # YYYY-MM-DD strings order like dates
    return True
