"""`OpenSearchWriter`: the `contract.writer.IndexWriter` for OpenSearch.

Each build goes into a new physical index `<alias>-v<mapping version>-<UTC timestamp>-<random>`;
readers keep using the alias, which `commit()` moves to the new index in one `_aliases` call (atomic for every
reader), after checking that every document arrived. `abort()` deletes the half-built index, so a
failed or interrupted build never shows. Old builds are deleted after the swap (OPENSEARCH_KEEP_PREVIOUS
of them are kept for rollback).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from opensearchpy import OpenSearch, helpers
from opensearchpy import exceptions as osx

from contract.backend import BackendUnavailable
from contract.document import IndexDocument
from contract.writer import BuildError, BuildInfo
from engine.opensearch.client import make_client, unavailable_on_failure
from engine.opensearch.schema import MAPPING_VERSION, index_body, to_source
from engine.opensearch.settings import OpenSearchSettings

log = logging.getLogger(__name__)

# Per-document errors are listed in the exception up to this many (the rest are counted).
MAX_REPORTED_ERRORS = 20


class IndexingError(BuildError):
    """Some documents were rejected; `errors` lists (id, reason) for each (up to MAX_REPORTED_ERRORS).
    A BuildError, so `council-search index` reports it in one line and exits non-zero."""

    def __init__(self, message: str, errors: list[tuple[str, str]]):
        super().__init__(message)
        self.errors = errors


class ClusterUnavailable(BuildError, BackendUnavailable):
    """The cluster cannot be reached during a build: BackendUnavailable for callers of the backend
    contract, BuildError for the indexer CLI (one line, non-zero exit, previous index unchanged)."""


@contextlib.contextmanager
def _cluster(url: str):
    try:
        with unavailable_on_failure(url):
            yield
    except ClusterUnavailable:
        raise
    except BackendUnavailable as exc:
        raise ClusterUnavailable(str(exc)) from exc.__cause__


@dataclass
class BulkStats:
    sent: int = 0
    indexed: int = 0
    failed: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


def physical_index_pattern(alias: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(alias)}-v(\d+)-(\d{{8}}t\d{{6}}\d*)(?:-[0-9a-f]+)?$")


class OpenSearchWriter:
    name = "opensearch"

    def __init__(self, client: OpenSearch, settings: OpenSearchSettings):
        self.client = client
        self.settings = settings
        self.alias = settings.index
        self.index: str | None = None
        self.stats = BulkStats()
        self.deleted: list[str] = []
        self._dim: int | None = None
        self._seen: set[str] = set()
        self._passages = 0

    @classmethod
    def from_env(cls) -> "OpenSearchWriter":
        settings = OpenSearchSettings()
        # The indexer may retry a dropped connection (bulk requests are idempotent by _id).
        return cls(make_client(settings, retries=3), settings)

    # -------------------------------------------------------------- IndexWriter protocol

    def has_index(self) -> bool:
        """Whether the alias exists. Raises BackendUnavailable when the cluster cannot be reached."""
        with unavailable_on_failure(self.settings.url):
            return bool(self.client.indices.exists_alias(name=self.alias))

    def open(self, info: BuildInfo) -> None:
        if self.index is not None:
            raise RuntimeError("OpenSearchWriter is single-use: open() was already called")
        stamp = info.built_at.astimezone(dt.timezone.utc).strftime("%Y%m%dt%H%M%S%f")
        # built_at may have whole-second resolution: a random suffix keeps two builds started in
        # the same second (back-to-back CLI runs) from colliding on the index name.
        self.index = f"{self.alias}-v{MAPPING_VERSION}-{stamp}-{secrets.token_hex(3)}"
        self._dim = info.dim
        body = index_body(info.dim, meta={"build": info.to_json(), "alias": self.alias})
        # Bulk loading is faster without periodic refreshes; commit() restores the mapping's value.
        body["settings"]["index"]["refresh_interval"] = "-1"
        with _cluster(self.settings.url):
            if self.client.indices.exists_alias(name=self.alias) is False and self.client.indices.exists(index=self.alias):
                raise BuildError(
                    f"{self.alias!r} is a concrete index, not an alias; rename or delete it "
                    "(the writer publishes builds by moving an alias)")
            self.client.indices.create(index=self.index, body=body, request_timeout=self.settings.bulk_timeout)
        log.info("created index %s", self.index)

    def add(self, docs: Sequence[IndexDocument]) -> None:
        if self.index is None:
            raise RuntimeError("add() before open()")
        for doc in docs:
            self._check(doc)
        with_vectors = bool(self._dim)
        actions = ({"_index": self.index, "_id": d.id, "_source": to_source(d, with_vectors)} for d in docs)
        batch_errors: list[tuple[str, str]] = []
        with _cluster(self.settings.url):
            for ok, item in helpers.streaming_bulk(
                self.client, actions,
                chunk_size=self.settings.bulk_chunk_size,
                max_retries=self.settings.bulk_max_retries,      # 429 (queue full): back off and retry
                initial_backoff=self.settings.bulk_initial_backoff,
                max_backoff=60,
                raise_on_error=False,       # collect per-document errors instead of stopping at the first
                raise_on_exception=True,    # a dead connection is not a per-document error
                yield_ok=True,
                request_timeout=self.settings.bulk_timeout,  # a bulk chunk takes far longer than a search
            ):
                self.stats.sent += 1
                if ok:
                    self.stats.indexed += 1
                    continue
                _op, detail = next(iter(item.items()))
                err = detail.get("error")
                reason = (f"{err.get('type')}: {err.get('reason')}" if isinstance(err, dict) else str(err)) or "unknown error"
                batch_errors.append((str(detail.get("_id")), f"{detail.get('status')} {reason}"))
        if batch_errors:
            self.stats.failed += len(batch_errors)
            self.stats.errors.extend(batch_errors[: max(0, MAX_REPORTED_ERRORS - len(self.stats.errors))])
            listed = "; ".join(f"{i}: {r}" for i, r in batch_errors[:5])
            more = f" (and {len(batch_errors) - 5} more)" if len(batch_errors) > 5 else ""
            # Fail the build: an index missing documents must not replace a complete one.
            raise IndexingError(f"{len(batch_errors)} document(s) rejected by OpenSearch: {listed}{more}", batch_errors)

    def _check(self, doc: IndexDocument) -> None:
        """The embedded writer's checks, so a bad document fails both backends the same way."""
        if doc.id in self._seen:
            raise ValueError(f"duplicate case id {doc.id!r} in one build")
        self._seen.add(doc.id)
        if self._dim:
            pv = doc.passage_vectors
            if pv is None or doc.case_vector is None:
                raise ValueError(f"{doc.id}: this build has embeddings but the document has none")
            shape = np.asarray(pv).shape
            if len(shape) != 2 or shape[0] == 0 or shape[1] != self._dim or np.asarray(doc.case_vector).size != self._dim:
                raise ValueError(f"{doc.id}: passage vectors of shape {shape}, expected (n>0, {self._dim})")
            self._passages += shape[0]

    def commit(self, info: BuildInfo) -> str:
        if self.index is None:
            raise RuntimeError("commit() before open()")
        index = self.index
        with _cluster(self.settings.url):
            refresh = index_body(info.dim)["settings"]["index"]["refresh_interval"]
            self.client.indices.put_settings(index=index, body={"index": {"refresh_interval": refresh}},
                                             request_timeout=self.settings.bulk_timeout)
            self.client.indices.refresh(index=index, request_timeout=self.settings.bulk_timeout)
            count = int(self.client.count(index=index)["count"])
            if count != self.stats.indexed:
                raise IndexingError(f"index {index} holds {count} documents, {self.stats.indexed} were sent", [])
            info.records = count
            info.passages = self._passages
            # The final build info (record counts are known only now) goes into the mapping's _meta.
            self.client.indices.put_mapping(index=index, body={"_meta": {
                "mapping_version": MAPPING_VERSION, "alias": self.alias, "build": info.to_json()}})
            self._swap_alias(index)
            self.deleted = self._cleanup(keep=index)
        log.info("alias %s -> %s (%d documents); deleted %s", self.alias, index, count, self.deleted or "nothing")
        self.index = None  # committed: abort() must not delete it any more
        return index

    def abort(self) -> None:
        index, self.index = self.index, None
        if index is None:
            return
        try:
            with _cluster(self.settings.url):
                self.client.indices.delete(index=index, ignore_unavailable=True)
        except Exception as exc:  # the build already failed; report, do not mask the original error
            log.warning("could not delete the aborted index %s: %s", index, exc)

    # -------------------------------------------------------------- alias and cleanup

    def _swap_alias(self, index: str) -> None:
        actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": self.alias}} for old in self.current_indices()]
        actions.append({"add": {"index": index, "alias": self.alias}})
        # One _aliases request: readers see either the old or the new index, never neither.
        self.client.indices.update_aliases(body={"actions": actions})

    def current_indices(self) -> list[str]:
        """Physical indices the alias points to now (normally one)."""
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).keys())
        except osx.NotFoundError:
            return []

    def builds(self, with_settings: bool = False) -> list[Any]:
        """All physical indices written by this writer for the alias, oldest first (with their
        index settings: (name, settings) pairs)."""
        pattern = physical_index_pattern(self.alias)
        try:
            found = self.client.indices.get(index=f"{self.alias}-v*")
        except osx.NotFoundError:
            return []

        def settings_of(name: str) -> dict[str, Any]:
            return found[name].get("settings", {}).get("index", {})

        def created(name: str) -> tuple[str, int]:
            # the name's timestamp, then the cluster's creation time (builds started in one second)
            return pattern.match(name).group(2), int(settings_of(name).get("creation_date") or 0)

        names = sorted((n for n in found if pattern.match(n)), key=created)
        return [(n, settings_of(n)) for n in names] if with_settings else names

    def _cleanup(self, keep: str) -> list[str]:
        """Delete old builds beyond keep_previous, and every half-built index of an earlier build
        that died with the cluster (abort() could not delete it then): it still has the loading
        refresh_interval of -1, which commit() resets, so it is never kept as a rollback build."""
        live = set(self.current_indices()) | {keep}
        found = self.builds(with_settings=True)
        half_built = [n for n, s in found if n not in live and s.get("refresh_interval") == "-1"]
        old = [n for n, _s in found if n not in live and n not in half_built]
        doomed = half_built + old[: max(0, len(old) - self.settings.keep_previous)]
        for name in doomed:
            try:
                self.client.indices.delete(index=name)
            except osx.NotFoundError:
                pass
        return doomed

