"""Text clean-up for PDF-extracted lines: join line-end breaks, rebuild paragraphs, drop residue.

Display text keeps the source's characters (full-width stays full-width); `nfkc` is used only to
*recognise* things (numbers, markers, labels), never to rewrite what is stored.
"""
from __future__ import annotations

import re
import unicodedata

# Whitespace a PDF extraction leaves at line ends and page starts (ASCII space, tab, U+3000).
_EDGE_WS = " \t\u3000\r"

# Stray shape/arrow residue rendered as a lone Ｚ/ｚ (or Z/z) token.
_STRAY_GLYPH = re.compile(r"(?:(?<=\s)|^)[ＺｚZz](?=\s|$)")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def strip_line(line: str) -> str:
    return line.strip(_EDGE_WS)


def remove_stray_glyphs(line: str) -> str:
    return _STRAY_GLYPH.sub("", line)


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines of one cell: strip each line, skip blanks, no separator (Japanese)."""
    parts = [strip_line(remove_stray_glyphs(line)) for line in lines]
    return "".join(p for p in parts if p)


# Line starts that open a new paragraph: numbered headings (１ 概要), (１)/（１）/⑴, ①, ア,
# bullets (・●○■□◆◇), notes (※), brackets used as sub-headings (【…】), Roman numerals.
_MARKER = re.compile(
    r"""^(?:
        [0-9０-９]{1,2}[ \u3000]          # １ 概要
      | [（(][0-9０-９]{1,2}[）)]          # （１） (１)
      | [\u2474-\u2487]                    # ⑴…⒇
      | [\u2460-\u2473\u2776-\u2793]       # ①…⑳, ➀…➓
      | [・●○■□◆◇▼▽►]
      | ※
      | 【
      | [ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]
      | [アイウエオカキクケコ][ \u3000．.]  # ア 項目
    )""",
    re.VERBOSE,
)


_INDENT = re.compile(r"^(?: {2,}|\u3000)")
# A line ending like this continues its sentence even if the next line looks like a new item:
# `…前項（１）システム開発および` / `（２）外部結合に係る…`.
_CONTINUES = ("および", "及び", "並びに", "又は", "または", "、", "，")


def starts_with_marker(line: str) -> bool:
    return bool(_MARKER.match(line))


def paragraphs(lines: list[str]) -> str:
    """Rebuild paragraphs from wrapped lines; paragraphs are separated by "\\n".

    A new paragraph starts at a structural marker; a paragraph ends after a line that finishes a
    sentence (。) short of the full line width, or after a short marker line (a heading/bullet).
    Everything else is a line-end wrap and is joined with no separator.
    """
    # A first line indented by two or more spaces opens a paragraph (the Japanese 字下げ); a page
    # break's continuation line starts with a single space and does not.
    indented: list[bool] = []
    cleaned: list[str] = []
    for line in lines:
        c = strip_line(remove_stray_glyphs(line))
        if c:
            cleaned.append(c)
            indented.append(bool(_INDENT.match(line)))
    if not cleaned:
        return ""
    lengths = sorted(len(c) for c in cleaned)
    width = lengths[int(len(lengths) * 0.9) - 1 if len(lengths) >= 10 else -1]
    out: list[str] = []
    current = ""
    for line, indent in zip(cleaned, indented):
        if current and (indent or starts_with_marker(line)) and not current.endswith(_CONTINUES):
            out.append(current)
            current = ""
        current += line
        short = len(line) < width * 0.75
        if (line.endswith("。") and len(line) < width - 1) or (
            short and starts_with_marker(line) and not line.endswith(("、", "，"))
        ) or (short and not line.endswith(("、", "，")) and len(line) <= 12):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return "\n".join(out)
