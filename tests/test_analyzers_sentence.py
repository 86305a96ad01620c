"""Sentence-like query words are searched by their content words, embedded whole."""
import pytest

from analyzers import parse_query
from analyzers.sentence import content_chunks


@pytest.mark.parametrize("word, chunks", [
    ("公園に防犯カメラを増設する", ["公園", "防犯カメラ", "増設"]),
    ("区の基幹業務システムをガバメントクラウドへ移行する案件", ["区", "基幹業務システム", "ガバメントクラウド", "移行"]),
    ("児童虐待の相談記録を管理するシステムの入れ替え", ["児童虐待", "相談記録", "管理", "システム", "入れ替え"]),
    ("見守りカメラを設置", ["見守りカメラ", "設置"]),   # a verb stem inside a compound stays
])
def test_sentences_split_into_content_words(word, chunks):
    assert content_chunks(word) == chunks


@pytest.mark.parametrize("word", [
    "ガバメントクラウド", "再委託先", "東京共同電子申請・届出サービス", "パブリック・コメント",
    "見守りカメラ", "委託する", "特定個人情報保護評価", "する", "の",
])
def test_words_and_compounds_stay_whole(word):
    assert content_chunks(word) == [word]


def test_parser_ands_the_content_words_and_keeps_the_sentence_for_embedding():
    p = parse_query("公園に防犯カメラを増設する")
    assert [[t.text for t in g.terms] for g in p.groups] == [["公園"], ["防犯カメラ"], ["増設"]]
    assert p.semantic_text() == "公園に防犯カメラを増設する"
    assert [(w.code, w.detail) for w in p.warnings] == [("sentence_split", "公園 防犯カメラ 増設")]


def test_phrases_exclusions_and_or_operands_are_not_split():
    assert [t.text for t in parse_query('"個人情報の保護"').all_terms()] == ["個人情報の保護"]
    assert [t.text for t in parse_query("子ども -警視庁に提供").excluded] == ["警視庁に提供"]
    p = parse_query("防犯カメラ OR 監視カメラを設置")
    assert [[t.text for t in g.terms] for g in p.groups] == [["防犯カメラ", "監視カメラを設置"]]
