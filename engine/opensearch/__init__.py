"""OpenSearch backend: `OpenSearchBackend` (queries) and `OpenSearchWriter` (index builds).

Configured by OPENSEARCH_* environment variables (see `settings.py` and docs/opensearch.md);
selected with COUNCIL_SEARCH_BACKEND=opensearch.
"""
