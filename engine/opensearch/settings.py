"""OpenSearch connection and indexing settings from the environment (OPENSEARCH_*).

Kept apart from `council_search.settings` so the embedded engine never needs them, and named like
the variables operators already know from the OpenSearch images and clients.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OpenSearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENSEARCH_", extra="ignore")

    url: str = Field(default="https://localhost:9200", description="Cluster URL, e.g. https://opensearch:9200")
    user: str | None = Field(default=None, description="Basic-auth user (security plugin), e.g. admin")
    password: SecretStr | None = Field(default=None, description="Basic-auth password")
    verify_certs: bool = Field(default=True, description="Verify the server's TLS certificate")
    ca_certs: Path | None = Field(default=None, description="CA bundle for a private certificate authority")
    index: str = Field(default="council-cases", description="Alias the API reads; physical indices are <alias>-v<N>-<timestamp>-<random>")
    # Sized for search: a query answers in well under a second (docs/benchmarks.md); a cluster that
    # takes longer is treated as unavailable rather than holding the API's worker threads.
    connect_timeout: float = Field(default=1.0, gt=0, description="TCP connect timeout, seconds")
    timeout: float = Field(default=3.0, gt=0, description="Read timeout of a search request, seconds")
    breaker_failures: int = Field(default=3, ge=1, le=100,
                                  description="Consecutive timeouts/connection failures that open the circuit breaker")
    breaker_cooldown: float = Field(default=10.0, gt=0, le=3600,
                                    description="Seconds the open breaker answers 503 at once before one trial request")
    bulk_timeout: float = Field(default=120.0, gt=0, description="Timeout of one bulk request and of index management calls, seconds")
    bulk_chunk_size: int = Field(default=200, ge=1, le=10_000, description="Documents per bulk request")
    bulk_max_retries: int = Field(default=4, ge=0, le=20, description="Retries of a bulk chunk rejected with 429")
    bulk_initial_backoff: float = Field(default=1.0, gt=0, description="Seconds before the first retry; doubles each time")
    keep_previous: int = Field(default=0, ge=0, le=10, description="Old indices kept after an alias swap (for rollback)")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("OPENSEARCH_URL must start with http:// or https://")
        return value

    @field_validator("index")
    @classmethod
    def _check_index(cls, value: str) -> str:
        # OpenSearch index names: lower case, no spaces or wildcards, must not start with -, _ or +.
        bad = set(' "*\\<|,>/?#:')
        if not value or value != value.lower() or any(c in bad for c in value) or value[0] in "-_+":
            raise ValueError(f"OPENSEARCH_INDEX {value!r} is not a valid lower-case index name")
        return value
