"""`OpenSearchBackend`: the `contract.backend.SearchBackend` primitives on OpenSearch.

The shared `engine.searcher.Searcher` parses the query, fuses keyword and semantic rankings (RRF),
pages and highlights; this class only talks to the cluster. Any failure to reach the cluster raises
`BackendUnavailable` (the API answers 503; it recovers by itself when the cluster is back, since
every call opens its request afresh through the client's connection pool).
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

import numpy as np
from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as osx

from contract import provenance
from contract.backend import FACETS, BackendUnavailable, Filters, Ranked, Sort
from contract.query import ParsedQuery
from engine.api_params import ParamError
from engine.opensearch import query as dsl
from engine.opensearch.breaker import CircuitBreaker
from engine.opensearch.client import make_client, unavailable_on_failure
from engine.opensearch.schema import CASE_VECTOR, PASSAGES, RECORD
from engine.opensearch.settings import OpenSearchSettings


def _without_credentials(url: str) -> str:
    """/healthz shows the URL: never a user:password@ part of it."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))) if parts.hostname else url


# Seconds for each metadata call of info() (mapping, count, version): /healthz must answer within a
# second whatever the cluster does (service/routers/meta.py also bounds it).
INFO_TIMEOUT = 0.8


class OpenSearchBackend:
    name = "opensearch"

    def __init__(self, client: OpenSearch, settings: OpenSearchSettings):
        self.client = client
        self.settings = settings
        self.alias = settings.index
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown)
        self._version: str | None = None   # the cluster's version, asked once

    def _guard(self):
        """Every call to the cluster: BackendUnavailable on failure, at once while the breaker is open."""
        return unavailable_on_failure(self.settings.url, self.breaker)

    @classmethod
    def from_env(cls) -> "OpenSearchBackend":
        settings = OpenSearchSettings()
        return cls(make_client(settings), settings)

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._guard():
            try:
                return self.client.search(index=self.alias, body=body)
            except osx.NotFoundError as exc:
                self._raise_if_no_index(exc)
                raise
            except osx.TransportError as exc:
                # Every analysed token of a long pasted query becomes a clause; past the cluster's
                # indices.query.bool.max_clause_count Lucene refuses the query (HTTP 500).
                info = str(exc.info)
                if "too_many" in info or "maxClauseCount" in info:
                    raise ParamError("query_too_complex", "the query has too many words for the search engine; "
                                     "shorten it or split it into several searches") from exc
                if "knn" in body.get("query", {}).get("nested", {}).get("query", {}) and "dimension" in info.lower():
                    # the API embeds queries with COUNCIL_SEARCH_EMBEDDER; the index was built with another model
                    raise BackendUnavailable(
                        "semantic search is unavailable: the query embedder does not match the index's "
                        f"(see /healthz embedder; set COUNCIL_SEARCH_EMBEDDER accordingly): {exc.error}") from exc
                raise

    def _raise_if_no_index(self, exc: osx.NotFoundError) -> None:
        """A 404 for a missing document is an answer; for a missing index it is an outage."""
        if exc.error == "index_not_found_exception":
            raise BackendUnavailable(f"OpenSearch index {self.alias!r} does not exist: run `council-search index`") from exc

    @staticmethod
    def _total(res: dict[str, Any]) -> int:
        total = res["hits"]["total"]
        return int(total["value"] if isinstance(total, dict) else total)

    # -------------------------------------------------------------- SearchBackend

    def keyword(self, query: ParsedQuery, filters: Filters, sort: Sort, offset: int, limit: int) -> Ranked:
        res = self._search(dsl.keyword_body(query, filters, sort, offset, limit))
        hits = res["hits"]["hits"]
        return Ranked(
            ids=[h["_id"] for h in hits],
            scores=[float(h["_score"]) if h.get("_score") is not None else 0.0 for h in hits],
            total=self._total(res),
        )

    def match_ids(self, query: ParsedQuery, filters: Filters, ids: list[str]) -> set[str]:
        """Which of `ids` the keyword query (with filters) matches (hybrid mode's exact totals and
        facet counts)."""
        if not ids:
            return set()
        res = self._search(dsl.match_ids_body(query, filters, ids))
        return {h["_id"] for h in res["hits"]["hits"]}

    def same_project(self, case_id: str) -> list[str]:
        """Ids of the cases sharing the case's normalised 事業名 (including itself), oldest first."""
        with self._guard():
            try:
                doc = self.client.get(index=self.alias, id=case_id, _source_includes=["project_key"])
            except osx.NotFoundError as exc:
                self._raise_if_no_index(exc)
                return []
        key = doc.get("_source", {}).get("project_key")
        if not key:
            return []
        res = self._search({"query": {"term": {"project_key": key}}, "size": 1000, "_source": False,
                            "sort": dsl.sort_spec(Sort.oldest)})
        return [h["_id"] for h in res["hits"]["hits"]]

    def knn(self, vector: np.ndarray, filters: Filters, k: int, exclude: tuple[str, ...] = ()) -> Ranked:
        if k <= 0:
            return Ranked([], [], 0)
        res = self._search(dsl.knn_body(vector, filters, k, exclude))
        hits = res["hits"]["hits"]
        return Ranked(
            ids=[h["_id"] for h in hits],
            scores=[dsl.cosine_from_score(h["_score"]) for h in hits],
            total=len(hits),
        )

    def cached_facet_counts(self, query: ParsedQuery, filters: Filters, size: int = 100
                            ) -> dict[str, list[tuple[str, int]]] | None:
        return None   # every count is a request to the node (its own request cache is the node's)

    def facet_counts(self, query: ParsedQuery, filters: Filters, size: int = 100) -> dict[str, list[tuple[str, int]]]:
        res = self._search(dsl.facet_body(query, filters, size))
        aggs = res.get("aggregations", {})
        return {
            facet: [(str(b["key"]), int(b["doc_count"])) for b in aggs.get(facet, {}).get("values", {}).get("buckets", [])]
            for facet in FACETS
        }

    def fetch(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        with self._guard():
            try:
                res = self.client.mget(index=self.alias, body={"ids": list(ids)}, _source_includes=[RECORD])
            except osx.NotFoundError as exc:
                self._raise_if_no_index(exc)
                raise
        out = {}
        for d in res["docs"]:
            err = d.get("error")
            if err:  # mget reports a missing index per document, with status 200
                if isinstance(err, dict) and err.get("type") == "index_not_found_exception":
                    raise BackendUnavailable(f"OpenSearch index {self.alias!r} does not exist: run `council-search index`")
                raise BackendUnavailable(f"OpenSearch could not fetch {d.get('_id')!r}: {err}")
            if d.get("found"):
                out[d["_id"]] = d["_source"][RECORD]
        return out

    def _stored(self, case_id: str, field: str) -> Any:
        """One field of a case's stored source, or None for an unknown case."""
        with self._guard():
            try:
                res = self.client.get(index=self.alias, id=case_id, _source_includes=[field])
            except osx.NotFoundError as exc:
                self._raise_if_no_index(exc)
                return None
        return res.get("_source", {}).get(field)

    def case_vector(self, case_id: str) -> np.ndarray | None:
        vec = self._stored(case_id, CASE_VECTOR)
        return None if vec is None else np.asarray(vec, dtype=np.float32)

    def passage_vectors(self, case_id: str) -> np.ndarray | None:
        passages = sorted(self._stored(case_id, PASSAGES) or [], key=lambda p: p.get("n", 0))
        return np.asarray([p["vector"] for p in passages], dtype=np.float32) if passages else None

    def records(self) -> Iterator[dict[str, Any]]:
        with self._guard():
            try:
                for doc in helpers.scan(self.client, index=self.alias, query={"query": {"match_all": {}}},
                                        _source_includes=[RECORD], size=1000):
                    yield doc["_source"][RECORD]
            except osx.NotFoundError as exc:
                self._raise_if_no_index(exc)
                raise

    def case_vector_sample(self, limit: int) -> np.ndarray:
        """Up to `limit` case vectors (index order; all of them when there are fewer): what the
        corpus z-score of engine/matching.py is computed from."""
        res = self._search({"size": int(limit), "query": {"match_all": {}}, "sort": ["_doc"],
                            "_source": [CASE_VECTOR]})
        rows = [h["_source"][CASE_VECTOR] for h in res["hits"]["hits"] if h.get("_source", {}).get(CASE_VECTOR)]
        return np.asarray(rows, dtype=np.float32)

    def info(self) -> dict[str, Any]:
        with self._guard():
            try:
                # metadata calls are cheap: a cluster that cannot answer them quickly is unhealthy
                mapping = self.client.indices.get_mapping(index=self.alias, request_timeout=INFO_TIMEOUT)
                count = int(self.client.count(index=self.alias, request_timeout=INFO_TIMEOUT)["count"])
            except osx.NotFoundError as exc:
                raise BackendUnavailable(f"OpenSearch index {self.alias!r} does not exist: run `council-search index`") from exc
            if self._version is None:
                self._version = self.client.info(request_timeout=INFO_TIMEOUT).get("version", {}).get("number")
            version = self._version
        index, body = next(iter(mapping.items()))
        meta = body.get("mappings", {}).get("_meta", {}) or {}
        build = meta.get("build", {}) or {}
        built_at = build.get("built_at")
        return {
            "backend": self.name,
            "records": count,
            "built_at": dt.datetime.fromisoformat(built_at) if built_at else None,
            "embedder": build.get("embedder"),
            "analyzer_version": build.get("analyzer_version"),
            "index": index,
            "alias": self.alias,
            "mapping_version": meta.get("mapping_version"),
            "opensearch_version": version,
            "url": _without_credentials(self.settings.url),
            **provenance.read(build.get("extra")),
        }

    def close(self) -> None:
        self.client.close()
