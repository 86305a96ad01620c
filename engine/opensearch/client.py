"""One place that builds the opensearch-py client and turns transport failures into
`BackendUnavailable` (the API answers 503 and /healthz says why)."""
from __future__ import annotations

import contextlib
from typing import Iterator

import urllib3
from opensearchpy import OpenSearch
from opensearchpy import exceptions as osx

from contract.backend import BackendUnavailable
from engine.opensearch.breaker import CircuitBreaker
from engine.opensearch.settings import OpenSearchSettings


def make_client(settings: OpenSearchSettings, *, retries: int = 0) -> OpenSearch:
    """A client for `settings`. The API keeps `retries=0`: a down cluster must turn into a quick 503,
    not a hanging request; the indexer retries connection failures a few times."""
    auth = None
    if settings.user:
        auth = (settings.user, settings.password.get_secret_value() if settings.password else "")
    kwargs = {}
    if settings.url.startswith("https://"):
        kwargs["use_ssl"] = True
        kwargs["verify_certs"] = settings.verify_certs
        kwargs["ssl_show_warn"] = settings.verify_certs  # an explicit opt-out should not spam every request
        if settings.ca_certs:
            kwargs["ca_certs"] = str(settings.ca_certs)
    return OpenSearch(
        hosts=[settings.url],
        http_auth=auth,
        # urllib3 takes separate connect and read timeouts; bulk and index management calls pass
        # their own (settings.bulk_timeout) per request.
        timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.timeout),
        max_retries=retries,
        retry_on_timeout=retries > 0,
        **kwargs,
    )


@contextlib.contextmanager
def unavailable_on_failure(url: str, breaker: CircuitBreaker | None = None) -> Iterator[None]:
    """Map "cannot talk to the cluster" errors to BackendUnavailable; other errors (a bad request
    is a bug here, never user input) propagate unchanged. With a `breaker`: fail at once while it is
    open, and feed it every timeout/connection failure and every answer."""
    if breaker is not None:
        breaker.before_call()
    try:
        yield
    except osx.ConnectionTimeout as exc:
        raise _failed(breaker, f"OpenSearch at {url} timed out") from exc
    except osx.SSLError as exc:
        raise BackendUnavailable(f"OpenSearch at {url}: TLS failed (certificate not trusted? see OPENSEARCH_CA_CERTS / OPENSEARCH_VERIFY_CERTS)") from exc
    except osx.ConnectionError as exc:
        raise _failed(breaker, f"OpenSearch at {url} is unreachable") from exc
    except osx.AuthenticationException as exc:
        raise BackendUnavailable(f"OpenSearch at {url} refused the credentials (check OPENSEARCH_USER/PASSWORD)") from exc
    except osx.AuthorizationException as exc:
        raise BackendUnavailable(f"OpenSearch at {url}: the configured user may not read the index") from exc
    except osx.TransportError as exc:
        if breaker is not None:
            breaker.succeeded()  # the cluster answered
        if exc.status_code in (429, 502, 503, 504):
            raise BackendUnavailable(f"OpenSearch at {url} is unavailable ({exc.status_code})") from exc
        raise
    else:
        if breaker is not None:
            breaker.succeeded()


def _failed(breaker: CircuitBreaker | None, message: str) -> BackendUnavailable:
    if breaker is None:
        return BackendUnavailable(message)
    opened = breaker.failed(message)
    return BackendUnavailable(message, retry_after=opened)
