"""Field extractors working on cleaned case text: contractors, prior approvals, attachment text."""
from __future__ import annotations

import re

from ingest.text import join_lines, paragraphs, remove_stray_glyphs, strip_line


def clean_attachment(lines: list[str]) -> str:
    """Diagram (別紙) text: boxes become paragraphs; vertical one-character runs are joined."""
    out: list[str] = []
    run: list[str] = []
    for line in lines:
        s = strip_line(remove_stray_glyphs(line))
        if len(s) == 1:
            run.append(s)
            continue
        if run:
            out.append("".join(run))
            run = []
        out.append(line)
    if run:
        out.append("".join(run))
    return paragraphs(out)


_COMPANY = re.compile(r"株式会社[ 　]?[^\s、。（）()「」・，,]+|[^\s、。（）()「」，,：:]+?株式会社")


def contractors(body: str, attachment: str) -> list[str]:
    found: list[str] = []
    for text in (body, attachment.replace("\n", "")):
        for m in _COMPANY.finditer(text):
            name = m.group(0).replace(" ", "").replace("　", "")
            if name not in found:
                found.append(name)
    return found


_CITATION = re.compile(
    r"(?:令和|平成)[0-9０-９元]+年度?第[0-9０-９]+回[^。]*?"
    r"(?:承認・了承済|承認・了承された|承認済み|承認済|了承済み|了承済|承認事項|承認された)"
)


def prior_approvals(text: str) -> list[str]:
    found: list[str] = []
    for m in _CITATION.finditer(text):
        if m.group(0) not in found:
            found.append(m.group(0))
    return found
