"""The query language: AND / phrase / OR / exclusion / case numbers, and bad input."""
import pytest

from analyzers import MAX_QUERY_CHARS, MAX_TERMS, parse_query
from analyzers.synonyms import SynonymMap

NO_SYNONYMS = SynonymMap()


def shape(q: str, synonyms=NO_SYNONYMS):
    p = parse_query(q, synonyms)
    return [[(t.variants[0].text, t.phrase) for t in g.terms] for g in p.groups], \
        [t.variants[0].text for t in p.excluded]


def test_spaces_are_and_including_full_width_space():
    assert shape("個人番号 委託") == ([[("個人番号", False)], [("委託", False)]], [])
    assert shape("個人番号\u3000委託") == shape("個人番号 委託")
    assert shape("  個人番号   委託  ") == shape("個人番号 委託")


def test_phrase_quotes():
    assert shape('"再委託先 事業者"') == ([[("再委託先事業者", True)]], [])
    assert shape("「再委託先」") == ([[("再委託先", True)]], [])
    assert shape("『外部結合』") == ([[("外部結合", True)]], [])
    assert shape("＂外部結合＂") == ([[("外部結合", True)]], [])
    assert shape('"open data"') == ([[("open data", True)]], [])


def test_or_groups_terms():
    assert shape("防犯カメラ OR 監視カメラ 設置") == (
        [[("防犯カメラ", False), ("監視カメラ", False)], [("設置", False)]], [])
    assert shape("a OR b OR c") == ([[("a", False), ("b", False), ("c", False)]], [])
    assert shape("a ＯＲ b") == shape("a OR b")
    # lowercase "or" is a word, not an operator
    assert shape("a or b") == ([[("a", False)], [("or", False)], [("b", False)]], [])


def test_exclusion():
    assert shape("委託 -警視庁") == ([[("委託", False)]], ["警視庁"])
    assert shape("委託 －警視庁") == shape("委託 -警視庁")
    assert shape("委託 NOT 警視庁") == shape("委託 -警視庁")
    assert shape('委託 -"業務委託"') == ([[("委託", False)]], ["業務委託"])
    # a hyphen inside a word is not an operator
    assert shape("Wi-Fi") == ([[("wifi", False)]], [])


def test_terms_are_normalised_and_keep_the_users_text():
    p = parse_query("ＡＷＳ パブリック・コメント", NO_SYNONYMS)
    assert [t.text for t in p.all_terms()] == ["ＡＷＳ", "パブリック・コメント"]
    assert [t.variants[0].text for t in p.all_terms()] == ["aws", "パブリックコメント"]
    assert p.semantic_text() == "ＡＷＳ パブリック・コメント"
    assert all(not t.variants[0].is_synonym for t in p.all_terms())


def test_term_streams_are_attached():
    p = parse_query("再委託", NO_SYNONYMS)
    v = p.groups[0].terms[0].variants[0]
    assert v.streams.bigram == ("再委", "委託")
    assert v.streams.morph == ("再", "委託")


@pytest.mark.parametrize("q, number", [
    ("№12", 12), ("No.12", 12), ("no12", 12), ("Ｎｏ．１２", 12), ("#12", 12), ("案件40", 40), ("案件番号 7", 7),
    ("№ 12", 12), ("NO. 3", 3),
])
def test_explicit_case_number_takes_only_the_exact_path(q, number):
    p = parse_query(q)
    assert p.case_number == number
    assert p.groups == () and not p.is_empty


def test_bare_number_is_case_number_and_text():
    p = parse_query("12")
    assert p.case_number == 12
    assert [t.variants[0].text for t in p.all_terms()] == ["12"]
    assert parse_query("１２").case_number == 12
    assert parse_query("0").case_number is None
    assert parse_query("12345").case_number is None
    assert parse_query("12 委託").case_number is None
    # 法律第40号 is ordinary text in the records, not a case reference
    p = parse_query("第40号")
    assert p.case_number is None and [t.variants[0].text for t in p.all_terms()] == ["第40号"]


def test_case_id():
    p = parse_query("shinjuku-privacy-council-2023-012")
    assert p.case_id == "shinjuku-privacy-council-2023-012"
    assert p.groups == ()
    assert parse_query(" SHINJUKU-privacy-council-2023-012 ").case_id == "shinjuku-privacy-council-2023-012"


@pytest.mark.parametrize("q", [
    '"unbalanced', "「開き括弧だけ", "OR", "OR OR", "a OR", "OR a", "-", "- a", "a -", "NOT", "---",
    '""', "「」", "、。！", "-OR", "a OR -b", '"a" "b', "ＯＲ　ＯＲ", "\ud800壊れた", "\x00\x01",
])
def test_malformed_queries_never_raise(q):
    p = parse_query(q)
    assert isinstance(p.warnings, tuple)
    for t in p.all_terms() + list(p.excluded):
        assert t.variants[0].streams.unigram  # every kept term is searchable


def test_warnings_explain_what_was_dropped():
    assert [w.code for w in parse_query('"再委託').warnings] == ["unbalanced_quote"]
    assert [t.variants[0].text for t in parse_query('"再委託').all_terms()] == ["再委託"]
    assert [w.code for w in parse_query("OR 委託").warnings] == ["or_without_term_before"]
    assert [w.code for w in parse_query("委託 OR").warnings] == ["or_without_term_after"]
    assert [w.code for w in parse_query("委託 NOT").warnings] == ["not_without_term_after"]
    assert [w.code for w in parse_query("委託 OR -個人").warnings] == ["or_before_excluded"]
    assert [w.code for w in parse_query("委託 -").warnings] == ["lone_minus"]
    assert [(w.code, w.message) for w in parse_query("委託 !!!").warnings] == [
        ("no_word_characters", "ignored '!!!': no letters or digits")]
    assert parse_query("、。").is_empty
    assert parse_query("").is_empty and parse_query("").warnings == ()
    assert parse_query("   ").is_empty


def test_only_excluded_terms_warns():
    p = parse_query("-委託")
    assert p.groups == () and [t.text for t in p.excluded] == ["委託"]
    assert [w.code for w in p.warnings] == ["only_excluded"]


def test_oversize_input_is_cut_with_warning():
    p = parse_query("委託 " * 2000)
    assert p.warnings[0].code == "query_truncated" and str(MAX_QUERY_CHARS) in p.warnings[0].message
    assert len(p.raw) <= MAX_QUERY_CHARS
    p = parse_query(" ".join(f"語{i}" for i in range(100)))
    assert len(p.all_terms()) == MAX_TERMS
    assert any(w.code == "too_many_terms" and str(MAX_TERMS) in w.message_ja for w in p.warnings)
    p = parse_query("あ" * 900)
    assert len(p.all_terms()[0].variants[0].text) <= 100


def test_duplicate_terms_in_an_or_group_are_merged():
    assert shape("委託 OR 委託") == ([[("委託", False)]], [])
    assert shape("-a -a b") == ([[("b", False)]], ["a"])
    assert shape("委託 ＡＷＳ 委託 aws") == ([[("委託", False)], [("aws", False)]], [])
    assert shape('委託 "委託"') == ([[("委託", False)], [("委託", True)]], [])


def test_user_text_never_reaches_engine_syntax():
    # Engines get tokens, and tokens are letters/digits only: query-syntax characters cannot survive.
    p = parse_query('title:委託 AND (a OR b) +c ~d* ^2 \\ {x} [y] <z> & |', NO_SYNONYMS)
    tokens = [tok for t in p.all_terms() for v in t.variants
              for stream in (v.streams.morph, v.streams.bigram, v.streams.unigram) for tok in stream]
    assert tokens
    assert all(tok.isalnum() for tok in tokens), tokens
