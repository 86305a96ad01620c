"""Index layout: the versioned settings+mappings file and the IndexDocument → source translation.

Every analysed field is indexed twice, once per token stream (`<field>.morph`, `<field>.bigram`),
as space-joined tokens under a whitespace analyzer: the analyzers in `analyzers/` tokenise and join
once, in Python (`IndexDocument.tokens`, joined by `analyzers.join_tokens`), so OpenSearch indexes
exactly the text the embedded engine indexes. Like the embedded engine,
no unigram copy is indexed: a one-character variant is matched by a regexp over the bigram terms.
"""
from __future__ import annotations

import copy
import json

from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from contract.backend import FACETS
from contract.document import TEXT_FIELDS, IndexDocument

# Bump with a new mappings/cases-v<N>.json whenever the layout changes; the version is part of the
# physical index name, so an old index is never read with a new layout.
MAPPING_VERSION = 1
STREAMS: tuple[str, ...] = ("morph", "bigram")
DATE_FIELD = "meeting_date"
PASSAGES = "passages"
PASSAGE_VECTOR = f"{PASSAGES}.vector"
CASE_VECTOR = "case_vector"
RECORD = "record"


def text_field(field: str, stream: str) -> str:
    return f"{field}.{stream}"


@lru_cache(maxsize=None)
def _load(version: int) -> str:
    return resources.files("engine.opensearch").joinpath("mappings", f"cases-v{version}.json").read_text(encoding="utf-8")


def index_body(dimension: int | None, meta: dict[str, Any] | None = None, version: int = MAPPING_VERSION) -> dict[str, Any]:
    """Settings + mappings for a new index. `dimension` is the embedder's (None: no vector fields,
    e.g. an index built without embeddings); `meta` lands in the mapping's `_meta` (read by info())."""
    body = json.loads(_load(version))
    props = body["mappings"]["properties"]
    if dimension is None:
        del props[CASE_VECTOR], props[PASSAGES]
    else:
        props[CASE_VECTOR]["dimension"] = int(dimension)
        props[PASSAGES]["properties"]["vector"]["dimension"] = int(dimension)
    body["mappings"]["_meta"] = {**body["mappings"].get("_meta", {}), **(meta or {}), "mapping_version": version}
    return body


def _vector(v: np.ndarray) -> list[float]:
    return [float(x) for x in np.asarray(v, dtype=np.float32).ravel()]


def to_source(doc: IndexDocument, with_vectors: bool = True) -> dict[str, Any]:
    """The OpenSearch `_source` of one case (`with_vectors=False` for a text-only build, whose
    mapping has no vector fields)."""
    src: dict[str, Any] = {
        "id": doc.id,
        "number": doc.number,
        "project_key": doc.project_key,
        DATE_FIELD: doc.meeting_date.isoformat(),
        RECORD: copy.deepcopy(doc.record),
    }
    for facet in FACETS:
        src[facet] = list(doc.facets.get(facet, []))
    for field in TEXT_FIELDS:
        tokens = doc.tokens.get(field)
        src[field] = {s: (getattr(tokens, s) if tokens else "") for s in STREAMS}
    if with_vectors and doc.case_vector is not None:
        src[CASE_VECTOR] = _vector(doc.case_vector)
    if with_vectors and doc.passage_vectors is not None and len(doc.passage_vectors):
        src[PASSAGES] = [{"n": i, "vector": _vector(v)} for i, v in enumerate(doc.passage_vectors)]
    return src

