"""CaseRecord → IndexDocument: analysis and embedding happen here, once, for every backend."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

import numpy as np

from analyzers import ANALYZER_VERSION, index_streams
from embeddings.base import Embedder, l2_normalise
from embeddings.cache import EmbeddingCache
from embeddings.passages import case_passages
from engine.projects import project_key
from indexer.document import TEXT_FIELDS, IndexDocument
from ingest.models import CaseRecord


def facet_values(record: dict[str, Any]) -> dict[str, list[str]]:
    """Facet values of a stored record (keys = engine.backend.FACETS). Used at index time and by the
    searcher when it counts facets over semantic results, so both agree."""
    return {
        "department": list(dict.fromkeys(record.get("departments") or [])),
        "category": list(dict.fromkeys(record.get("categories") or [])),
        "meeting_month": [str(record["meeting_date"])[:7]] if record.get("meeting_date") else [],
        "result": [record["result"]] if record.get("result") else [],
        "fiscal_year": [str(record["fiscal_year"])] if record.get("fiscal_year") is not None else [],
        "municipality": [record["municipality"]] if record.get("municipality") else [],
    }


def field_text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value or "")


def content_hash(record: dict[str, Any], embedder_version: str | None) -> str:
    payload = json.dumps(record, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{ANALYZER_VERSION}\0{embedder_version or '-'}\0{payload}".encode("utf-8")).hexdigest()


class Preparer:
    """Turns batches of records into IndexDocuments. Without an embedder the build is text-only
    (semantic and hybrid modes then answer 'unavailable')."""

    def __init__(self, embedder: Embedder | None = None, cache: EmbeddingCache | None = None):
        self.embedder = embedder
        self.cache = cache
        self.passages = 0

    def prepare(self, records: Sequence[CaseRecord]) -> list[IndexDocument]:
        dumped = [r.model_dump(mode="json") for r in records]
        docs = []
        all_passages: list[str] = []
        spans: list[tuple[int, int]] = []
        for rec, data in zip(records, dumped):
            doc = IndexDocument(
                id=rec.id,
                number=rec.number,
                record=data,
                content_hash=content_hash(data, self.embedder.version if self.embedder else None),
                meeting_date=rec.meeting_date,
                facets=facet_values(data),
                streams={name: index_streams(field_text(data, name)) for name in TEXT_FIELDS},
                project_key=project_key(rec.project_name),
            )
            if self.embedder is not None:
                passages = case_passages(data)
                doc.passages = passages
                spans.append((len(all_passages), len(all_passages) + len(passages)))
                all_passages.extend(passages)
            docs.append(doc)
        if self.embedder is not None and docs:
            if self.cache is not None:
                vectors = self.cache.embed(self.embedder, all_passages)
            else:
                vectors = self.embedder.embed_passages(all_passages)
            for doc, (start, end) in zip(docs, spans):
                doc.passage_vectors = np.ascontiguousarray(vectors[start:end], dtype=np.float32)
                doc.case_vector = l2_normalise(doc.passage_vectors.mean(axis=0))
            self.passages += len(all_passages)
        return docs
