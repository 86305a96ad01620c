"""Exact field values for a sample of cases from the seed report (conventions: docs/ingest.md)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ingest.pipeline import parse_file

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "corpus" / "raw"
SEED = RAW_DIR / "shinjuku" / "r05-kojin-joho-hogo-kanri-unei-kaigi.txt"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def cases():
    _manifest, records, _warnings = parse_file(SEED, RAW_DIR)
    return {r.number: r for r in records}


def test_case_1(cases):
    r = cases[1]
    assert r.id == "shinjuku-privacy-council-2023-001"
    assert (r.municipality, r.council, r.fiscal_year, r.fiscal_year_label) == ("新宿区", "個人情報保護管理運営会議", 2023, "令和5年度")
    assert r.report_date == dt.date(2024, 1, 18)
    assert r.title == "東京共同電子申請・届出サービスの利用に係る外部結合等について（手続の追加）"
    # The detail sheet abbreviates this as 「行政管理課、情報システム課外４課」: the summary's six win.
    assert r.departments == ["行政管理課", "情報システム課", "子ども家庭支援課", "保健予防課", "ごみ減量リサイクル課", "防災都市づくり課"]
    assert r.categories == ["外部結合", "業務委託"]
    assert r.meeting_date == dt.date(2023, 7, 28)
    assert r.result == "承認"
    assert r.project_name == "行政手続のオンライン化等の推進"
    assert r.purpose == "申請者が窓口に来庁することなく、２４時間申請手続を可能とするため、行政手続のオンライン化を推進し、区民の利便性の向上を図るため。"
    assert r.subjects == "手続の申請者"
    assert r.body.split("\n") == [
        "１ 概要",
        "区では、平成１６年度から東京都及び都内区市町村で構成される東京電子自治体共同運営協議会（東京電子自治体共同運営センター）が提供する「東京共同電子申請・届出サービス」を活用し、住民票の写しの交付請求や乳幼児・子ども医療証の申請などの手続をオンラインで受け付けている。",
        "この度、新たに手続を追加することで、さらなる区民の利便性の向上を図ることとする。",
        "２ 外部結合及び業務委託の付議内容",
        "（１）外部結合",
        "既に外部結合を行っている「東京共同電子申請・届出サービス」において、手続の追加を行う。",
        "（２）業務委託",
        "「東京共同電子申請・届出サービス」の運用管理業務を委託する富士通株式会社が取扱う手続の追加を行う。",
        "３ 対象者",
        "約３，１２０件",
    ]
    # The diagram follows 別紙のとおり and a page number `1` that must not survive.
    assert r.attachment.startswith("東京共同電子申請・届出サービスに係る個人情報の流れ\n")
    assert "（富士通株式会社 プライバシーマーク・ISMS認証取得）" in r.attachment
    assert r.contractors == ["富士通株式会社"]
    assert r.prior_approvals == []
    assert (r.source.file, r.source.line_start, r.source.line_end, r.source.summary_line) == (
        "shinjuku/r05-kojin-joho-hogo-kanri-unei-kaigi.txt", 509, 705, 6)


def test_case_9_has_no_attachment(cases):
    r = cases[9]
    assert r.title == "新宿区物価高騰対策臨時給付金給付事業に係るシステム改修について（特定個人情報保護評価の報告）"
    assert r.departments == ["総務課"]
    # The detail 区分 says 電算処理（特定個人情報保護評価の報告）; the summary's plain value is kept.
    assert r.categories == ["電算処理"]
    assert r.meeting_date == dt.date(2023, 9, 1)
    assert r.project_name == "新宿区物価高騰対策臨時給付金給付事業"
    assert r.attachment == ""
    assert r.body.endswith("（３） 合 計      １２２，８２６件")
    assert "税務システム" not in r.body  # №10 starts right after №9's last line
    assert r.prior_approvals == ["令和５年度第３回個人情報保護管理運営会議承認済"]
    assert squash(r.subjects).startswith("（１）令和５年度分の市町村民税均等割が非課税である世帯令和５年６月１日")
    assert "昭和 25年法律第 226 号" in r.subjects  # spaces inside a line are the source's
    assert (r.source.line_start, r.source.line_end, r.source.summary_line) == (2138, 2211, 104)


def test_case_10_row_merged_with_title(cases):
    # Summary l.111 `10 税務システムの再整備等について 税務課`; the page-1 header follows the row.
    r = cases[10]
    assert r.title == "税務システムの再整備等について"
    assert r.departments == ["税務課"]
    assert r.categories == ["電算処理", "業務委託"]
    assert r.meeting_date == dt.date(2023, 9, 1)
    assert r.result == "承認"
    assert r.project_name == "税務システムの再整備"
    assert "区政情報課" not in r.departments
    assert r.source.summary_line == 111
    assert r.source.line_start == 2212


def test_case_26_seven_departments(cases):
    r = cases[26]
    assert r.title == "保健情報システム（対人系）等の地方公共団体情報システム標準化に対応した健康管理システムへの移行について"
    assert r.departments == ["健康政策課", "健康づくり課", "保健予防課", "牛込保健センター", "四谷保健センター", "東新宿保健センター", "落合保健センター"]
    assert r.categories == ["電算処理", "外部結合", "業務委託"]
    assert r.meeting_date == dt.date(2023, 11, 16)
    assert r.project_name == "保健情報システム（対人系）等の地方公共団体情報システム標準化に対応した健康管理システムへの移行"
    assert squash(r.subjects) == "新宿区の保健事業の利用者"
    assert r.body.startswith("１ 概要\n保健情報システム（対人系）は、各種保健事業")


def test_case_34_summary_title_wins(cases):
    r = cases[34]
    assert r.title == "生活困窮者自立支援法に基づく子どもの学習・生活支援事業の業務の委託について（対象者の拡充及び委託内容の変更）"
    assert r.departments == ["生活福祉課", "保護担当課", "子ども家庭課", "子ども家庭支援課"]
    assert r.categories == ["業務委託"]
    assert r.meeting_date == dt.date(2023, 12, 21)
    assert r.project_name == "生活困窮者自立支援法に基づく子どもの学習・生活支援事業"
    assert r.purpose == "貧困の連鎖を防止するため"
    assert r.prior_approvals == [
        "平成２５年度第１回情報公開・個人情報保護審議会了承済み",
        "平成２６年度第２回同審議会了承済み",
        "平成２６年度第８回同審議会了承済み",
    ]
    # Header without a leading space, right after a page-number line.
    assert r.source.line_start == 6925


def test_case_35_notes(cases):
    r = cases[35]
    assert r.title == "社会保障・税番号制度の導入に伴う団体内統合宛名等システム及び新宿区自治体中間サーバの開発について（事務の追加）"
    assert r.departments == ["生活福祉課", "保護担当課", "子ども家庭課", "情報システム課"]
    assert r.categories == ["電算処理", "外部結合", "業務委託"]
    # The ※ note in the 事業名 cell goes; the ※ notes in 目的 and 対象者 are part of the cell text.
    assert r.project_name == "団体内統合宛名等システム及び新宿区自治体中間サーバの整備"
    assert squash(r.purpose).endswith("※追加する事務の目的①外国人生活保護事務の実施のため②従来の健康保険証廃止に伴う、個人番号利用による健康保険証情報の確認")
    assert squash(r.subjects).endswith("※追加する事務の対象者①外国人生活保護受給者②「新宿区子どもの医療費の助成に関する条例」第３条に規定する助成を受ける資格のある子ども")
    # Page break mid-sentence (`…個人番号利用による` / ` 資格確認を…`) is joined.
    assert "個人番号利用による資格確認を行う必要があるため" in r.body
    assert r.attachment.startswith("個人番号利用\u3000新規事務一覧\u3000令和６年１０月（予定）")
    assert r.prior_approvals == ["平成２７年度第９回情報公開・個人情報保護審議会了承済み"]


def test_case_41_row_tail_on_one_line(cases):
    # Summary l.410: `（委託内容の追加） 保健予防課 業務委託 12月21日 承認`.
    r = cases[41]
    assert r.title == "予防接種予診票等の印字業務の委託について（委託内容の追加）"
    assert r.departments == ["保健予防課"]
    assert r.categories == ["業務委託"]
    assert r.meeting_date == dt.date(2023, 12, 21)
    assert r.result == "承認"
    assert r.project_name == "予防接種"
    assert r.purpose == "区民の健康の保持・増進"
    assert r.prior_approvals == ["平成２２年度第６回情報公開・個人情報保護審議会了承済み"]


def test_case_45_page_break_row(cases):
    # Summary l.448: ` 45 保育業務支援システムの開発等について 保育課`.
    r = cases[45]
    assert r.title == "保育業務支援システムの開発等について"
    assert r.departments == ["保育課"]
    assert r.categories == ["電算処理", "外部結合", "業務委託"]
    assert r.meeting_date == dt.date(2024, 1, 15)
    assert r.project_name == "保育業務支援システム"
    assert r.purpose == "利用者の利便性向上及び保育施設における事務の効率化"
    assert r.source.summary_line == 448


def test_case_51_last(cases):
    r = cases[51]
    assert r.title == "私立学校就学者等支援給付金給付事業に係るシステム構築等について"
    assert r.departments == ["教育調整課"]
    assert r.categories == ["電算処理", "業務委託"]
    assert r.meeting_date == dt.date(2024, 1, 15)
    assert r.project_name == "私立学校就学者等支援給付金給付事業"
    # The source's own copy-paste error is kept verbatim.
    assert r.purpose.endswith("子育て世帯の経済的な負担の軽減を図る。サービスの質を下げることなく現行の業務を行うため。")
    assert r.source.line_end == 11080


def test_case_46_title_then_department_on_next_line(cases):
    r = cases[46]
    assert r.title == "（仮称）児童相談システムの開発等について"
    assert r.departments == ["子ども家庭支援課"]
    assert r.categories == ["電算処理", "業務委託"]


def test_case_50_wrapped_department(cases):
    assert cases[50].departments == ["選挙管理委員会事務局"]
    # Vertical one-character-per-line text is joined; its first character is taken back from
    # the box it was glued to (`（情報システム課管理）事`).
    assert "イントラＰＣ（情報システム課管理）\n事務処理内容\n" in cases[50].attachment
    assert "\n電磁的媒体によるデータの受渡し\n" in cases[50].attachment


def test_case_6_vertical_text(cases):
    assert "②資格情報、高額該当者情報の伝送" in cases[6].attachment.split("\n")


def test_body_paragraph_indents_and_continuations(cases):
    # Indented lines (字下げ) open paragraphs: the population table is three lines, not one.
    assert "\n３４６，３１３人  日本人住民：３０６，４８４人\n外国人住民： ３９，８２９人\n" in cases[3].body
    # `…および` / `（２）…` is one sentence even though its second line starts like an item.
    assert "①生活保護システム標準化にあたり、前項（１）電算処理および（２）外部結合に係るシステムへの移行業務を委託する。" in cases[33].body.split("\n")


def test_contractors(cases):
    assert cases[2].contractors == ["株式会社BotExpress"]  # only in the diagram; LINE株式会社 is not a contractor
    assert cases[8].contractors == ["シフトプラス株式会社"]
    # 社会保険診療報酬支払基金（以下、「基金」という。）… 基金に委託する: the short form resolves.
    assert cases[19].contractors == ["社会保険診療報酬支払基金", "富士通株式会社", "日本電気株式会社"]
    assert cases[6].contractors == ["東京都国民健康保険団体連合会", "国民健康保険中央会"]
    assert cases[27].contractors == ["株式会社ジェイコム東京", "株式会社ワイヤ・アンド・ワイヤレス"]
    assert cases[28].contractors == ["株式会社広済堂ネクスト"]
    assert cases[30].contractors == ["株式会社ＲＳコネクト"]  # `株式会社 ＲＳコネクト` in the source
    assert cases[36].contractors == ["新宿区医師会", "中野区医師会"]
    assert cases[40].contractors == ["株式会社ＲＳコネクト", "東京都国民健康保険団体連合会", "国民健康保険中央会"]
    assert cases[48].contractors == ["東京都獣医師会"]
    assert cases[33].contractors == []  # 株式会社アイネスのシステムを導入: a vendor, not a 委託先
    assert cases[11].contractors == []  # 国の委託により…中央会が開発した: the state's contract
    assert sum(1 for r in cases.values() if r.contractors) == 19


def test_prior_approvals(cases):
    # One approval word closing two separately cited meetings: identifiers only.
    assert cases[5].prior_approvals == ["平成１７年度第２回新宿区情報公開・個人情報保護審議会", "平成２４年度第７回同審議会"]
    assert cases[24].prior_approvals == ["平成２７年度第８回、令和元年度第４回情報公開・個人情報保護審議会承認事項"]
    assert cases[13].prior_approvals == ["令和５度第５回個人情報保護管理運営会議において、電算処理等について審議し、承認された"]
    assert cases[25].prior_approvals == ["令和５年度第６回個人情報保護管理運営会議承認済"]  # `承` / `認済` across lines
    assert cases[49].prior_approvals == ["令和５年度第３回新宿区個人情報保護管理運営会議承認済"]  # `令和５年度 ` / `第３回`
    assert cases[15].prior_approvals == []  # 別途…会議に報告する is a forward reference
    assert sum(1 for r in cases.values() if r.prior_approvals) == 28
