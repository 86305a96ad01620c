"""A query whose words no single case has in common: nothing *matches* in keyword mode (total 0),
and the cases with some of the words are listed apart as related, more words first."""
from contract.backend import Mode


def test_sentence_query_in_keyword_mode_matches_nothing_and_relates_the_case(searcher):
    res = searcher.search(searcher.params(q="一時保育の利用料をコンビニで支払えるようにする", mode=Mode.keyword))
    assert res.total == 0 and res.hits == []
    assert all(v.count == 0 for values in res.facets.values() for v in values)
    assert res.related[0].number == 44
    assert [w.code for w in res.query.warnings][-1] == "relaxed_match"


def test_relaxed_matching_only_when_the_and_query_is_empty(searcher):
    strict = searcher.search(searcher.params(q="ガバメントクラウド 再委託", mode=Mode.keyword))
    assert sorted(h.number for h in strict.hits) == [12, 13, 14, 15, 31, 38, 40]
    assert "relaxed_match" not in [w.code for w in strict.query.warnings]
    assert strict.related == []


def test_related_cases_with_more_words_come_first(searcher):
    # 防犯カメラ and 公園 both occur only in №18; 増設 nowhere: AND is empty, OR finds №18 first.
    res = searcher.search(searcher.params(q="公園 防犯カメラ 増設", mode=Mode.keyword))
    assert res.total == 0 and res.related and res.related[0].number == 18
    assert {t.term for t in res.related[0].match.terms} == {"公園", "防犯カメラ"}


def test_related_cases_only_on_the_first_page(searcher):
    res = searcher.search(searcher.params(q="公園 防犯カメラ 増設", mode=Mode.keyword, page=2))
    assert res.related == []


def test_only_excluded_terms_list_every_case_without_them(searcher):
    everything = searcher.search(searcher.params(q="", mode=Mode.keyword, size=100))
    with_word = searcher.search(searcher.params(q="委託", mode=Mode.keyword, size=100))
    without = searcher.search(searcher.params(q="-委託", mode=Mode.keyword, size=100))
    assert without.total == everything.total - with_word.total > 0
    assert not {h.id for h in without.hits} & {h.id for h in with_word.hits}
    assert [w.code for w in without.query.warnings] == ["only_excluded"]
