"""A query whose words no single case has in common falls back to "any word" instead of 0 hits."""
from contract.backend import Mode


def test_sentence_query_finds_the_case_in_keyword_mode(searcher):
    res = searcher.search(searcher.params(q="一時保育の利用料をコンビニで支払えるようにする", mode=Mode.keyword))
    assert res.total >= 1
    assert res.hits[0].number == 44
    assert [w.code for w in res.query.warnings][-1] == "relaxed_match"


def test_relaxed_matching_only_when_the_and_query_is_empty(searcher):
    strict = searcher.search(searcher.params(q="ガバメントクラウド 再委託", mode=Mode.keyword))
    assert sorted(h.number for h in strict.hits) == [12, 13, 14, 15, 31, 38, 40]
    assert "relaxed_match" not in [w.code for w in strict.query.warnings]


def test_relaxed_results_rank_cases_with_more_words_first(searcher):
    # 防犯カメラ and 公園 both occur only in №18; 増設 nowhere: AND is empty, OR finds №18 first.
    res = searcher.search(searcher.params(q="公園 防犯カメラ 増設", mode=Mode.keyword))
    assert res.hits and res.hits[0].number == 18


def test_only_excluded_terms_list_every_case_without_them(searcher):
    everything = searcher.search(searcher.params(q="", mode=Mode.keyword, size=100))
    with_word = searcher.search(searcher.params(q="委託", mode=Mode.keyword, size=100))
    without = searcher.search(searcher.params(q="-委託", mode=Mode.keyword, size=100))
    assert without.total == everything.total - with_word.total > 0
    assert not {h.id for h in without.hits} & {h.id for h in with_word.hits}
    assert [w.code for w in without.query.warnings] == ["only_excluded"]
