"""CaseRecord → IndexDocument: analysis and embedding happen here, once, for every backend."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Sequence

import numpy as np
from pydantic import ValidationError

from analyzers import ANALYZER_VERSION, TokenStreams, index_streams
from contract.document import TEXT_FIELDS, IndexDocument, facet_values
from embeddings.base import Embedder, l2_normalise
from embeddings.cache import EmbeddingCache
from embeddings.passages import case_passages
from engine import ranking
from indexer.projects import project_key
from ingest.models import CaseRecord


def passages_of(record: dict[str, Any]) -> list[str]:
    """The passages embedded for one stored record, cut by the current ranking tunables (read at call
    time, so `council-search eval --set PASSAGE_CHARS=…` reaches them)."""
    return case_passages(record, max_chars=ranking.PASSAGE_CHARS, max_passages=ranking.MAX_PASSAGES_PER_CASE,
                         fields=ranking.PASSAGE_FIELDS, title_prefix=ranking.PASSAGE_TITLE_PREFIX)


def field_text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value or "")


def content_hash(record: dict[str, Any], embedder_version: str | None) -> str:
    payload = json.dumps(record, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{ANALYZER_VERSION}\0{embedder_version or '-'}\0{payload}".encode("utf-8")).hexdigest()


def analyse(record: CaseRecord, embedder_version: str | None) -> IndexDocument:
    """Analysis of one record (no vectors yet). Pure function of the record: runs in worker
    processes for large builds."""
    data = record.model_dump(mode="json")
    return IndexDocument(
        id=record.id,
        number=record.number,
        record=data,
        content_hash=content_hash(data, embedder_version),
        meeting_date=record.meeting_date,
        facets=facet_values(data),
        streams={name: index_streams(field_text(data, name)) for name in TEXT_FIELDS},
        project_key=project_key(record.project_name),
    )


class Preparer:
    """Turns batches of records into IndexDocuments. Without an embedder the build is text-only
    (semantic and hybrid modes then answer 'unavailable')."""

    def __init__(self, embedder: Embedder | None = None, cache: EmbeddingCache | None = None):
        self.embedder = embedder
        self.cache = cache
        self.passages = 0

    @property
    def embedder_version(self) -> str | None:
        return self.embedder.version if self.embedder else None

    def prepare(self, records: Sequence[CaseRecord]) -> list[IndexDocument]:
        return self.embed([analyse(r, self.embedder_version) for r in records])

    def embed(self, docs: list[IndexDocument]) -> list[IndexDocument]:
        """Passages and vectors for analysed documents (through the cache when there is one)."""
        if self.embedder is None or not docs:
            return docs
        all_passages: list[str] = []
        spans: list[tuple[int, int]] = []
        for doc in docs:
            doc.passages = passages_of(doc.record)
            spans.append((len(all_passages), len(all_passages) + len(doc.passages)))
            all_passages.extend(doc.passages)
        if self.cache is not None:
            vectors = self.cache.embed(self.embedder, all_passages)
        else:
            vectors = self.embedder.embed_passages(all_passages)
        for doc, (start, end) in zip(docs, spans):
            doc.passage_vectors = np.ascontiguousarray(vectors[start:end], dtype=np.float32)
            doc.case_vector = l2_normalise(doc.passage_vectors.mean(axis=0))
        self.passages += len(all_passages)
        return docs


class JoinedStreams(Mapping):
    """Token streams of a document's fields kept space-joined: ~10x cheaper to send between
    processes than tuples of tokens. Reads as the usual `{field: TokenStreams}` mapping (split on
    access); the embedded writer uses the joined text directly (tantivy splits on whitespace).
    Only the indexed streams travel (morph, bigram): no engine indexes the unigram stream (one-
    character queries match bigram terms), and it was a third of the bytes pickled per case."""

    def __init__(self, joined: dict[str, tuple[str, str]]):
        self.joined = joined

    @classmethod
    def of(cls, streams: Mapping[str, TokenStreams]) -> "JoinedStreams":
        return cls({k: (" ".join(v.morph), " ".join(v.bigram)) for k, v in streams.items()})

    def __getitem__(self, key: str) -> TokenStreams:
        m, b = self.joined[key]
        return TokenStreams(tuple(m.split(" ")) if m else (), tuple(b.split(" ")) if b else (), ())

    def __iter__(self) -> Iterator[str]:
        return iter(self.joined)

    def __len__(self) -> int:
        return len(self.joined)


def analyse_lines(lines: list[tuple[str, str]], embedder_version: str | None) -> list[IndexDocument | tuple[str, str]]:
    """Worker-process entry: validate + analyse JSON lines; (where, message) for invalid ones."""
    out: list[IndexDocument | tuple[str, str]] = []
    for where, line in lines:
        try:
            record = CaseRecord.model_validate_json(line)
        except ValidationError as exc:
            out.append((where, validation_message(exc)))
            continue
        doc = analyse(record, embedder_version)
        doc.streams = JoinedStreams.of(doc.streams)
        out.append(doc)
    return out


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"invalid record ({loc}: {first.get('msg')})"
