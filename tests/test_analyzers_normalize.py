"""Normalisation: the matching form of text (index and query side)."""
import pytest

from analyzers import normalize, normalize_with_offsets


@pytest.mark.parametrize(
    "variant, canonical",
    [
        ("ＡＷＳ", "AWS"),
        ("ＬＩＮＥ", "LINE"),
        ("ＬＩＮＥ", "line"),
        ("パブリック・コメント", "パブリックコメント"),
        ("パブリック･コメント", "パブリックコメント"),       # half-width middle dot
        ("ｅラーニング", "eラーニング"),
        ("e-ラーニング", "eラーニング"),
        ("１２", "12"),
        ("髙田馬場", "高田馬場"),
        ("山﨑", "山崎"),
        ("濱田", "浜田"),
        ("令和 7 年度", "令和７年度"),
        ("令和　７年度末", "令和7年度末"),               # ideographic space
        ("第 10条", "第１０条"),
        ("９月 1 日", "9月1日"),
        ("Wi-Fi", "wifi"),
        ("Ｗｉ－Ｆｉ", "wi-fi"),
        ("ｶﾞﾊﾞﾒﾝﾄｸﾗｳﾄﾞ", "ガバメントクラウド"),          # half-width kana + voiced marks
        ("サ―ビス", "サービス"),                         # horizontal bar drawn as long-vowel mark
        ("サ－ビス", "サービス"),
        ("サｰビス", "サービス"),
        ("３，１２０件", "3120件"),
        ("①", "1"),
        ("➂", "3"),                                     # dingbat digit (corpus l.2032)
        ("⑴", "(1)"),
        ("Ⅱ", "ii"),
        ("いすゞ", "いすず"),
        ("ガバメントクラ\nウド", "ガバメントクラウド"),    # a PDF line end inside a word
        ("か\u3099", "が"),                              # combining dakuten
        ("個人\u200b番号", "個人番号"),                  # zero-width space
        ("９７ヶ所", "97か所"),
        ("９７箇所", "97か所"),
        ("３ヵ月", "3カ月"),
    ],
)
def test_variants_normalise_to_the_same_form(variant, canonical):
    assert normalize(variant) == normalize(canonical)


def test_exact_forms():
    assert normalize("ＡＷＳ") == "aws"
    assert normalize("パブリック・コメント") == "パブリックコメント"
    assert normalize("令和 7 年度") == "令和7年度"
    assert normalize("１２") == "12"
    assert normalize("髙") == "高"
    assert normalize("ｅラーニング") == "eラーニング"


def test_meaningful_differences_are_kept():
    # ー inside katakana words is part of the word; a dash between digits is not a long vowel.
    assert normalize("サービス") != normalize("サビス")
    assert normalize("1-2") == "1-2"
    # ・ between kanji words separates them (東京共同電子申請・届出サービス).
    assert normalize("申請・届出") == "申請・届出"
    # Spaces between Latin words stay (one space), so words do not run together.
    assert normalize("Open  Data") == "open data"
    assert normalize("  個人番号  ") == "個人番号"
    assert normalize("霞ヶ関") == "霞ヶ関"          # ヶ outside a counter is left alone
    assert normalize("ケース") == "ケース"


def test_offsets_point_at_source_characters():
    text = "ＡＷＳの\nパブリック・コメント"
    norm, offsets = normalize_with_offsets(text)
    assert norm == normalize(text)
    assert len(offsets) == len(norm)
    start = norm.index("パブリックコメント")
    src_start, src_end = offsets[start], offsets[start + len("パブリックコメント") - 1] + 1
    assert text[src_start:src_end] == "パブリック・コメント"
    assert text[offsets[0]:offsets[2] + 1] == "ＡＷＳ"


def test_offsets_for_expanding_characters():
    norm, offsets = normalize_with_offsets("⑴個人")
    assert norm == "(1)個人"
    assert offsets == [0, 0, 0, 1, 2]


def test_idempotent_on_corpus_text(corpus_text):
    sample = corpus_text[:20000]
    once = normalize(sample)
    assert normalize(once) == once
    assert normalize_with_offsets(sample)[0] == once


@pytest.fixture(scope="module")
def corpus_text():
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "corpus/raw/shinjuku/r05-kojin-joho-hogo-kanri-unei-kaigi.txt"
    return path.read_text(encoding="utf-8")
