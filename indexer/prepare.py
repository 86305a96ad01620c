"""CaseRecord → IndexDocument: analysis and embedding happen here, once, for every backend.

`analyse_lines` validates and analyses a chunk of JSON lines (in a worker process when the build
has several workers, in-process with one); `PassageEmbedder` then adds passages and vectors in the
parent process, through the embedding cache."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from pydantic import ValidationError

from analyzers import index_tokens
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


def analyse(record: CaseRecord) -> IndexDocument:
    """Analysis of one record (no vectors yet): a pure function of the record."""
    data = record.model_dump(mode="json")
    return IndexDocument(
        id=record.id,
        number=record.number,
        record=data,
        meeting_date=record.meeting_date,
        facets=facet_values(data),
        tokens={name: index_tokens(field_text(data, name)) for name in TEXT_FIELDS},
        project_key=project_key(record.project_name),
    )


def analyse_lines(lines: list[tuple[str, str]]) -> list[tuple[str, IndexDocument | str]]:
    """Validate + analyse (where, JSON line) pairs: (where, document) or (where, why it is invalid)."""
    out: list[tuple[str, IndexDocument | str]] = []
    for where, line in lines:
        try:
            record = CaseRecord.model_validate_json(line)
        except ValidationError as exc:
            out.append((where, validation_message(exc)))
            continue
        out.append((where, analyse(record)))
    return out


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "record"
    return f"invalid record ({loc}: {first.get('msg')})"


class PassageEmbedder:
    """Adds passages and their vectors to analysed documents, through the embedding cache when there
    is one. Without an embedder documents pass unchanged: a text-only build (semantic and hybrid
    modes then answer 'unavailable')."""

    def __init__(self, embedder: Embedder | None = None, cache: EmbeddingCache | None = None):
        self.embedder = embedder
        self.cache = cache
        self.passages = 0       # passages embedded or taken from the cache so far

    def embed(self, docs: list[IndexDocument]) -> list[IndexDocument]:
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


def index_documents(records: Iterable[CaseRecord], embedder: Embedder | None = None,
                    cache: EmbeddingCache | None = None) -> list[IndexDocument]:
    """The IndexDocuments of `records`, exactly as a build makes them (tests and benchmarks hand them
    to a writer themselves)."""
    return PassageEmbedder(embedder, cache).embed([analyse(r) for r in records])
