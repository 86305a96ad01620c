"""Property tests: analysis never raises on arbitrary Unicode; highlighting never leaks markup."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers import (
    highlight, highlight_all, index_tokens, normalize, normalize_with_offsets, parse_query,
    term_streams,
)

# Arbitrary Unicode (surrogates included), plus a Japanese-heavy alphabet full of the characters
# the normaliser treats specially, so the interesting paths get exercised.
ANY = st.text(alphabet=st.characters(codec=None), max_size=80)
JA = st.text(
    alphabet=st.sampled_from(list(
        "委託再先個人番号ガバメントクラウドサービス・･-－―‐ｰー 　\n\tａＡaZｶﾞﾟﾞゝゞヽヾ々〻①⑴➂Ⅱ№"
        ",，.0123４５。、<>&\"'「」『』()（）ORNOT#\u3099\u200b\u00ad"
    )),
    max_size=60,
)
TEXT = st.one_of(ANY, JA)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27);")
WORD = re.compile(r"[^\W_]")


@SETTINGS
@given(TEXT)
def test_normalisation_is_consistent_and_idempotent(text):
    norm = normalize(text)
    norm2, offsets = normalize_with_offsets(text)
    assert norm2 == norm
    assert len(offsets) == len(norm)
    assert offsets == sorted(offsets)
    assert all(0 <= o < len(text) for o in offsets)
    assert normalize(norm) == norm


@SETTINGS
@given(TEXT)
def test_streams_never_raise_and_tokens_are_clean(text):
    indexed = index_tokens(text)
    q = term_streams(text)
    for stream in (indexed.morph.split(), indexed.bigram.split(), q.morph, q.bigram, q.unigram):
        for tok in stream:
            assert tok and not any(c.isspace() for c in tok)
            assert len(tok) <= 64
    # joined with single spaces: splitting on " " gives the tokens back exactly
    for joined in (indexed.morph, indexed.bigram):
        assert joined.split(" ") == joined.split() or joined == ""
    if WORD.search(normalize(text)):
        s = term_streams(text)
        assert s.morph and s.unigram
        assert s.bigram or len(s.unigram) == 1


LONG = st.one_of(
    st.text(alphabet=st.characters(codec=None), min_size=150, max_size=400),
    st.lists(st.sampled_from(["委託", "ガバメント", "・", "aws", "x" * 70, "2024年", "ß", "\U00020bb7", "、", " ",
                              "ｶﾞ", "申請・届出", "a・b", "再", "_", "-", "\n"]), min_size=60, max_size=200).map("".join),
)


@SETTINGS
@given(LONG)
def test_array_bigram_stream_equals_the_token_list_path(text):
    # the index side writes long texts' bigram stream with numpy (streams._bigram_text): it must be
    # exactly the joined token list the query side's _char_streams gives
    from analyzers import streams
    norm = normalize(text)
    want = streams.join_tokens(streams._char_streams(norm, with_unigram=False)[0])
    assert streams._bigram_text(norm) == want
    assert index_tokens(text).bigram == want


@SETTINGS
@given(st.one_of(LONG, st.lists(TEXT, min_size=3, max_size=8).map("".join)))
def test_array_stage1_equals_translate(text):
    # long texts' per-character mapping goes through a numpy table (normalize._stage1): it must be
    # exactly str.translate with the lazy table, also around characters that map to none or several
    from analyzers.normalize import _TABLE, _stage1
    assert _stage1(text) == text.translate(_TABLE)
    odd = "Ⅱ⑴…\u200b\ud800\U00020bb7\U0002f800ｶﾞ㈱"
    mixed = (text + odd) * 3
    assert _stage1(mixed) == mixed.translate(_TABLE)


def _offsets_by_loop(text):
    """normalize_with_offsets's per-character stage 1, the reference for the array path."""
    from analyzers.normalize import _TABLE
    pieces, offsets = [], []
    for i, ch in enumerate(text):
        mapped = _TABLE[ord(ch)]
        pieces.append(mapped)
        offsets.extend([i] * len(mapped))
    return "".join(pieces), offsets


@SETTINGS
@given(st.one_of(LONG, st.lists(TEXT, min_size=3, max_size=8).map("".join)))
def test_array_stage1_offsets_equal_the_loop(text):
    # long texts' stage 1 with offsets (normalize._stage1_array, used by normalize_with_offsets):
    # the same characters and the same source index for each, around odd characters too; and the
    # whole normalize_with_offsets agrees with normalize
    from analyzers.normalize import _ARRAY_STAGE1_MIN_CHARS, _stage1_array
    odd = "Ⅱ⑴…\u200b\ud800\U00020bb7\U0002f800ｶﾞ㈱"
    for t in (text, (text + odd) * 3, (odd + text) * 2):
        if len(t) < _ARRAY_STAGE1_MIN_CHARS:
            continue
        found = _stage1_array(t)
        if found is not None:
            assert found == _offsets_by_loop(t)
        norm, offsets = normalize_with_offsets(t)
        assert norm == normalize(t) and len(offsets) == len(norm) and offsets == sorted(offsets)


@SETTINGS
@given(TEXT)
def test_query_parsing_never_raises(q):
    p = parse_query(q)
    assert len(p.all_terms()) <= 32
    for t in p.all_terms() + list(p.excluded):
        assert t.variants and t.variants[0].streams.unigram


@SETTINGS
@given(TEXT, TEXT)
def test_highlight_output_is_escaped(text, q):
    pq = parse_query(q)
    outputs = highlight(text, pq, fragment_chars=40, max_fragments=2) + [highlight_all(text, pq)]
    for out in outputs:
        assert out.count("<mark>") == out.count("</mark>")
        bare = out.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in bare and ">" not in bare
        assert "&" not in ENTITY.sub("", bare)
    if text.strip():
        assert highlight(text, pq)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("委託再先業務個人番号のと、。\n ")), min_size=1, max_size=80))
def test_a_term_in_the_text_is_always_marked(text):
    # Take a word from the text itself: the highlighter must mark it somewhere.
    words = re.findall(r"[委託再先業務個人番号]{2,}", text)
    if not words:
        return
    out = highlight_all(text, parse_query(words[0]))
    assert "<mark>" in out


def _contains(haystack, needle) -> bool:
    n = len(needle)
    return any(tuple(haystack[i:i + n]) == tuple(needle) for i in range(len(haystack) - n + 1))


@SETTINGS
@given(
    st.text(alphabet=st.sampled_from(list("委託再先業務個人番号情報保護クラウドサービスー12３、。 \n（）")),
            min_size=2, max_size=80),
    st.data(),
)
def test_any_substring_of_a_run_is_found_by_its_bigram_phrase(text, data):
    # The recall guarantee the engines rely on: a query that is a substring of a word run in the
    # text has its bigram stream occur contiguously in the text's bigram stream.
    runs = [r for r in re.findall(r"[^\W_]+", normalize(text)) if len(r) >= 2]
    if not runs:
        return
    run = data.draw(st.sampled_from(runs))
    start = data.draw(st.integers(0, len(run) - 2))
    end = data.draw(st.integers(start + 2, len(run)))
    query = run[start:end]
    assert _contains(tuple(index_tokens(text).bigram.split()), term_streams(query).bigram), (text, query)


@SETTINGS
@given(st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Co", "Zs", "Lo"]),
               max_size=40))
def test_surrogates_controls_and_nul_are_harmless(text):
    norm = normalize(text)
    assert "\x00" not in norm and not any("\ud800" <= c <= "\udfff" for c in norm)
    norm.encode("utf-8")                      # always encodable (MeCab gets UTF-8)
    index_tokens(text)
    for out in [highlight_all(text, parse_query(text[:10]))] + highlight(text, parse_query(text[:10])):
        out.encode("utf-8")                   # valid text for JSON and HTML
        assert "\x00" not in out
