"""The no-answer query set (eval-data/no_answer.yaml) is what it claims: no record contains any of its
words or their synonyms (substring search over every field of every record, after the index's
normalisation), and the strict keyword query matches nothing in the real index."""
from __future__ import annotations

import json

import pytest

from analyzers import parse_query
from analyzers.normalize import normalize
from contract.backend import Filters, Sort
from evaluation.queryset import load_no_answer, load_queries

NO_ANSWER = load_no_answer()


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


@pytest.fixture(scope="module")
def record_texts(built_index):
    """Every record's every string field, normalised like the index's text (one string per record)."""
    texts = {}
    for path in sorted(built_index.records_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                texts[record["id"]] = normalize("\n".join(_strings(record)))
    assert len(texts) >= 51
    return texts


def test_the_set_is_large_enough_and_distinct_from_the_judged_set():
    assert len(NO_ANSWER.queries) >= 15
    judged = {normalize(q.text) for q in load_queries().text_queries()}
    assert not judged & {normalize(q.text) for q in NO_ANSWER.queries}


@pytest.mark.parametrize("query", NO_ANSWER.queries, ids=lambda q: q.id)
def test_no_record_contains_the_words_or_their_synonyms(query, record_texts):
    for word in query.absent_words:
        variants = {normalize(word)}
        for term in parse_query(word).all_terms():
            variants.update(v.text for v in term.variants)
        found = {v: sorted(i for i, text in record_texts.items() if v in text) for v in variants}
        assert not any(found.values()), f"{query.id}: {word!r} occurs in {found}"


@pytest.mark.parametrize("query", NO_ANSWER.queries, ids=lambda q: q.id)
def test_the_strict_keyword_query_matches_nothing(query, searcher):
    ranked = searcher.backend.keyword(parse_query(query.text), Filters(), Sort.relevance, 0, 1)
    assert ranked.total == 0, f"{query.id}: {ranked.ids}"
