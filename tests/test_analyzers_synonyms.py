"""Synonyms: the packaged file, the file format, expansion into Term.variants, operator extension."""
import os

import pytest

from analyzers import default_synonyms, load_synonyms, parse_query
from council_search.settings import Settings
from analyzers.synonyms import SynonymFileError, parse_synonyms


def variants(q: str, synonyms=None) -> list[str]:
    p = parse_query(q, synonyms)
    return [v.text for v in p.groups[0].terms[0].variants]


@pytest.mark.parametrize("query, expected", [
    ("マイナンバー", "個人番号"),
    ("個人番号", "マイナンバー"),
    ("ガバクラ", "ガバメントクラウド"),
    ("GC", "ガバメントクラウド"),
    ("監視カメラ", "防犯カメラ"),
    ("防犯カメラ", "監視カメラ"),
    ("Wi-Fi", "無線lan"),
    ("無線LAN", "wifi"),
    ("パブコメ", "パブリックコメント"),
    ("eラーニング", "elearning"),
    ("ｅラーニング", "elearning"),
    ("e-learning", "eラーニング"),
    ("PIA", "特定個人情報保護評価"),
    ("LGWAN", "総合行政ネットワーク"),
    ("国保", "国民健康保険"),
    ("ウイルス", "ウィルス"),
    ("ワクチン接種", "予防接種"),
    ("コンビニ払い", "コンビニ収納"),
    ("NEC", "日本電気"),
    ("マイナ保険証", "オンライン資格確認"),
    ("マイナンバー", "特定個人情報"),
    ("住基", "住民記録"),
])
def test_packaged_synonyms(query, expected):
    vs = variants(query)
    assert expected in vs
    assert vs.index(expected) > 0  # variant 0 is always the user's own word


def test_one_way_rules_do_not_reverse():
    assert "ガバクラ" not in variants("ガバメントクラウド")
    assert "パブコメ" not in variants("パブリック・コメント")


def test_variant_flags_and_streams():
    term = parse_query("ガバクラ").groups[0].terms[0]
    assert term.text == "ガバクラ"
    assert [v.is_synonym for v in term.variants] == [False, True]
    assert term.variants[1].streams.morph == ("ガバメント", "クラウド")


def test_phrases_are_not_expanded():
    assert variants('"ガバクラ"') == ["ガバクラ"]
    assert variants("「個人番号」") == ["個人番号"]


def test_substring_rewrite_for_longer_terms():
    assert "マイナンバーカード" in variants("個人番号カード")
    # a term with its own entry is not also rewritten by parts
    assert variants("マイナンバーカード") == ["マイナンバーカード", "個人番号カード"]
    assert "防犯カメラ設置" in variants("監視カメラ設置")


def test_format_equivalence_and_one_way():
    smap = parse_synonyms("""
        # comment
        犬, イヌ, dog   # trailing comment
        猫 => ネコ, cat
        ＡＢＣ, Ｘ－Ｙ
    """)
    assert set(smap.expand("犬")) == {"イヌ", "dog"}
    assert set(smap.expand("dog")) == {"犬", "イヌ"}
    assert set(smap.expand("猫")) == {"ネコ", "cat"}
    assert smap.expand("ネコ") == ()
    assert "xy" in smap.expand("abc")      # entries are normalised like the text
    assert "Ｘ-Ｙ" in smap


@pytest.mark.parametrize("bad", ["a => ", "=> b", "a => b => c", " , "])
def test_malformed_lines_name_file_and_line(bad):
    with pytest.raises(SynonymFileError, match=r"f\.txt:2"):
        parse_synonyms(f"ok, fine\n{bad}\n", "f.txt")


def test_extra_file_from_settings(tmp_path, monkeypatch):
    extra = tmp_path / "extra.txt"
    extra.write_text("審議会, 協議会\nガバクラ => 政府共通クラウド\n", encoding="utf-8")
    monkeypatch.setenv("COUNCIL_SEARCH_SYNONYMS_FILE", str(extra))
    path = Settings().synonyms_file          # the operator names it through Settings
    assert path == extra
    assert "協議会" in variants("審議会", default_synonyms(path))
    vs = variants("ガバクラ", default_synonyms(path))
    assert "政府共通クラウド" in vs and "ガバメントクラウド" in vs   # merged with the packaged file
    # Editing the file takes effect without a restart (cache keyed on mtime).
    extra.write_text("審議会, 委員会\n", encoding="utf-8")
    st = extra.stat()
    os.utime(extra, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert "委員会" in variants("審議会", default_synonyms(path))


def test_broken_extra_file_keeps_the_service_running(tmp_path, caplog):
    bad = tmp_path / "bad.txt"
    bad.write_text("ok, fine\na => b => c\n", encoding="utf-8")
    with pytest.raises(SynonymFileError, match="bad.txt:2"):
        load_synonyms(extra=bad)
    with caplog.at_level("ERROR", logger="analyzers.synonyms"):
        assert "個人番号" in variants("マイナンバー", default_synonyms(bad))   # the packaged file only
        assert "個人番号" in variants("マイナンバー", default_synonyms(bad))
    assert len([r for r in caplog.records if "bad.txt:2" in r.getMessage()]) == 1   # logged once
    assert "個人番号" in variants("マイナンバー", default_synonyms(tmp_path / "missing.txt"))


def test_load_synonyms_from_path(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("庁舎, 本庁舎\n", encoding="utf-8")
    smap = load_synonyms(f)
    assert len(smap) == 2
    assert variants("庁舎", smap) == ["庁舎", "本庁舎"]
    assert variants("マイナンバー", smap) == ["マイナンバー"]


def test_packaged_file_parses_and_is_substantial():
    smap = load_synonyms()
    assert len(smap) >= 40
