"""A small hand-written report with the same hazards in other places (next year's report).

Checks that the parser works from the document's structure: a category it has never seen, a
fiscal year other than 2023, hazards moved to other rows, and the text helpers on their own.
"""
from __future__ import annotations

import datetime as dt

import pytest

from ingest.extract import clean_attachment, contractors, prior_approvals, sentences
from ingest.models import ReportManifest
from ingest.parsers import ParseError, get_parser
from ingest.text import join_lines, paragraphs

MANIFEST = ReportManifest(
    file="r06.txt", format="shinjuku-case-list-pdf-text", municipality="新宿区", municipality_slug="shinjuku",
    council="個人情報保護管理運営会議", council_slug="privacy-council", fiscal_year=2024,
    fiscal_year_label="令和6年度", report_date=dt.date(2025, 2, 1),
)

SUMMARY = """
№ 事業名 担当課 区分 付議日
審議
結果

1 住民記録システムのガバメントクラウドへの移行について 戸籍住民課
電算処理、
情報連携

5月9日 承認
 2

図書館システムの更新に係る外部結合等につ
いて（委託内容の変更）

中央図書館、情
報システム課

外部結合、
業務委託

2月3日 承認

個人情報保護管理運営会議にて審議した案件については、区ホームページで公開
"""

SHEET_1 = """ 住民記録システムのガバメントクラウドへの移行について（№１） 

事業名 住民記録システムの移行 

担当課 戸籍住民課 

区 分 電算処理、情報連携（住民票情報の利用） 

目 的 
住民サービスの向上 

対象者 区民 

事業内容 

１ 概要 
区では、住民記録システムをガバメ

ントクラウドへ移行する（令和６年度第１回個人情報保護管理運営会議承認

済）。 
２ 対象者数 
約３５万人 
個人情報の
流れ及び情
報保護対策 
別紙のとおり 
7
住民記録システムの移行に係る個人情報の流れ
委託先
（株式会社サンプル
システムズ）
・通信暗号化
・アクセス制御
"""

SHEET_2 = """図書館システムの更新に係る外部結合等について（委託内容の変更）

（№２） 

事業名 
図書館システムの
更新 

担当課 中央図書館外１課 

区 分 外部結合、業務委託 

目 的 図書館サービスの向上 

対象者 図書館の利用者 

事業内容 
１ 概要 
図書館システムの運用保守を見本電機株式会社に委託する。 
データ連携の方式を変更する。 
防犯カメラ
設置予定場
所 
別紙のとおり 
設置予定図
Ｚ
入口
"""


def parse(text: str):
    return get_parser("shinjuku-case-list-pdf-text")(text, MANIFEST, "shinjuku/r06.txt")


def test_structure_not_positions():
    result = parse(SUMMARY + SHEET_1 + SHEET_2)
    one, two = result.records
    assert one.id == "shinjuku-privacy-council-2024-001"
    assert one.title == "住民記録システムのガバメントクラウドへの移行について"
    assert one.departments == ["戸籍住民課"]
    assert one.categories == ["電算処理", "情報連携"]  # learnt from the detail 区分 cells
    assert one.meeting_date == dt.date(2024, 5, 9)
    assert one.body == "１ 概要\n区では、住民記録システムをガバメントクラウドへ移行する（令和６年度第１回個人情報保護管理運営会議承認済）。\n２ 対象者数\n約３５万人"
    assert one.prior_approvals == ["令和６年度第１回個人情報保護管理運営会議承認済"]
    assert not one.attachment.startswith("7")  # the page number after 別紙のとおり
    assert one.contractors == ["株式会社サンプルシステムズ"]
    assert two.title == "図書館システムの更新に係る外部結合等について（委託内容の変更）"
    assert two.departments == ["中央図書館", "情報システム課"]
    assert two.meeting_date == dt.date(2025, 2, 3)  # January–March belong to the next calendar year
    assert two.project_name == "図書館システムの更新"
    assert two.contractors == ["見本電機株式会社"]
    assert two.attachment == "設置予定図\n入口"  # the Ｚ glyph is gone
    assert two.source.line_start == SUMMARY.count("\n") + SHEET_1.count("\n") + 1
    assert result.warnings == []


def test_disagreement_is_a_warning():
    result = parse(SUMMARY + SHEET_1 + SHEET_2.replace("中央図書館外１課", "中央図書館外２課"))
    assert [w[:3] for w in result.warnings] == ["№2:"]
    assert "departments differ" in result.warnings[0]


def test_summary_row_without_sheet_is_an_error():
    with pytest.raises(ParseError, match="summary rows without a detail sheet: №2"):
        parse(SUMMARY + SHEET_1)


def test_sheet_without_summary_row_is_an_error():
    summary = SUMMARY.replace(" 2\n", " x\n")
    with pytest.raises(ParseError):
        parse(summary + SHEET_1 + SHEET_2)


def test_unknown_format():
    with pytest.raises(ParseError, match="unknown report format"):
        get_parser("minutes-pdf-text")


def test_join_lines_and_paragraphs():
    assert join_lines(["富士  ", " 通株式会社が", "", "取扱う。 "]) == "富士通株式会社が取扱う。"
    lines = ["１ 概要 ", "", "区では、長い文章がここで折り返して", "次の行に続いている。", "（１）外部結合", "結合する。", "・箇条書き", "※注記"]
    assert paragraphs(lines) == "１ 概要\n区では、長い文章がここで折り返して次の行に続いている。\n（１）外部結合\n結合する。\n・箇条書き\n※注記"


def test_attachment_boxes_and_vertical_text():
    lines = ["ガバメント", "クラウド", "", "（情報システム課管理）事", "", "務", "処", "理", "", "・特定相手以外との", "通信不可", "・暗号化"]
    assert clean_attachment(lines) == "ガバメントクラウド\n（情報システム課管理）\n事務処理\n・特定相手以外との通信不可\n・暗号化"


def test_sentences_ignore_brackets():
    text = "社会保険診療報酬支払基金（以下、「基金」という。）に登録する。基金に委託する。"
    assert sentences(text) == ["社会保険診療報酬支払基金（以下、「基金」という。）に登録する。", "基金に委託する。"]
    assert contractors(text, []) == ["社会保険診療報酬支払基金"]


def test_prior_approvals_clauses():
    text = (
        "平成１７年度第２回同審議会で開始を諮問し、平成２４年度第７回同審議会で追加を諮問し、それぞれ承認された。"
        "別途個人情報保護管理運営会議に報告する。"
        "令和５年度第３回個人情報保護管理運営会議承認済みの事業である。"
    )
    assert prior_approvals(text) == ["平成１７年度第２回同審議会", "平成２４年度第７回同審議会", "令和５年度第３回個人情報保護管理運営会議承認済み"]
