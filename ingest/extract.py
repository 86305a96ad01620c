"""Field extractors working on cleaned case text: contractors, prior approvals, attachment text."""
from __future__ import annotations

import re

from ingest.text import remove_stray_glyphs, starts_with_marker, strip_line


def clean_attachment(lines: list[str]) -> str:
    """Diagram (別紙) text, cleaned for display and search.

    Diagram boxes are runs of consecutive lines separated by blank lines; a box's lines are wraps
    of one label (often mid-word: ガバメント/クラウド) and are joined with no separator. A bullet
    or other marker starts a new paragraph inside a box. Vertical text comes out one character
    per line and is joined by the same rule; its first character is sometimes glued to the end
    of the previous box (`（…管理）事`), which is moved back.
    """
    groups: list[list[str]] = [[]]
    for line in lines:
        s = strip_line(remove_stray_glyphs(line))
        if s:
            groups[-1].append(s)
        elif groups[-1]:
            groups.append([])
    paras: list[str] = []
    for group in groups:
        if not group:
            continue
        vertical = len(group) >= 3 and all(len(s) == 1 for s in group)
        if vertical and paras:
            m = _GLUED_VERTICAL_HEAD.search(paras[-1])
            if m:
                paras[-1] = paras[-1][: m.start(1)]
                group = [m.group(1)] + group
        current = ""
        for s in group:
            if vertical:
                current += s
                continue
            if _ROW_NUMBER.fullmatch(s):
                # A table's row number (№21, №35) is its own paragraph, not glued to the row.
                paras += [current, s]
                current = ""
                continue
            if current and starts_with_marker(s):
                paras.append(current)
                current = ""
            current += s
        paras.append(current)
    return "\n".join(p for p in paras if p)


_ROW_NUMBER = re.compile(r"[0-9０-９]{1,3}")

# A closing bracket followed by one lone character ends a box whose last character belongs to
# the vertical text that follows.
_GLUED_VERTICAL_HEAD = re.compile(r"[）)](\S)$")


# Organisation names. Companies: 株式会社 before or after a name of katakana/Latin/kanji (a
# hiragana particle ends the name: 委託する富士通株式会社 → 富士通株式会社). Non-company bodies the
# sheets name as 委託先: medical associations and the like under a place name (新宿区医師会), the
# national-health-insurance federation and central association, the payment fund. Their legal
# form (公益社団法人…) is dropped so one body has one name.
_NAME = r"[\u30A0-\u30FFA-Za-z0-9Ａ-Ｚａ-ｚ０-９\u4E00-\u9FFF々・＆&]"
_LEGAL_FORM = r"(?:公益|一般)(?:社団|財団)法人"
_PLACE = r"[\u4E00-\u9FFF]{1,3}?[都道府県区市町村]"
_ORG = re.compile(
    rf"株式会社[ \u3000]?{_NAME}+|{_NAME}+?株式会社"
    rf"|(?:{_LEGAL_FORM})?(?:{_PLACE}(?:獣医師会|医師会|予防医学協会|国民健康保険団体連合会)"
    r"|国民健康保険中央会|社会保険診療報酬支払基金)"
)
_LEGAL_PREFIX = re.compile(rf"^{_LEGAL_FORM}")
# 委託/受託 as the ward's contract; `国の委託により…開発した` is the state's contract, not the ward's.
_CONTRACT_WORD = re.compile(r"(?<!国の)(?<!都の)委託|受託")
_OPEN, _CLOSE = "（(「『", "）)」』"
# `（以下、「基金」という。）` right after a name defines its short form.
_ABBREVIATION = re.compile(r"[（(]以下、?「([^」]{1,12})」")


def sentences(text: str) -> list[str]:
    """Split on 。 outside brackets: `（以下「基金」という。）` does not end a sentence."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch == "。" and depth == 0:
            out.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out
_SPACES = re.compile(r"[ \u3000]+")


def _normalise_name(raw: str) -> str:
    return _LEGAL_PREFIX.sub("", _SPACES.sub("", raw).rstrip("・"))


def _org_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _ORG.finditer(text) if _SPACES.sub("", m.group(0)) != "株式会社"]


def _diagram_names(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, name) for names in diagram lines, rejoining names wrapped over two lines.

    A name that crosses a line end (`株式会社ワイヤ・アンド・` / `ワイヤレス`, `東京都国民健康` /
    `保険団体連合会`) is taken from the joined pair unless the second line alone already holds a
    name ending at the same place (`…を提供` / `富士通株式会社` are two boxes, not one name).
    """
    out: list[tuple[int, str]] = []
    skip_prefix: dict[int, int] = {}  # line index -> chars at its start already used by a pair
    for k, line in enumerate(lines):
        for start, end in _org_spans(line):
            if start < skip_prefix.get(k, 0):
                continue
            extended = False
            if end == len(line) and k + 1 < len(lines):
                pair = line + lines[k + 1]
                for ps, pe in _org_spans(pair):
                    if ps <= start < pe and pe > len(line):
                        alone = {e for _, e in _org_spans(lines[k + 1])}
                        if pe - len(line) not in alone:
                            out.append((k, pair[ps:pe]))
                            skip_prefix[k + 1] = pe - len(line)
                            extended = True
                        break
            if not extended:
                out.append((k, line[start:end]))
        if k + 1 < len(lines) and k + 1 not in skip_prefix:
            # A name whose first part has no keyword of its own (東京都国民健康 / 保険団体連合会).
            pair = line + lines[k + 1]
            alone = {e for _, e in _org_spans(lines[k + 1])}
            for ps, pe in _org_spans(pair):
                if ps < len(line) < pe and not _org_spans(line[ps:]) and pe - len(line) not in alone:
                    out.append((k, pair[ps:pe]))
                    skip_prefix[k + 1] = pe - len(line)
    return out


def contractors(body: str, attachment_lines: list[str]) -> list[str]:
    """Organisations the sheet names as 委託先/受託事業者/再委託先 (or that the ward 委託s work to).

    Body: a name counts when a contract word (委託/受託) is in its sentence, or in the heading
    line just before it (`イ 受託事業者` / `株式会社ＲＳコネクト`). Diagram: when a contract word is
    on its line or within two lines either side (the label sits in a neighbouring box).
    """
    found: list[str] = []

    def add(raw: str) -> None:
        name = _normalise_name(raw)
        if name not in found:
            found.append(name)

    # Short forms defined in the body: 社会保険診療報酬支払基金（以下、「基金」という。）.
    short_forms: dict[str, str] = {}
    for start, end in _org_spans(body):
        m = _ABBREVIATION.match(body, end)
        if m:
            short_forms[m.group(1)] = body[start:end]

    parts = [s for para in body.split("\n") for s in sentences(para) if s]
    for k, sentence in enumerate(parts):
        context = sentence
        if k and not parts[k - 1].endswith("。"):
            context += parts[k - 1]
        if not _CONTRACT_WORD.search(context):
            continue
        spans = _org_spans(sentence)
        for start, end in spans:
            add(sentence[start:end])
        # 基金に委託する: the short form names the same body (never inside a definition).
        plain = _ABBREVIATION.sub("", sentence)
        for short, full in short_forms.items():
            if re.search(rf"(?<![\u4E00-\u9FFF\u30A0-\u30FF]){re.escape(short)}", plain):
                add(full)

    lines = [strip_line(remove_stray_glyphs(line)) for line in attachment_lines]
    lines = [line for line in lines if line]
    for k, name in _diagram_names(lines):
        window = "".join(lines[max(0, k - 2): k + 3])
        if _CONTRACT_WORD.search(window):
            add(name)
    return found


# Citations of earlier approvals. An identifier is era + year + session (several joined by 、 form
# one citation), optionally followed by the meeting's name; the approval word closes the citation
# when it belongs to the same clause.
_ERA_SESSION = r"(?:(?:令和|平成)[\s0-9０-９元]+年?\s*度?\s*)?第\s*[0-9０-９]+\s*回"
_IDENT = re.compile(
    rf"(?:令和|平成)[\s0-9０-９元]+年?\s*度?\s*第\s*[0-9０-９]+\s*回(?:、{_ERA_SESSION})*"
    rf"|(?<![0-9０-９年度])第\s*[0-9０-９]+\s*回(?:、{_ERA_SESSION})*"
)
_BODY_NAME = re.compile(r"[^。、「」（）()\s]*?(?:会議|審議会)")
_APPROVAL = re.compile(r"承認・了承済|承認・了承された|承認済み|承認済|了承済み|了承済|承認事項|承認された")


def prior_approvals(text: str) -> list[str]:
    """Citations such as 「令和５年度第５回新宿区個人情報保護管理運営会議承認済」, verbatim.

    Each citation starts at its era/session identifier and ends at the approval word of its
    clause. When one approval word closes several separately cited meetings (…を諮問し、…を諮問
    し、それぞれ承認された), only the meeting identifiers are given. Sentences without an approval
    word (forward references: 別途…会議に報告する) cite nothing.
    """
    found: list[str] = []
    for sentence in sentences(text):
        approvals = list(_APPROVAL.finditer(sentence))
        if not approvals:
            continue
        idents = []
        for m in _IDENT.finditer(sentence):
            end = m.end()
            name = _BODY_NAME.match(sentence, end)
            if name is None:
                continue  # 第N回 of something that is not a meeting
            idents.append((m.start(), name.end()))
        if not idents:
            continue
        # Group identifiers by the approval word that closes them.
        groups: dict[int, list[tuple[int, int]]] = {}
        for start, end in idents:
            closing = next((a for a in approvals if a.start() >= end), None)
            if closing is None:
                continue
            groups.setdefault(closing.start(), []).append((start, end))
        for a_start, members in groups.items():
            a_end = next(a.end() for a in approvals if a.start() == a_start)
            if len(members) == 1:
                start, _ = members[0]
                cite = sentence[start:a_end]
                if cite not in found:
                    found.append(cite)
            else:
                for start, end in members:
                    cite = sentence[start:end]
                    if cite not in found:
                        found.append(cite)
    return found
