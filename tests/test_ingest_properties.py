"""Properties every record of the seed report must have (hazards: shared/notes/seed-report-hazards.md)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pytest

from ingest.pipeline import parse_file

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "corpus" / "raw"
SEED = RAW_DIR / "shinjuku" / "r05-kojin-joho-hogo-kanri-unei-kaigi.txt"
TEXT_FIELDS = ("title", "project_name", "purpose", "subjects", "body", "attachment")

# Words the PDF breaks across line ends (counts in the hazards note, §4).
KNOWN_WORDS = [
    "ガバメントクラウド",
    "富士通株式会社",
    "特定個人情報保護評価",
    "個人情報保護管理運営会議",
    "標準準拠システム",
    "地方公共団体情報システム",
    "シフトプラス株式会社",
    "ホームページ",
]


@pytest.fixture(scope="module")
def parsed():
    return parse_file(SEED, RAW_DIR)


@pytest.fixture(scope="module")
def records(parsed):
    return parsed[1]


@pytest.fixture(scope="module")
def raw_lines():
    return SEED.read_text(encoding="utf-8").split("\n")


@pytest.fixture(scope="module")
def summary_text(raw_lines, records):
    """The summary table with line breaks removed (it ends before the first detail sheet)."""
    first_sheet = min(r.source.line_start for r in records)
    return "".join(line.strip() for line in raw_lines[: first_sheet - 1])


def test_all_51_cases_numbered_once(records):
    assert [r.number for r in records] == list(range(1, 52))
    assert len({r.id for r in records}) == 51
    for r in records:
        assert r.id == f"shinjuku-privacy-council-2023-{r.number:03d}"


@pytest.mark.parametrize("word", KNOWN_WORDS)
def test_no_known_word_split(records, raw_lines, word):
    # A split shows as the word with whitespace (a paragraph break, a space) inside it.
    pattern = re.compile("".join(re.escape(ch) + r"\s*" for ch in word[:-1]) + re.escape(word[-1]))
    for r in records:
        for field in TEXT_FIELDS:
            text = getattr(r, field)
            for m in pattern.finditer(text):
                assert m.group(0) == word, f"№{r.number} {field}: {m.group(0)!r}"
    # And the words are all there: as often as in the raw sheet (split or not), leaving out the
    # header (the title) and the 担当課/区分 cells, which records take from the summary.
    for r in records:
        block = re.sub(r"\s+", "", "".join(raw_lines[r.source.line_start - 1 : r.source.line_end]))
        cells = block[block.index("担当課") : block.index("目的")]
        expected = block.count(word) - r.title.count(word) - cells.count(word)
        found = sum(getattr(r, f).count(word) for f in TEXT_FIELDS[1:])
        assert found == expected, (r.number, found, expected)


def test_split_company_names_joined(records):
    by_number = {r.number: r for r in records}
    for n in (1, 7, 16, 42):  # `富士  ` / ` 通株式会社`
        assert "委託する富士通株式会社が取扱う" in by_number[n].body
    assert "シフトプラス株式会社" in by_number[8].body


def test_no_page_numbers(records):
    by_number = {r.number: r for r in records}
    for r in records:
        for field in ("body", "attachment"):
            for para in getattr(r, field).split("\n"):
                # Bare page numbers (48, 77, 78, 101) never survive as paragraphs; table row
                # numbers 1–7 in №21/№35 are legitimate.
                assert not re.fullmatch(r"[0-9]{2,3}", para), f"№{r.number} {field}: {para!r}"
    assert not re.search(r"[0-9]$", by_number[15].attachment)  # `…軽微な修正等32`
    assert by_number[15].attachment.endswith("その他文言の軽微な修正等")
    assert by_number[37].attachment.endswith("チャットを追加する。")  # `…追加する。88`
    assert not by_number[1].attachment.startswith("1")


def test_no_stray_z_glyphs(records):
    for r in records:
        for field in TEXT_FIELDS:
            assert not re.search(r"(?:^|\s)[ＺｚZz](?:\s|$)", getattr(r, field)), f"№{r.number} {field}"
    assert "の提供（手渡し）" in {r.number: r for r in records}[47].attachment


def test_meeting_dates_within_fiscal_year(records):
    for r in records:
        assert dt.date(2023, 4, 1) <= r.meeting_date <= dt.date(2024, 3, 31)
        assert r.meeting_date <= r.report_date
    assert len({r.meeting_date for r in records}) == 7
    # Dates never go backwards in the report's order.
    dates = [r.meeting_date for r in records]
    assert dates == sorted(dates)


def test_departments_come_from_the_summary(records, summary_text):
    for r in records:
        assert r.departments, r.number
        for d in r.departments:
            assert d in summary_text, f"№{r.number}: {d}"
            assert re.search(r"(課|センター|事務局)$", d), f"№{r.number}: {d}"
            assert "外" not in d or not re.search(r"外[０-９0-9]+課$", d)
        assert "、".join(r.departments) in summary_text


def test_categories_are_plain_summary_values(records):
    allowed = {"電算処理", "外部結合", "業務委託", "外部提供", "防犯カメラ", "本人外収集"}
    for r in records:
        assert r.categories and set(r.categories) <= allowed, r.number
        assert len(set(r.categories)) == len(r.categories)
    assert not any("本人外収集" in r.categories for r in records)  # only a heading in №21's table


def test_titles_match_detail_headers(records, raw_lines):
    """Titles come from the summary and agree with each detail header (spaces removed), №34 aside."""
    for r in records:
        assert r.result == "承認"
        header = "".join(raw_lines[r.source.line_start - 1 : r.source.line_start + 3])
        header = re.sub(r"\s+", "", header)
        if r.number != 34:
            assert header.startswith(r.title), r.number
        assert not re.search(r"\s", r.title)


def test_display_text_keeps_original_characters(records):
    by_number = {r.number: r for r in records}
    assert "ＬＩＮＥ" in by_number[2].title
    assert "LINE" in by_number[2].body
    assert "令和３年法律第 40号" in by_number[3].purpose
    for r in records:
        for field in TEXT_FIELDS:
            text = getattr(r, field)
            assert text == text.strip(), (r.number, field)
            assert "\n\n" not in text and "\n " not in text and " \n" not in text
        # Display text is not normalised: full-width digits stay (every body starts `１ 概要`).
        assert re.search(r"[０-９]", r.body) and unicodedata.normalize("NFKC", r.body) != r.body


def test_body_has_paragraphs(records):
    for r in records:
        paras = r.body.split("\n")
        assert paras[0] == "１ 概要", r.number
        assert len(paras) >= 5
        # Headings are their own paragraphs, never glued to the following text.
        assert not any(re.match(r"^[１２３４５] [^\s]+[、。]", p) and len(p) < 12 for p in paras)


def test_purpose_and_subjects_filled(records):
    for r in records:
        assert r.project_name and r.purpose and r.subjects, r.number
        assert not r.project_name.startswith("※")
        assert "※" not in r.project_name
        assert not re.search(r"^(事業名|目 ?的|対象者)", r.purpose + r.subjects)


def test_attachments_separate_from_body(records):
    for r in records:
        assert "別紙のとおり" not in r.body
        if r.number != 9:
            assert r.attachment, r.number
        # The next case's header never leaks into this case.
        assert "（№" not in r.body + r.attachment


def test_source_ranges_partition_the_detail_sheets(records, raw_lines):
    previous_end = 0
    for r in records:
        s = r.source
        assert s.file == "shinjuku/r05-kojin-joho-hogo-kanri-unei-kaigi.txt"
        assert previous_end < s.line_start <= s.line_end <= len(raw_lines)
        assert s.summary_line < 509
        assert raw_lines[s.summary_line - 1].strip().startswith(str(r.number))
        assert f"（№{unicodedata.normalize('NFKC', str(r.number)).translate(str.maketrans('0123456789', '０１２３４５６７８９'))}）" in "".join(
            raw_lines[s.line_start - 1 : s.line_start + 3]
        )
        previous_end = s.line_end


def test_prior_approvals_are_verbatim(records, raw_lines):
    for r in records:
        block = "".join(line.strip() for line in raw_lines[r.source.line_start - 1 : r.source.line_end])
        for cite in r.prior_approvals:
            assert cite in block, (r.number, cite)
            assert re.match(r"(令和|平成|第)", cite)
            assert "別途" not in cite


def test_contractors_named_in_the_case(records, raw_lines):
    for r in records:
        block = re.sub(r"\s+", "", "".join(raw_lines[r.source.line_start - 1 : r.source.line_end]))
        for name in r.contractors:
            assert name in block, (r.number, name)
            assert "株式会社" in name or re.search(r"(医師会|協会|連合会|中央会|基金)$", name)
    assert sum(1 for r in records if "富士通株式会社" in r.contractors) >= 5


def test_warnings_report_the_summary_detail_disagreement(parsed):
    warnings = parsed[2]
    assert any(w.startswith("№34:") and "拡充" in w and "拡大" in w for w in warnings)
    assert len(warnings) == 1  # abbreviated departments (…外４課) agree with the summary
