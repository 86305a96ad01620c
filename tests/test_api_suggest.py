"""/api/suggest: completions from the corpus vocabulary, normalised matching, ranking by cases."""
from __future__ import annotations

import pytest

from engine.suggest import Entry, SuggestIndex, SuggestionKind, suggest_key, synonym_words, title_phrases


def texts(client, q, **params):
    r = client.get("/api/suggest", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return [(s["text"], s["kind"], s["count"]) for s in r.json()["suggestions"]]


def test_keys_fold_width_case_and_kana():
    assert suggest_key("ｶﾞﾊﾞﾒﾝﾄ") == suggest_key("がばめんと") == suggest_key("ガバメント")
    assert suggest_key("ＬＩＮＥ") == suggest_key("line")
    assert suggest_key("髙田") == suggest_key("高田")


def test_title_phrases_are_content_words_with_balanced_brackets():
    assert title_phrases("東京共同電子申請・届出サービスの利用に係る外部結合等について（手続の追加）") == [
        "東京共同電子申請・届出サービス", "外部結合"]
    assert "保健情報システム（対人系）" in title_phrases(
        "保健情報システム（対人系）等の地方公共団体情報システム標準化に対応した健康管理システムへの移行について")


def test_synonym_words_as_written():
    assert synonym_words("# c\n個人番号, マイナンバー\nガバクラ, GC => ガバメントクラウド\n") == [
        "個人番号", "マイナンバー", "ガバクラ", "GC", "ガバメントクラウド"]


def test_ranking_starts_first_then_by_cases():
    idx = SuggestIndex([Entry("戸籍住民課", SuggestionKind.department, 9), Entry("住民記録", SuggestionKind.phrase, 2),
                        Entry("住民税", SuggestionKind.phrase, 5)])
    assert [e.text for e in idx.suggest("じゅうみん")] == []        # kanji are not guessed from kana
    assert [e.text for e in idx.suggest("住民")] == ["住民税", "住民記録", "戸籍住民課"]
    assert [e.text for e in idx.suggest("住民記")] == ["住民記録"]
    assert [e.text for e in idx.suggest("住民記録システム")] == []


def test_corpus_vocabulary(client):
    gc = texts(client, "がば")
    assert gc[0] == ("ガバメントクラウド", "synonym", gc[0][2]) and gc[0][2] >= 10
    assert ("富士通株式会社", "contractor", 5) in texts(client, "富士")
    assert texts(client, "戸籍")[0] == ("戸籍住民課", "department", 4)
    projects = [t for t in texts(client, "行政手続") if t[1] == "project"]
    assert projects == [("行政手続のオンライン化等の推進", "project", 4)]
    assert texts(client, "ｸﾗｳﾄﾞ")[0][0].startswith("クラウド")
    assert len(texts(client, "シ", limit=3)) == 3


@pytest.mark.parametrize("params,status,code", [
    ({"q": "x" * 1001}, 400, "query_too_long"),
    ({"q": "a", "limit": 0}, 400, "invalid_parameter"),
    ({"q": "a", "limit": 21}, 400, "invalid_parameter"),
])
def test_bad_input_is_a_400_json_error(client, params, status, code):
    r = client.get("/api/suggest", params=params)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code


def test_empty_and_hostile_input(client):
    assert texts(client, "") == []
    assert texts(client, "   ") == []
    assert texts(client, "<script>alert(1)</script>") == []
