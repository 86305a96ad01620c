"""Highlighter: marks on the original text (variants, synonyms, substrings), fragments, escaping."""
import json
import re
from pathlib import Path

import pytest

from analyzers import highlight, highlight_all, parse_query

RECORDS = Path(__file__).resolve().parent.parent / "corpus/records/shinjuku-privacy-council-2023.jsonl"


def marks(html: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", html)


def test_marks_original_characters_for_normalised_matches():
    assert highlight_all("ガバメントクラウド（ＡＷＳ）上に構築", parse_query("aws")) == \
        "ガバメントクラウド（<mark>ＡＷＳ</mark>）上に構築"
    assert marks(highlight_all("パブリック・コメントの実施", parse_query("パブリックコメント"))) == \
        ["パブリック・コメント"]
    assert marks(highlight_all("令和 7 年度末まで", parse_query('"令和7年度"'))) == ["令和 7 年度"]


def test_substring_and_compound_hits():
    out = highlight_all("業務委託及び再委託先の選定", parse_query("委託"))
    assert out == "業務<mark>委託</mark>及び再<mark>委託</mark>先の選定"
    assert marks(highlight_all("再委託先の選定", parse_query("再委託"))) == ["再委託"]


def test_synonym_hits_are_marked():
    out = highlight_all("デジタル庁のガバメントクラウドを利用", parse_query("ガバクラ"))
    assert marks(out) == ["ガバメントクラウド"]
    out = highlight_all("無料公衆無線 LAN環境とWi-Fi", parse_query("wifi"))
    assert marks(out) == ["無線 LAN", "Wi-Fi"]


def test_latin_words_match_whole_words_only():
    assert marks(highlight_all("online LINE", parse_query("line"))) == ["LINE"]


def test_adjacent_hits_merge():
    out = highlight_all("個人番号の利用", parse_query("個人 番号"))
    assert marks(out) == ["個人番号"]
    out = highlight_all("外部結合 業務委託", parse_query("外部結合 業務委託"))
    assert marks(out) == ["外部結合 業務委託"]


def test_morphological_fallback_marks_words_of_a_gapped_term():
    out = highlight_all("個人情報の保護に関する条例", parse_query("個人情報保護"))
    assert marks(out) == ["個人情報", "保護"]
    # a phrase must be contiguous: no fallback
    assert marks(highlight_all("個人情報の保護に関する条例", parse_query('"個人情報保護"'))) == []


def test_excluded_terms_are_not_marked():
    assert marks(highlight_all("委託と警視庁", parse_query("委託 -警視庁"))) == ["委託"]


def test_or_terms_all_marked():
    assert marks(highlight_all("防犯カメラと監視カメラ", parse_query("防犯カメラ OR 監視カメラ"))) == \
        ["防犯カメラ", "監視カメラ"]


def test_escaping():
    out = highlight_all('<script>alert("委託")</script> & 委託', parse_query("委託"))
    assert out == ('&lt;script&gt;alert(&quot;<mark>委託</mark>&quot;)&lt;/script&gt; &amp; '
                   '<mark>委託</mark>')
    frag = highlight("<b>委託</b>", parse_query("<b>"))
    assert frag == ["&lt;<mark>b</mark>&gt;委託&lt;/<mark>b</mark>&gt;"]


def test_fragments_are_bounded_and_prefer_clause_boundaries():
    text = ("区では、住民記録システムの標準化に伴い、ガバメントクラウドへ移行する。"
            "移行にあたっては、事業者に業務を委託する。"
            "なお、データの消去は区職員が立ち会い確認する。"
            "また、再委託先についても同等の安全管理措置を求める。") * 3
    frags = highlight(text, parse_query("再委託"), fragment_chars=60, max_fragments=2)
    assert len(frags) == 2
    for f in frags:
        plain = re.sub(r"</?mark>", "", f)
        assert len(plain) <= 60 + 2          # + ellipses
        assert "<mark>再委託</mark>" in f
        assert plain.startswith("また、") or plain.startswith("…") or plain[0] != "、"


def test_best_fragment_first():
    text = "委託の話。" * 10 + "個人番号の委託について。" + "委託の話。" * 10
    frags = highlight(text, parse_query("個人番号 委託"), fragment_chars=30, max_fragments=3)
    assert "個人番号" in frags[0]


def test_long_clause_is_cut_around_the_hit_with_ellipses():
    text = "あ" * 300 + "再委託" + "い" * 300
    [frag] = highlight(text, parse_query("再委託"), fragment_chars=120, max_fragments=3)
    assert "<mark>再委託</mark>" in frag
    assert frag.startswith("…") and frag.endswith("…")
    assert len(re.sub(r"</?mark>", "", frag)) <= 122


def test_no_hit_returns_the_opening_fragment():
    text = "１ 概要\n区では、東京共同電子申請・届出サービスを活用し、手続をオンラインで受け付けている。"
    frags = highlight(text, parse_query("存在しない語"))
    assert len(frags) == 1 and "<mark>" not in frags[0]
    assert frags[0].startswith("１ 概要")
    assert highlight("", parse_query("委託")) == []
    assert highlight("   ", parse_query("委託")) == []
    assert highlight("委託", parse_query("")) == ["委託"]


def test_line_ends_inside_words_are_not_shown():
    frags = highlight("地方公共団体情報システム標準化に対応した\n住民記録及び印鑑登録システム", parse_query("住民記録"))
    assert frags == ["地方公共団体情報システム標準化に対応した<mark>住民記録</mark>及び印鑑登録システム"]
    assert highlight_all("ガバメントクラ\nウド", parse_query("ガバメントクラウド")) == \
        "<mark>ガバメントクラウド</mark>"
    assert highlight_all("Open\nData 委託", parse_query("委託")) == "Open Data <mark>委託</mark>"


@pytest.mark.skipif(not RECORDS.exists(), reason="ingested corpus records not present")
def test_every_record_matching_a_term_gets_a_marked_snippet():
    records = [json.loads(line) for line in RECORDS.read_text(encoding="utf-8").splitlines()]
    q = parse_query("再委託")
    hits = [r for r in records if "再委託" in (r.get("body") or "")]
    assert hits
    for r in hits:
        frags = highlight(r["body"], q)
        assert frags and "<mark>再委託</mark>" in frags[0]


def test_segments_flow_as_their_own_scan_would_with_break_runs_cut_by_either_edge():
    # _flow uses the text's break runs found once (_breaks); a segment whose edge falls inside a run
    # (after the first of two line ends, inside "\n\u3000\n") must read as a scan of the segment alone.
    from analyzers.highlight import _flow, _flow_scan
    texts = ["住民記録\n\n印鑑登録", "Open\n \nData\n委託", "あ \n\u3000\nい\n", "\n\nx\n", "ab\ncd\n\n\nあ\nい"]
    for text in texts:
        for a in range(len(text) + 1):
            for b in range(a, len(text) + 1):
                assert _flow(text, a, b) == _flow_scan(text, a, b), (text, a, b)
    assert _flow("住民記録\n\n印鑑登録", 0, 10) == "住民記録印鑑登録"
    assert _flow("Open\n \nData", 0, 11) == "Open Data"
    assert _flow("住民記録\n\n印鑑登録", 5, 10) == "印鑑登録"    # from inside the run: its rest goes (印 is Japanese)
