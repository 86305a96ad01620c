"""ParsedQuery + Filters → OpenSearch query DSL. Pure functions (no client), so the request bodies
are covered by golden files even where no OpenSearch can run.

User text reaches OpenSearch only as analysed tokens inside `match_phrase` clauses on
whitespace-analysed fields (or one escaped character in a `regexp`): never through query_string /
simple_query_string syntax.

Keyword semantics (mirroring `contract.query` and `engine.embedded.query`, clause for clause,
so both engines return the same hit sets):
- groups are ANDed, the terms of a group ORed, the variants of a term ORed;
- a variant matches where its bigram phrase occurs in a text field (substring semantics, what the
  highlighter marks: 委託 finds 業務委託; a one-character variant without bigrams through a regexp
  over the bigram terms); its morphological phrase (whole words in order, `MORPH_SLOP` gaps unless
  quoted) only adds score; boosts per field, `BIGRAM_WEIGHT` / `MORPH_WEIGHT`, `SYNONYM_WEIGHT`;
- an excluded term must not match (bigram phrase) in any text field;
- a case number / case id query puts the exact case first (constant score far above BM25).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from analyzers import join_tokens
from contract.backend import FACETS, Filters, Sort
from contract.document import TEXT_FIELDS
from contract.query import ParsedQuery, Term, Variant
from engine import ranking
from engine.opensearch.schema import DATE_FIELD, PASSAGE_VECTOR, PASSAGES, text_field

Query = dict[str, Any]
MATCH_NONE: Query = {"match_none": {}}
MATCH_ALL: Query = {"match_all": {}}
# An exact case-number/id match scores this constant, far above any BM25 score (as in the embedded engine).
CASE_NUMBER_BOOST = 1000.0
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
    """Bigram-phrase clauses, one per text field (substring semantics)."""
    s = variant.streams
    out: list[Query] = []
    for field in TEXT_FIELDS:
        boost = _round(ranking.FIELD_BOOSTS.get(field, 1.0) * weight * ranking.BIGRAM_WEIGHT)
        if s.bigram:
            out.append({"match_phrase": {text_field(field, "bigram"): {"query": join_tokens(s.bigram), "boost": boost}}})
        else:
            chars = [u for u in s.unigram if u and not u.isspace()]
            if len(chars) == 1:
                out.append({"regexp": {text_field(field, "bigram"): {**single_char_regexp(chars[0]), "boost": boost}}})
    return out


# Characters with a meaning in Lucene's regexp syntax (escaped with a backslash).
_REGEXP_SPECIAL = frozenset('.?+*|{}[]()"\\#@&<>~')


def single_char_regexp(char: str) -> dict[str, Any]:
    """A one-character variant: any bigram term starting or ending with it, or the lone character
    (the embedded engine's `c.?|.c` over its bigram terms)."""
    c = "".join("\\" + ch if ch in _REGEXP_SPECIAL else ch for ch in char)
    return {"value": f"{c}.?|.{c}", "flags": "NONE"}


def _morph_clauses(variant: Variant, phrase: bool, weight: float) -> list[Query]:
    """Morphological-phrase clauses, one per text field (whole words in order)."""
    tokens = [t for t in variant.streams.morph if t and not t.isspace()]
    if not tokens:
        return []
    slop = 0 if phrase else ranking.MORPH_SLOP
    out = []
    for field in TEXT_FIELDS:
        boost = _round(ranking.FIELD_BOOSTS.get(field, 1.0) * weight * ranking.MORPH_WEIGHT)
        clause: dict[str, Any] = {"query": join_tokens(tokens), "boost": boost}
        if slop and len(tokens) > 1:
            clause["slop"] = slop
        out.append({"match_phrase": {text_field(field, "morph"): clause}})
    return out


def variant_query(variant: Variant, phrase: bool, weight: float = 1.0, scoring: bool = True) -> Query | None:
    """One variant across all text fields; None if it has nothing to match with. It matches where
    its bigram phrase occurs (substring semantics, what the highlighter marks); whole-word
    (morphological) matches only add score. `scoring=False`: the match-only query."""
    recall = _recall_clauses(variant, weight)
    if not recall:
        return None
    precision = _morph_clauses(variant, phrase, weight) if scoring else []
    if not precision:
        return _any(recall)
    return _boolean(must=[_any(recall)], should=precision)


def term_query(term: Term, scoring: bool = True) -> Query | None:
    clauses = []
    for v in term.variants:
        q = variant_query(v, term.phrase, ranking.SYNONYM_WEIGHT if v.is_synonym else 1.0, scoring)
        if q is not None:
            clauses.append(q)
    return _any(clauses) if clauses else None


def text_query(query: ParsedQuery, scoring: bool = True) -> Query:
    """The text part of a keyword search, exclusions included (no filters). `scoring=False` gives
    the same match set at less cost (facet counts, membership tests)."""
    must: list[Query] = []
    for group in query.groups:
        g = [q for q in (term_query(t, scoring) for t in group.terms) if q is not None]
        if not g:
            return MATCH_NONE  # a group that cannot match anything (e.g. only punctuation)
        must.append(_any(g))
    exact: list[Query] = []
    if query.case_number is not None:
        exact.append({"term": {"number": {"value": int(query.case_number)}}})
    if query.case_id:
        exact.append({"term": {"id": {"value": query.case_id}}})
    text: Query | None = None
    if must:
        text = must[0] if len(must) == 1 else {"bool": {"must": must}}
    if exact:
        # identifier fast path: the exact case first, text matches (if any) after it
        fast = {"constant_score": {"filter": _any(exact), "boost": CASE_NUMBER_BOOST}}
        text = fast if text is None else {"bool": {"should": [fast, text], "minimum_should_match": 1}}
    excluded = [q for q in (term_query(t, scoring=False) for t in query.excluded) if q is not None]
    if not excluded:
        return text if text is not None else MATCH_ALL
    return _boolean(must=[text if text is not None else MATCH_ALL], must_not=excluded)


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


def match_ids_body(query: ParsedQuery, filters: Filters, ids: list[str]) -> dict[str, Any]:
    """Which of `ids` the keyword query (with filters) matches."""
    clauses = [text_query(query, scoring=False), *filter_clauses(filters), {"ids": {"values": list(ids)}}]
    return {"query": {"bool": {"filter": clauses}},
            "size": len(ids), "_source": False, "track_total_hits": False}


def facet_body(query: ParsedQuery, filters: Filters, size: int = 100) -> dict[str, Any]:
    """Multi-select facets in one request: the query without filters, every facet's counts under
    the *other* facets' selections (a filter aggregation each), and `post_filter` applying all of
    them to the hits (whose total is then the filtered total)."""
    aggs: dict[str, Any] = {}
    for facet in FACETS:
        others = filter_clauses(filters.without(facet))
        terms = {"terms": {"field": facet, "size": int(size), "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        aggs[facet] = {"filter": {"bool": {"filter": others}} if others else MATCH_ALL, "aggs": {"values": terms}}
    # filter context: counts need the match set, not scores
    body: dict[str, Any] = {"query": {"bool": {"filter": [text_query(query, scoring=False)]}},
                            "size": 0, "track_total_hits": True, "aggs": aggs}
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
