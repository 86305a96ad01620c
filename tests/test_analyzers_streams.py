"""Token streams: exact output for domain terms, and the substring/recall guarantees."""
import pytest

from analyzers import STOP_WORDS, index_tokens, normalize, term_streams
from contract.query import TokenStreams


def index_streams(text: str) -> TokenStreams:
    """The index side's tokens, split back (no unigram stream: nothing indexes one)."""
    t = index_tokens(text)
    return TokenStreams(morph=tuple(t.morph.split()), bigram=tuple(t.bigram.split()), unigram=())

# (text, morph, bigram) -- unigram is always one token per character for these terms.
DOMAIN_TERMS = [
    ("ガバメントクラウド", ["ガバメント", "クラウド"],
     ["ガバ", "バメ", "メン", "ント", "トク", "クラ", "ラウ", "ウド"]),
    ("再委託", ["再", "委託"], ["再委", "委託"]),
    ("特定個人情報保護評価", ["特定", "個人", "情報", "保護", "評価"],
     ["特定", "定個", "個人", "人情", "情報", "報保", "保護", "護評", "評価"]),
    ("東京共同電子申請・届出サービス", ["東京", "共同", "電子", "申請", "届出", "サービス"],
     ["東京", "京共", "共同", "同電", "電子", "子申", "申請", "請届", "届出", "出サ", "サー", "ービ", "ビス"]),
    ("外部結合", ["外部", "結合"], ["外部", "部結", "結合"]),
    ("個人番号", ["個人", "番号"], ["個人", "人番", "番号"]),
    ("マイナポータル", ["マイナ", "ポータル"], ["マイ", "イナ", "ナポ", "ポー", "ータ", "タル"]),
    ("業務委託", ["業務", "委託"], ["業務", "務委", "委託"]),
]


@pytest.mark.parametrize("text, morph, bigram", DOMAIN_TERMS, ids=[t[0] for t in DOMAIN_TERMS])
def test_domain_term_streams(text, morph, bigram):
    s = index_streams(text)
    assert list(s.morph) == morph
    assert list(s.bigram) == bigram
    # Query side gives the same streams for a plain term, plus one unigram per character.
    q = term_streams(text)
    assert (q.morph, q.bigram) == (s.morph, s.bigram)
    assert list(q.unigram) == [c for c in text if c != "・"]


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


@pytest.mark.parametrize("query, text", [
    ("再委託", "再委託先の事業者"),
    ("委託", "業務委託を行う"),
    ("個人番号", "個人番号カードの交付"),
    ("クラウド", "ガバメントクラウド"),
    ("AWS", "ガバメントクラウド（ＡＷＳ）"),
    ("LINE", "ＬＩＮＥを活用した電子申請"),
    ("パブリックコメント", "パブリック・コメントの実施"),
    ("令和7年度", "令和 7 年度末までに"),
    ("電子申請・届出", "東京共同電子申請・届出サービス"),
    ("電子申請 届出", "東京共同電子申請・届出サービス"),  # separators may differ between query and text
])
def test_bigram_phrase_is_substring_match(query, text):
    q, t = term_streams(query), index_streams(text)
    assert _contains(t.bigram, q.bigram)


def test_bigrams_do_not_cross_run_boundaries():
    s = index_streams("委託、再委託")
    assert "託再" not in s.bigram
    assert list(s.bigram) == ["委託", "再委", "委託"]


def test_latin_words_are_whole_tokens():
    s = index_streams("ＬＩＮＥとLGWAN、Wi-Fiとe-learning")
    assert "line" in s.bigram and "lgwan" in s.bigram and "wifi" in s.bigram and "elearning" in s.bigram
    assert "line" in s.morph and "lgwan" in s.morph
    # A Latin word does not match inside another word.
    assert not _contains(index_streams("online").bigram, term_streams("line").bigram)


def test_latin_letters_and_digits_are_separate_segments():
    s = index_streams("ISO27001及びＩＳＭＳ")
    assert list(s.bigram) == ["iso", "27", "70", "00", "01", "1及", "及び", "isms"]
    for q in ("ISO", "27001", "ISO 27001", "ISO27001", "isms"):
        assert _contains(s.bigram, term_streams(q).bigram), q
    assert "iso" in s.morph and "27001" in s.morph


def test_single_character_runs_and_unigrams():
    s = index_streams("課、係")
    assert list(s.bigram) == ["課", "係"]
    assert list(term_streams("課、係").unigram) == ["課", "係"]
    assert "ム課" in index_streams("情報システム課").bigram     # what a one-character query 課 finds


def test_morph_drops_stop_words_and_punctuation_only():
    s = index_streams("個人情報の保護に関する法律に基づき、区が委託する。")
    assert "の" not in s.morph and "に" not in s.morph and "、" not in s.morph and "。" not in s.morph
    for word in ("個人", "情報", "保護", "法律", "委託"):
        assert word in s.morph
    assert not set(s.morph) & STOP_WORDS


def test_morph_never_uses_lemmas():
    # unidic's lemma of クラウド is "crowd": only surfaces are indexed.
    s = index_streams("クラウドサービス")
    assert "crowd" not in " ".join(s.morph)
    assert "クラウド" in s.morph


def test_tokens_never_contain_whitespace():
    s = index_streams("Open Data の 活用\n令和 ５ 年\u3000度　ＡＷＳ　ｗｅｂ サイト")
    for stream in (s.morph, s.bigram):
        assert all(tok and not any(c.isspace() for c in tok) for tok in stream)
    t = index_tokens("Open Data の 活用\n令和 ５ 年\u3000度")
    assert "  " not in t.morph and "  " not in t.bigram and t.bigram == t.bigram.strip()


def test_term_streams_never_empty_for_words():
    for term in ("の", "及び", "a", "1", "①", "する", "課"):
        s = term_streams(term)
        assert s.morph and s.unigram, term
        assert s.bigram or len(normalize(term)) == 1, term


def test_single_character_terms_use_the_unigram_stream():
    # Engines match a one-character variant through the unigram stream (bigram stream empty).
    s = term_streams("課")
    assert s.bigram == () and s.unigram == ("課",)
    assert "ム課" in index_streams("情報システム課").bigram
    assert term_streams("aws").bigram == ("aws",)
    assert term_streams("再委").bigram == ("再委",)


def test_empty_and_symbol_only_text():
    assert index_streams("") == index_streams("、。・！")
    assert index_streams("").bigram == ()


def test_long_tokens_are_capped_identically():
    word = "a" * 500
    assert index_streams(word).bigram == term_streams(word).bigram
    assert all(len(t) <= 64 for t in index_streams(word).bigram)


def test_thread_safe_analysis():
    from concurrent.futures import ThreadPoolExecutor
    texts = [t for t, _, _ in DOMAIN_TERMS] * 20
    expected = [index_streams(t) for t in texts]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(index_streams, texts)) == expected


def test_sentence_cache_does_not_change_output():
    from analyzers.streams import _wakati, clear_caches
    text = "個人情報を保護する。" * 3 + "再委託先の事業者。ガバメントクラウドへ移行する"
    clear_caches()
    first = index_streams(text)
    again = index_streams(text)
    expected = [t for t in _wakati(normalize(text))
                if t not in STOP_WORDS and t != "。"]
    assert list(first.morph) == list(again.morph) == expected
