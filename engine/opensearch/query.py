"""ParsedQuery + Filters → OpenSearch query DSL. Pure functions (no client), so the request bodies
are covered by golden files even where no OpenSearch can run.

User text reaches OpenSearch only as analysed tokens inside `match_phrase` / `term` clauses on
whitespace-analysed fields: never through query_string / simple_query_string syntax.

Keyword semantics (mirroring `analyzers.query_model` and the embedded engine):
- groups are ANDed, the terms of a group ORed, the variants of a term ORed;
- a variant *matches* when its bigram stream occurs contiguously in any text field (substring
  semantics: 委託 finds 業務委託), or, for a one-character variant, its unigram occurs;
- a morphological match (whole words in order, `MORPH_SLOP` gaps unless the user quoted a phrase)
  only adds score, weighted `MORPH_WEIGHT` against `BIGRAM_WEIGHT`, times the field boost;
  synonyms weigh `SYNONYM_WEIGHT`;
- excluded terms must not match any text field.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from analyzers.query_model import ParsedQuery, Term, Variant
from engine import ranking
from engine.backend import FACETS, Filters, Sort
from engine.opensearch.schema import DATE_FIELD, PASSAGE_VECTOR, PASSAGES, text_field
from indexer.document import TEXT_FIELDS

Query = dict[str, Any]
MATCH_NONE: Query = {"match_none": {}}
MATCH_ALL: Query = {"match_all": {}}
# Ties (equal scores, equal dates) are broken by case number, then id, so paging is stable.
TIE_BREAK: list[dict[str, Any]] = [{"number": {"order": "asc"}}, {"id": {"order": "asc"}}]


def _round(x: float) -> float:
    return round(float(x), 6)


def _boolean(**clauses: Any) -> Query:
    return {"bool": {k: v for k, v in clauses.items() if v not in (None, [], {})}}


def _any(queries: list[Query]) -> Query:
    """OR of queries (scores add up); no queries → matches nothing."""
    if not queries:
        return MATCH_NONE
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _recall_clauses(variant: Variant, weight: float) -> list[Query]:
    """The clauses that decide whether `variant` matches, one per text field."""
    s = variant.streams
    out: list[Query] = []
    for field in TEXT_FIELDS:
        boost = _round(ranking.FIELD_BOOSTS.get(field, 1.0) * ranking.BIGRAM_WEIGHT * weight)
        if s.bigram:
            out.append({"match_phrase": {text_field(field, "bigram"): {"query": " ".join(s.bigram), "boost": boost}}})
        elif len(s.unigram) == 1:
            out.append({"term": {text_field(field, "unigram"): {"value": s.unigram[0], "boost": boost}}})
    return out


def _morph_clauses(variant: Variant, phrase: bool, weight: float) -> list[Query]:
    """Scoring-only clauses: the variant's morphological tokens, in order."""
    tokens = variant.streams.morph
    if not tokens:
        return []
    slop = 0 if phrase else ranking.MORPH_SLOP
    out = []
    for field in TEXT_FIELDS:
        boost = _round(ranking.FIELD_BOOSTS.get(field, 1.0) * ranking.MORPH_WEIGHT * weight)
        clause: dict[str, Any] = {"query": " ".join(tokens), "boost": boost}
        if slop and len(tokens) > 1:
            clause["slop"] = slop
        out.append({"match_phrase": {text_field(field, "morph"): clause}})
    return out


def variant_query(variant: Variant, phrase: bool) -> Query:
    weight = ranking.SYNONYM_WEIGHT if variant.is_synonym else 1.0
    recall = _recall_clauses(variant, weight)
    if not recall:
        return MATCH_NONE  # nothing indexable (e.g. only punctuation): cannot match
    return _boolean(must=[_any(recall)], should=_morph_clauses(variant, phrase, weight))


def term_query(term: Term) -> Query:
    return _any([variant_query(v, term.phrase) for v in term.variants])


def term_matches(term: Term) -> Query:
    """Match condition only (no scoring clauses), for exclusions."""
    return _any([c for v in term.variants for c in _recall_clauses(v, 1.0)])


def text_query(query: ParsedQuery) -> Query:
    """The scored match part of a keyword search (no filters)."""
    must = [_any([term_query(t) for t in g.terms]) for g in query.groups]
    must_not = [term_matches(t) for t in query.excluded]
    exact: list[Query] = []
    if query.case_id:
        exact.append({"term": {"id": {"value": query.case_id}}})
    if query.case_number is not None:
        exact.append({"term": {"number": {"value": int(query.case_number)}}})
    if not must and not exact:
        must = [MATCH_ALL]
    if exact and must:
        # A number-looking query: the exact case first (a constant score above any BM25 score),
        # text matches after it.
        text = must[0] if len(must) == 1 else {"bool": {"must": must}}
        pinned = {"constant_score": {"filter": _any(exact), "boost": EXACT_BOOST}}
        return _boolean(should=[pinned, text], minimum_should_match=1, must_not=must_not)
    if exact:
        return _boolean(must=[{"constant_score": {"filter": _any(exact), "boost": EXACT_BOOST}}], must_not=must_not)
    return _boolean(must=must, must_not=must_not)


EXACT_BOOST = 1000.0


def filter_clauses(filters: Filters) -> list[Query]:
    out: list[Query] = []
    for facet in FACETS:
        values = filters.selected.get(facet)
        if values:
            out.append({"terms": {facet: sorted(values)}})
    if filters.date_from or filters.date_to:
        rng: dict[str, str] = {}
        if filters.date_from:
            rng["gte"] = filters.date_from.isoformat()
        if filters.date_to:
            rng["lte"] = filters.date_to.isoformat()
        out.append({"range": {DATE_FIELD: rng}})
    return out


def _filtered(query: Query, filters: Filters) -> Query:
    clauses = filter_clauses(filters)
    if not clauses:
        return query
    return {"bool": {"must": [query], "filter": clauses}}


def sort_spec(sort: Sort) -> list[Any]:
    if sort is Sort.newest:
        return [{DATE_FIELD: {"order": "desc"}}, *TIE_BREAK]
    if sort is Sort.oldest:
        return [{DATE_FIELD: {"order": "asc"}}, *TIE_BREAK]
    return [{"_score": {"order": "desc"}}, *TIE_BREAK]


def keyword_body(query: ParsedQuery, filters: Filters, sort: Sort, offset: int, limit: int) -> dict[str, Any]:
    return {
        "query": _filtered(text_query(query), filters),
        "sort": sort_spec(sort),
        "from": int(offset),
        "size": int(limit),
        "track_total_hits": True,
        "_source": False,
    }


def facet_body(query: ParsedQuery, filters: Filters, size: int = 100) -> dict[str, Any]:
    """Multi-select facets in one request: the query without filters, every facet's counts under
    the *other* facets' selections (a filter aggregation each), and `post_filter` applying all of
    them to the hits (whose total is then the filtered total)."""
    aggs: dict[str, Any] = {}
    for facet in FACETS:
        others = filter_clauses(filters.without(facet))
        terms = {"terms": {"field": facet, "size": int(size), "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        aggs[facet] = {"filter": {"bool": {"filter": others}} if others else MATCH_ALL, "aggs": {"values": terms}}
    body: dict[str, Any] = {"query": text_query(query), "size": 0, "track_total_hits": True, "aggs": aggs}
    clauses = filter_clauses(filters)
    if clauses:
        body["post_filter"] = {"bool": {"filter": clauses}}
    return body


def knn_body(vector: np.ndarray, filters: Filters, k: int, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """Nearest cases by their best passage: a `knn` query on the nested passage vectors (a nested
    document's parent scores its best child), with the filters applied inside the kNN search
    (efficient filtering: k results even under a narrow filter)."""
    pre = filter_clauses(filters)
    knn: dict[str, Any] = {"vector": [float(x) for x in np.asarray(vector, dtype=np.float32).ravel()], "k": int(k)}
    if pre or exclude:
        knn["filter"] = _boolean(filter=pre, must_not=[{"ids": {"values": sorted(exclude)}}] if exclude else [])
    return {
        "size": int(k),
        "_source": False,
        "query": {"nested": {"path": PASSAGES, "score_mode": "max", "query": {"knn": {PASSAGE_VECTOR: knn}}}},
    }


def cosine_from_score(score: float) -> float:
    """OpenSearch's cosinesimil score is (1 + cos) / 2; report cosine like the embedded engine."""
    return 2.0 * float(score) - 1.0
