"""A brute-force reference for keyword search: the `contract.query` semantics evaluated
directly on the IndexDocuments' indexed tokens, with no engine at all. Both backends must agree
with it (and so with each other) on hit sets, totals and facet counts."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from contract.backend import FACETS, Filters
from contract.document import TEXT_FIELDS, IndexDocument
from contract.query import ParsedQuery, Term, Variant


def _contains(hay: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    first = needle[0]
    return any(hay[i] == first and tuple(hay[i:i + n]) == tuple(needle) for i in range(len(hay) - n + 1))


def _single_char(token: str, c: str) -> bool:
    """The engines' one-character match: a bigram term starting or ending with c, or c alone."""
    return token == c or (len(token) == 2 and (token[0] == c or token[1] == c))


@lru_cache(maxsize=None)
def _split(joined: str) -> tuple[str, ...]:
    return tuple(joined.split())


def _variant(doc: IndexDocument, v: Variant, phrase: bool) -> bool | None:
    """True/False, or None when the variant has nothing to match with (as the engines treat it).
    Only the bigram phrase decides a match; morphological matches only rank."""
    s = v.streams
    chars = [u for u in s.unigram if u and not u.isspace()]
    if not s.bigram and len(chars) != 1:
        return None
    for field in TEXT_FIELDS:
        tokens = doc.tokens.get(field)
        if tokens is None:
            continue
        bigrams = _split(tokens.bigram)
        if s.bigram and _contains(bigrams, s.bigram):
            return True
        if not s.bigram and any(_single_char(tok, chars[0]) for tok in bigrams):
            return True
    return False


def _term(doc: IndexDocument, t: Term) -> bool | None:
    results = [_variant(doc, v, t.phrase) for v in t.variants]
    if all(r is None for r in results):
        return None
    return any(r for r in results)


def text_matches(doc: IndexDocument, q: ParsedQuery) -> bool:
    groups_ok: bool | None = None
    if q.groups:
        groups_ok = True
        for g in q.groups:
            res = [_term(doc, t) for t in g.terms]
            if all(r is None for r in res):
                return False  # a group that cannot match anything: the query matches nothing
            if not any(r for r in res):
                groups_ok = False
    exact = None
    if q.case_number is not None or q.case_id:
        exact = (q.case_number is not None and doc.number == q.case_number) or (bool(q.case_id) and doc.id == q.case_id)
    if groups_ok is None and exact is None:
        ok = True
    else:
        ok = bool(groups_ok) or bool(exact)
    if ok and any(_term(doc, t) for t in q.excluded):
        return False
    return ok


def passes(doc: IndexDocument, f: Filters) -> bool:
    for facet, values in f.selected.items():
        if values and not set(values) & set(doc.facets.get(facet, ())):
            return False
    if f.date_from and doc.meeting_date < f.date_from:
        return False
    if f.date_to and doc.meeting_date > f.date_to:
        return False
    return True


def search(docs: Iterable[IndexDocument], q: ParsedQuery, f: Filters) -> set[str]:
    return {d.id for d in docs if passes(d, f) and text_matches(d, q)}


def facet_counts(docs: Sequence[IndexDocument], q: ParsedQuery, f: Filters) -> dict[str, dict[str, int]]:
    matching = [d for d in docs if text_matches(d, q)]
    out = {}
    for facet in FACETS:
        others = f.without(facet)
        out[facet] = dict(Counter(v for d in matching if passes(d, others) for v in d.facets.get(facet, ())))
    return out
