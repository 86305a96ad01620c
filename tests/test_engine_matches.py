"""Matches vs related (docs/quality.md): `total`, the facets and the pages describe the cases that
match; near-in-meaning cases that do not match are `related`, apart and never counted. Real index,
real embedder."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.api_params import MAX_PAGE_SIZE
from contract.backend import FACETS, Mode
from evaluation.queryset import load_no_answer, load_queries
from contract.document import facet_values

JUDGED = load_queries().text_queries()
SEMANTIC_MODES = (Mode.hybrid, Mode.semantic)


def all_matches(searcher, **kw) -> list[str]:
    ids, page = [], 1
    while True:
        res = searcher.search(searcher.params(size=MAX_PAGE_SIZE, page=page, **kw))
        ids += [h.id for h in res.hits]
        if len(ids) >= res.total or not res.hits:
            return ids
        page += 1


@pytest.mark.parametrize("mode", SEMANTIC_MODES)
def test_nothing_matches_a_topic_no_case_is_about(searcher, mode):
    res = searcher.search(searcher.params(q="チャットボット", mode=mode))
    assert res.total == 0 and res.hits == []
    assert all(v.count == 0 for values in res.facets.values() for v in values)
    assert 5 <= len(res.related) <= 8                       # a handful, near in meaning, apart
    assert [h.match.semantic_rank for h in res.related] == sorted(h.match.semantic_rank for h in res.related)
    assert not any(h.match.by_meaning for h in res.related)


@pytest.mark.parametrize("mode", SEMANTIC_MODES)
def test_most_no_answer_queries_match_nothing(searcher, mode):
    queries = load_no_answer().queries
    with_matches = [q.id for q in queries if searcher.search(searcher.params(q=q.text, mode=mode)).total]
    assert len(with_matches) <= 0.1 * len(queries), with_matches


@pytest.mark.parametrize("mode", SEMANTIC_MODES)
def test_gov_cloud_redelegation_counts_the_cases_with_both_words(searcher, mode):
    keyword = set(all_matches(searcher, q="ガバメントクラウド 再委託", mode=Mode.keyword))
    assert len(keyword) == 7
    res = searcher.search(searcher.params(q="ガバメントクラウド 再委託", mode=mode, size=50))
    assert {h.id for h in res.hits} == keyword and res.total == 7
    assert sum(v.count for v in res.facets["result"]) == 7
    for hit in res.hits:
        assert {(t.term, t.how.value) for t in hit.match.terms} == {("ガバメントクラウド", "literal"), ("再委託", "literal")}
        assert not hit.match.by_meaning
    assert res.related and not {h.id for h in res.related} & keyword


def test_a_sentence_matches_by_meaning_with_its_rank(searcher):
    res = searcher.search(searcher.params(q="公園に防犯カメラを増設する", mode=Mode.hybrid))
    assert [h.number for h in res.hits] == [18] and res.total == 1
    assert res.hits[0].match.by_meaning and res.hits[0].match.semantic_rank == 1
    assert "relaxed_match" in [w.code for w in res.query.warnings]


@pytest.mark.parametrize("mode", SEMANTIC_MODES)
def test_a_case_with_an_excluded_word_never_matches_by_meaning(searcher, mode):
    """Each neighbour that passes the test by meaning is kept only if it lacks the excluded words
    (engine/searcher.py `_neighbours`, one membership pass for all of them)."""
    base = searcher.search(searcher.params(q="公園に防犯カメラを増設する", mode=mode))
    by_meaning = {h.id for h in base.hits if h.match.by_meaning}
    assert by_meaning
    res = searcher.search(searcher.params(q="公園に防犯カメラを増設する -カメラ", mode=mode, size=50))
    assert not {h.id for h in res.hits} & by_meaning
    assert not any("カメラ" in " ".join(map(str, r.values())) for r in searcher.backend.fetch([h.id for h in res.hits]).values())


def test_match_reasons_name_the_synonym_and_the_normalised_form(searcher):
    camera = searcher.search(searcher.params(q="監視カメラ", mode=Mode.keyword))
    assert [h.number for h in camera.hits] == [18]
    assert [(t.term, t.how.value, t.via) for t in camera.hits[0].match.terms] == [("監視カメラ", "synonym", "防犯カメラ")]
    assert [(e.term, e.synonyms[0]) for e in camera.query.expansions] == [("監視カメラ", "防犯カメラ")]
    aws = searcher.search(searcher.params(q="AWS", mode=Mode.keyword))      # the reports write ＡＷＳ
    assert aws.total == 6
    assert {(t.how.value, t.via) for h in aws.hits for t in h.match.terms} == {("normalized", "ＡＷＳ")}
    assert all(h.match.semantic_rank is None for h in aws.hits)          # keyword mode: no semantic side


def test_synonyms_off_searches_only_the_words_as_typed(searcher):
    on = searcher.search(searcher.params(q="監視カメラ", mode=Mode.keyword))
    off = searcher.search(searcher.params(q="監視カメラ", mode=Mode.keyword, synonyms="off"))
    assert on.total == 1 and off.total == 0
    assert off.query.expansions == [] and off.query.synonyms.value == "off"
    # normalisation is not a synonym: ＡＷＳ still finds AWS with synonyms off
    assert searcher.search(searcher.params(q="ＡＷＳ", mode=Mode.keyword, synonyms="off")).total == 6


def test_filters_only_narrow_the_matched_set(searcher):
    q = "区の基幹業務システムをガバメントクラウドへ移行する案件"
    unfiltered = set(all_matches(searcher, q=q, mode=Mode.hybrid))
    assert unfiltered
    records = searcher.backend.fetch(sorted(unfiltered))
    department = Counter(d for r in records.values() for d in facet_values(r)["department"]).most_common(1)[0][0]
    narrowed = set(all_matches(searcher, q=q, mode=Mode.hybrid, department=[department]))
    assert narrowed == {i for i, r in records.items() if department in facet_values(r)["department"]}


def _expected_counts(searcher, ids):
    counts = {name: Counter() for name in FACETS}
    for record in searcher.backend.fetch(ids).values():
        for name, values in facet_values(record).items():
            counts[name].update(values)
    return {name: dict(c) for name, c in counts.items()}


@pytest.mark.parametrize("mode", [Mode.keyword, *SEMANTIC_MODES])
def test_facet_counts_equal_the_matched_sets_counts_for_every_judged_query(searcher, mode):
    wrong = []
    for query in JUDGED:
        res = searcher.search(searcher.params(q=query.text, mode=mode))
        ids = all_matches(searcher, q=query.text, mode=mode)
        assert len(ids) == res.total == len(set(ids)), query.id
        shown = {name: {v.value: v.count for v in res.facets[name] if v.count} for name in FACETS}
        if shown != _expected_counts(searcher, ids):
            wrong.append(query.id)
    assert not wrong


def test_a_facet_count_is_what_selecting_it_gives(searcher):
    """For every judged query in hybrid mode: each department's count is the total when selected."""
    wrong = []
    for query in JUDGED:
        res = searcher.search(searcher.params(q=query.text, mode=Mode.hybrid))
        for value in res.facets["department"][:3]:
            picked = searcher.search(searcher.params(q=query.text, mode=Mode.hybrid, department=[value.value]))
            if picked.total != value.count:
                wrong.append((query.id, value.value, value.count, picked.total))
    assert not wrong
