"""Parser for Shinjuku's 審議案件一覧 report as extracted from its PDF (`shinjuku-case-list-pdf-text`).

The report has two parts: a summary table (one row per case: №, title, departments, categories,
meeting date, result) and one detail sheet per case (header `…（№Ｎ）`, labelled cells 事業名,
担当課, 区分, 目的, 対象者, 事業内容, a last cell whose label varies, then diagram text).
Everything here is found by structure (labels, markers, token shapes), never by line or case
number; see /work/shared/notes/seed-report-hazards.md for the hazards this handles.

`parse_summary` and `parse_detail` are long, branchy loops on purpose: the PDF's text layer forces
it (table rows wrapped over several lines with the cells' order lost, page numbers and page feet
inside cells, labels with stray spaces, glued digits). Each branch handles one such hazard of the
real report, and splitting them into helpers would hide the line-by-line state they share;
tests/test_ingest_robustness.py and test_ingest_properties.py pin every one of them.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

from ingest.models import CaseRecord, ReportManifest, SourceRef
from ingest.parsers.base import ParseError, ParseResult
from ingest.text import join_lines, nfkc, paragraphs, strip_line
from ingest import extract

# 区分 values seen in these reports; the detail sheets' 区分 cells extend this per report.
KNOWN_CATEGORIES = {"電算処理", "外部結合", "業務委託", "外部提供", "防犯カメラ", "本人外収集", "目的外利用", "再委託"}

_HEADER_NO = re.compile(r"[（(]\s*№\s*([0-9０-９]+)\s*[）)]")
_DATE = re.compile(r"^([0-9０-９]{1,2})月([0-9０-９]{1,2})日$")
_NUMBER = re.compile(r"^[0-9]{1,3}$")  # matched against NFKC text
_TITLE_END = re.compile(r"について(?:[（(][^（）()]*[）)])*$")
_DEPT_SUFFIX = re.compile(r"(課|室|局|所|部|館|園|センター|事務局|委員会|担当)$")
_ABBREV = re.compile(r"外\s*([0-9]+)\s*課$")

# Detail-sheet labels, in order. Spaces inside labels vary (`区 分`, `目 的`).
_LABELS = [
    ("project_name", re.compile(r"^事\s*業\s*名(?:\s+|$)")),
    ("departments", re.compile(r"^担\s*当\s*課(?:\s+|$)")),
    ("categories", re.compile(r"^区\s*分(?:\s+|$)")),
    ("purpose", re.compile(r"^目\s*的(?:\s+|$)")),
    ("subjects", re.compile(r"^対\s*象\s*者(?:\s+|$)")),
    ("body", re.compile(r"^事\s*業\s*内\s*容(?:\s+|$)")),
]
_ATTACHMENT_REF = re.compile(r"^別紙のとおり\s*$")


@dataclass
class SummaryRow:
    number: int
    line: int  # 1-based
    title: str
    departments: list[str]
    categories: list[str]
    month: int
    day: int
    result: str


@dataclass
class DetailSheet:
    number: int
    start: int  # 0-based index of the first header line
    header_line: int  # 0-based index of the （№Ｎ） line
    end: int = 0  # 0-based inclusive
    title: str = ""
    cells: dict[str, list[str]] = field(default_factory=dict)
    body_lines: list[str] = field(default_factory=list)
    attachment_lines: list[str] = field(default_factory=list)
    last_label: str = ""


# ---------------------------------------------------------------------------------------------
# Summary table


def _tokens(line: str) -> list[str]:
    # Cells of different columns are separated by ASCII spaces; U+3000 is part of a cell.
    return [t for t in line.split(" ") if t.strip(" \t\r")]


def _row_number(line: str) -> int | None:
    toks = _tokens(line)
    if not toks:
        return None
    first = nfkc(toks[0])
    return int(first) if _NUMBER.match(first) else None


def _balanced(text: str) -> bool:
    t = nfkc(text)
    return t.count("(") == t.count(")")


def _split_row(items: list[tuple[str, str]], categories_vocab: set[str]) -> tuple[str, list[str], list[str]]:
    """Split a row's pre-date tokens into title, departments and categories.

    items: (token, separator before it) with separator in {"start", "space", "newline", "blank"}.
    """
    cats: list[str] = []
    i = len(items)
    while i > 0 and items[i - 1][0].rstrip("、,，") in categories_vocab:
        i -= 1
        cats.insert(0, items[i][0].rstrip("、,，"))
    rest = items[:i]
    split_at = None
    title = ""
    for k, (tok, _sep) in enumerate(rest):
        title += tok
        nxt = rest[k + 1][0] if k + 1 < len(rest) else None
        if nxt is None:
            break
        if _balanced(title) and _TITLE_END.search(nfkc(title)) and not nfkc(nxt).startswith("("):
            split_at = k + 1
            break
    if split_at is None:
        # Fallback: the first column change is a blank line or a space between cells.
        for k in range(1, len(rest)):
            if rest[k][1] in ("space", "blank"):
                split_at = k
                break
    if split_at is None:
        split_at = len(rest)
    title = "".join(t for t, _ in rest[:split_at])
    dept_text = "".join(t for t, _ in rest[split_at:])
    departments = [d for d in dept_text.split("、") if d]
    return title, departments, cats


def parse_summary(lines: list[str], end: int, numbers: set[int], categories_vocab: set[str]) -> tuple[list[SummaryRow], list[str]]:
    warnings: list[str] = []
    header = next((i for i in range(end) if "№" in lines[i] and "事業名" in lines[i]), None)
    if header is None:
        raise ParseError("no summary table header (a line with № and 事業名) before the first detail sheet")
    rows: list[SummaryRow] = []
    seen: set[int] = set()
    i = header + 1
    while i < end:
        n = _row_number(lines[i])
        if n is None or n in seen:
            i += 1  # between rows: header continuation, page header block, footer
            continue
        start_line = i
        items: list[tuple[str, str]] = []
        sep = "start"
        first = True
        date = None
        result_tokens: list[str] = []
        while i < end:
            line = lines[i]
            toks = _tokens(line)
            if first:
                toks = toks[1:]
                first = False
            if not toks:
                if items or sep != "start":
                    sep = "blank"
                i += 1
                continue
            for t_index, tok in enumerate(toks):
                m = _DATE.match(nfkc(tok))
                if m and date is None:
                    date = (int(m.group(1)), int(m.group(2)))
                    result_tokens = toks[t_index + 1:]
                    break
                items.append((tok, sep))
                sep = "space"
            i += 1
            if date is not None:
                break
            if sep != "blank":
                sep = "newline"
        if date is None:
            if n not in numbers:
                i = start_line + 1  # a stray number (no detail sheet, no date): not a row
                continue
            raise ParseError(f"summary row №{n} (line {start_line + 1}) has no 付議日 (e.g. 7月28日): truncated or not a case list")
        if not result_tokens:
            # Result alone on the next non-blank line.
            j = i
            while j < end and not strip_line(lines[j]):
                j += 1
            if j < end and _row_number(lines[j]) is None and len(_tokens(lines[j])) == 1:
                result_tokens = _tokens(lines[j])
                i = j + 1
        title, departments, cats = _split_row(items, categories_vocab)
        if not title or not departments or not cats:
            raise ParseError(f"summary row №{n} (line {start_line + 1}) is incomplete: title={title!r} departments={departments} categories={cats}")
        for d in departments:
            if not _DEPT_SUFFIX.search(d):
                warnings.append(f"№{n}: department {d!r} in the summary does not look like a department name")
        seen.add(n)
        rows.append(SummaryRow(n, start_line + 1, title, departments, cats, date[0], date[1], "".join(strip_line(t) for t in result_tokens)))
    return rows, warnings


# ---------------------------------------------------------------------------------------------
# Detail sheets


def _find_headers(lines: list[str]) -> list[tuple[int, int]]:
    found = []
    for i, line in enumerate(lines):
        m = _HEADER_NO.search(line)
        if m:
            found.append((i, int(nfkc(m.group(1)))))
    return found


def _prev_nonblank(lines: list[str], i: int, floor: int) -> int | None:
    i -= 1
    while i >= floor and not strip_line(lines[i]):
        i -= 1
    return i if i >= floor else None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", nfkc(text))


def _header_start(lines: list[str], h: int, floor: int, want: str | None) -> tuple[int, str]:
    """First line of a (possibly wrapped) detail header and its title text.

    Headers wrap over up to three text lines and are glued to the previous sheet's diagram text,
    so the start is the candidate whose text best matches the summary title (or, without one, the
    nearest line that begins a page: leading space).
    """
    candidates = []
    start = h
    for _ in range(4):
        text = join_lines(lines[start:h + 1])
        text = _HEADER_NO.sub("", text)
        text = re.sub(r"\s+", "", text)  # headers have stray spaces (`（地域 BWA）`)
        candidates.append((start, text))
        prev = _prev_nonblank(lines, start, floor)
        if prev is None:
            break
        start = prev
    if want:
        target = _squash(want)
        best = max(candidates, key=lambda c: (difflib.SequenceMatcher(None, _squash(c[1]), target).ratio(), -len(c[1])))
        return best
    for start, text in candidates:
        if text and lines[start].startswith((" ", "\u3000")):
            return start, text
    return candidates[0]


def _is_bare_number(line: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{1,3}", nfkc(strip_line(line))))


# Page numbers glued to text: two or three ASCII digits straight after a non-digit character.
_GLUED_PAGE = re.compile(r"(?<=[^0-9０-９\s,，.．])[0-9]{2,3}\s*$")


def parse_detail(lines: list[str], sheet: DetailSheet) -> None:
    """Split a sheet into its labelled cells, the body and the attachment.

    Page numbers survive the extraction only at two page feet, which is where they are removed
    (bare numbers elsewhere are table row numbers, e.g. №21's log): the page that ends with
    `別紙のとおり` (a bare number on the next line), and the sheet's last page (a bare number
    before the next header, already outside `sheet.end`, or digits glued to the last line).
    """
    idx = list(range(sheet.header_line + 1, sheet.end + 1))
    clean: list[tuple[int, str]] = []
    after_reference = False
    for k in idx:
        line = lines[k]
        stripped = strip_line(line)
        if after_reference and stripped:
            after_reference = False
            if _is_bare_number(stripped):
                continue
        if _ATTACHMENT_REF.match(stripped):
            after_reference = True
        if k == sheet.end:
            line = _GLUED_PAGE.sub("", line)
        clean.append((k, line))

    # Locate labels in order.
    positions: dict[str, int] = {}
    pos = 0
    for name, pattern in _LABELS:
        for p in range(pos, len(clean)):
            if pattern.match(strip_line(clean[p][1])):
                positions[name] = p
                pos = p + 1
                break
    missing = [name for name, _ in _LABELS if name not in positions]
    if missing:
        raise ParseError(f"detail sheet №{sheet.number} (line {sheet.start + 1}) lacks the cells {missing}: truncated or not a case list")

    # The attachment reference (`別紙のとおり`) and the wrapped label before it end the body.
    body_start = positions["body"]
    ref = next((p for p in range(body_start + 1, len(clean)) if _ATTACHMENT_REF.match(strip_line(clean[p][1]))), None)
    body_end = len(clean)
    label_lines: list[str] = []
    if ref is not None:
        p = ref - 1
        label_start = ref
        while p > body_start:
            s = strip_line(clean[p][1])
            if not s:
                p -= 1
                continue
            if len(s) <= 5 and not re.search(r"[0-9０-９。、）)]", s) and len(label_lines) < 6:
                label_lines.insert(0, s)
                label_start = p
                p -= 1
                continue
            break
        body_end = label_start
        sheet.last_label = "".join(label_lines)
        sheet.attachment_lines = [line for _, line in clean[ref + 1:]]

    names = [name for name, _ in _LABELS]
    for n_i, name in enumerate(names):
        begin = positions[name]
        stop = positions[names[n_i + 1]] if n_i + 1 < len(names) else body_end
        first = _LABELS[n_i][1].sub("", strip_line(clean[begin][1]), count=1)
        cell = [first] + [line for _, line in clean[begin + 1:stop]]
        sheet.cells[name] = cell
    sheet.body_lines = sheet.cells.pop("body")


def _split_notes(cell: list[str]) -> tuple[list[str], list[str]]:
    """Split a cell into its text and trailing ※ notes (a note starts a line with ※)."""
    for k, line in enumerate(cell):
        if strip_line(line).startswith("※"):
            return cell[:k], cell[k:]
    return cell, []


def _detail_categories(cell_text: str) -> list[str]:
    text = re.sub(r"[（(][^（）()]*[）)]", "", cell_text)
    text = re.sub(r"[（(].*$", "", text)  # a parenthetical cut off by a line end (first line only)
    return [c for c in re.split(r"[、，,]", text) if c]


# ---------------------------------------------------------------------------------------------


def _meeting_date(fiscal_year: int, month: int, day: int, number: int) -> dt.date:
    year = fiscal_year if month >= 4 else fiscal_year + 1  # 年度: April–March
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ParseError(f"summary row №{number}: impossible 付議日 {month}月{day}日") from None


def _cross_check(row: SummaryRow, sheet: DetailSheet, warnings: list[str]) -> None:
    n = row.number
    if _squash(row.title) != _squash(sheet.title):
        warnings.append(f"№{n}: title differs between summary ({row.title}) and detail sheet ({sheet.title}); using the summary's")
    dept_cell, _notes = _split_notes(sheet.cells.get("departments", []))
    dept_text = _squash(join_lines(dept_cell))
    summary_depts = [_squash(d) for d in row.departments]
    detail_depts = [d for d in re.split(r"、|及び", dept_text) if d]
    m = _ABBREV.search(detail_depts[-1]) if detail_depts else None
    if m:
        detail_depts[-1] = detail_depts[-1][: m.start()]
        listed = [d for d in detail_depts if d]
        expected = len(listed) + int(m.group(1))
        if listed != summary_depts[: len(listed)] or expected != len(summary_depts):
            warnings.append(f"№{n}: departments differ: summary {'、'.join(row.departments)} vs detail sheet {join_lines(dept_cell)}")
    elif sorted(detail_depts) != sorted(summary_depts):
        warnings.append(f"№{n}: departments differ: summary {'、'.join(row.departments)} vs detail sheet {join_lines(dept_cell)}")
    detail_cats = _detail_categories(_squash(join_lines(sheet.cells.get("categories", []))))
    if detail_cats != [_squash(c) for c in row.categories]:
        warnings.append(f"№{n}: categories differ: summary {'、'.join(row.categories)} vs detail sheet {'、'.join(detail_cats)}")


def _ranges(numbers: list[int]) -> str:
    """[3, 4, 5, 9] → '3–5, 9' (error messages stay short for a file cut in half)."""
    parts = []
    for n in numbers:
        if parts and parts[-1][1] == n - 1:
            parts[-1][1] = n
        else:
            parts.append([n, n])
    return ", ".join(f"{a}–{b}" if a != b else f"{a}" for a, b in parts)


def parse_shinjuku_case_list(text: str, manifest: ReportManifest, source_file: str) -> ParseResult:
    if not text.strip():
        raise ParseError("the file is empty")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    warnings: list[str] = []

    headers = _find_headers(lines)
    if not headers:
        raise ParseError("no detail sheet headers (…（№Ｎ）) found: not a case-list report")
    numbers = [n for _, n in headers]
    dupes = sorted({n for n in numbers if numbers.count(n) > 1})
    if dupes:
        raise ParseError(f"detail sheets numbered more than once: {dupes}")

    # Categories the detail sheets use extend the known vocabulary (next year's new 区分).
    vocab = set(KNOWN_CATEGORIES)
    for h, _n in headers:
        for k in range(h + 1, min(h + 40, len(lines))):
            s = strip_line(lines[k])
            if _LABELS[2][1].match(s):
                vocab.update(_detail_categories(_squash(_LABELS[2][1].sub("", s, count=1))))
                break

    first_header = headers[0][0]
    # The summary ends where the first sheet's header starts (at most 3 lines above its № line).
    summary_end = first_header
    rows, w = parse_summary(lines, summary_end, set(numbers), vocab)
    warnings += w
    by_number = {r.number: r for r in rows}
    if not rows:
        raise ParseError("the summary table has no rows")

    missing_sheets = sorted(set(by_number) - set(numbers))
    missing_rows = sorted(set(numbers) - set(by_number))
    if missing_sheets:
        raise ParseError(f"summary rows without a detail sheet: №{_ranges(missing_sheets)} (truncated file?)")
    if missing_rows:
        raise ParseError(f"detail sheets without a summary row: №{_ranges(missing_rows)}")

    sheets: list[DetailSheet] = []
    floor = max(r.line for r in rows)  # the first header cannot start inside the summary rows
    for h, n in headers:
        row = by_number.get(n)
        start, title = _header_start(lines, h, floor, row.title if row else None)
        sheets.append(DetailSheet(number=n, start=start, header_line=h, title=title))
        floor = h + 1
    for k, sheet in enumerate(sheets):
        nxt = sheets[k + 1].start if k + 1 < len(sheets) else len(lines)
        end = nxt - 1
        while end > sheet.header_line and (not strip_line(lines[end]) or _is_bare_number(lines[end])):
            end -= 1
        sheet.end = end
    for sheet in sheets:
        parse_detail(lines, sheet)

    last = max(sheets, key=lambda s: s.start)
    if last.last_label and not any(strip_line(line) for line in last.attachment_lines):
        raise ParseError(f"detail sheet №{last.number} ends at 別紙のとおり with no attachment text: truncated file?")

    records: list[CaseRecord] = []
    for sheet in sorted(sheets, key=lambda s: s.number):
        row = by_number[sheet.number]
        _cross_check(row, sheet, warnings)
        project_cell, _ = _split_notes(sheet.cells["project_name"])
        body = paragraphs(sheet.body_lines)
        attachment = extract.clean_attachment(sheet.attachment_lines)
        full_text = join_lines(sum(sheet.cells.values(), []) + sheet.body_lines + sheet.attachment_lines)
        records.append(
            CaseRecord(
                id=f"{manifest.municipality_slug}-{manifest.council_slug}-{manifest.fiscal_year}-{row.number:03d}",
                number=row.number,
                municipality=manifest.municipality,
                council=manifest.council,
                fiscal_year=manifest.fiscal_year,
                fiscal_year_label=manifest.fiscal_year_label,
                report_date=manifest.report_date,
                title=row.title,
                departments=row.departments,
                categories=row.categories,
                meeting_date=_meeting_date(manifest.fiscal_year, row.month, row.day, row.number),
                result=row.result,
                project_name=join_lines(project_cell),
                purpose=join_lines(sheet.cells["purpose"]),
                subjects=join_lines(sheet.cells["subjects"]),
                body=body,
                attachment=attachment,
                contractors=extract.contractors(body, sheet.attachment_lines),
                prior_approvals=extract.prior_approvals(full_text),
                source=SourceRef(file=source_file, line_start=sheet.start + 1, line_end=sheet.end + 1, summary_line=row.line),
            )
        )
    return ParseResult(records=records, warnings=warnings)
