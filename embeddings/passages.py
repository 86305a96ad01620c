"""Case text → passages for embedding. A case's semantic score is its best passage, so a long
事業内容 does not dilute a paragraph that answers the query. The sizes are arguments: their values are
ranking tunables (engine/ranking.py), which the indexer passes in (`indexer.prepare.passages_of`)."""
from __future__ import annotations

import re
from typing import Any, Mapping

# Sentence ends: 。 and line breaks (paragraphs are \n-separated in CaseRecord.body).
_SENTENCE = re.compile(r"[^。\n]*(?:。|\n|$)")


def split_passages(text: str, max_chars: int) -> list[str]:
    """Pack whole sentences into passages of at most `max_chars` characters (a longer sentence is
    cut at max_chars). Whitespace-only pieces are dropped."""
    passages: list[str] = []
    current = ""
    for match in _SENTENCE.finditer(text or ""):
        sentence = match.group(0).strip()
        if not sentence:
            continue
        while len(sentence) > max_chars:
            if current:
                passages.append(current)
                current = ""
            passages.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if current and len(current) + len(sentence) > max_chars:
            passages.append(current)
            current = ""
        current += sentence
    if current:
        passages.append(current)
    return passages


def case_passages(record: Mapping[str, Any], *, max_chars: int, max_passages: int,
                  fields: tuple[str, ...], title_prefix: bool) -> list[str]:
    """The passages embedded for one case (CaseRecord as a dict): first a head passage (title, 事業名,
    目的, 対象者), then chunks of `fields`, up to max_passages; with `title_prefix` every chunk starts
    with the case title."""
    title = (record.get("title") or "").strip()
    head_parts = [title]
    for name in ("project_name", "purpose", "subjects"):
        value = (record.get(name) or "").strip()
        if value and value not in head_parts:
            head_parts.append(value)
    head = "\n".join(p for p in head_parts if p)
    passages = split_passages(head, max_chars)[:1] or ["-"]
    prefix = f"{title}\n" if title_prefix and title else ""
    for name in fields:
        for chunk in split_passages(record.get(name) or "", max(50, max_chars - len(prefix))):
            if len(passages) >= max_passages:
                return passages
            passages.append(prefix + chunk)
    return passages
