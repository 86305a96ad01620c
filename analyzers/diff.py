"""Word-level differences between two Japanese texts (the comparison page).

Japanese has no spaces, so a line diff says only "the paragraph changed" and a character diff
splits words (委託|内容 vs 委|託). Words come from the morphological analyser; they are compared
on their normalised form (width, 異体字, …) and whitespace is ignored, because the same sheet
extracted twice differs in stray spaces (`第 40号` / `第４０号`) that are not changes.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from analyzers.normalize import normalize
from analyzers.sentence import surface_tokens

Op = Literal["equal", "delete", "insert"]
# Longer texts are compared in paragraphs' worth of words at most: the matcher is quadratic in the
# worst case, and attachments reach a few thousand words.
MAX_WORDS = 6000


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


@dataclass(frozen=True)
class WordDiff:
    """The two sides of one comparison: `a` holds equal and deleted segments (the old text, in
    order), `b` equal and inserted ones (the new text)."""

    a: tuple[Segment, ...]
    b: tuple[Segment, ...]
    deleted: int    # words (not punctuation) only in a
    inserted: int   # words only in b

    @property
    def same(self) -> bool:
        return all(s.op == "equal" for s in self.a + self.b)


def words(text: str) -> list[str]:
    """`text` cut into words; each word carries the whitespace before it, so "".join() gives the
    text back unchanged."""
    return surface_tokens(text or "")


def _key(word: str) -> str:
    return normalize(word).replace(" ", "")


def word_diff(a: str, b: str) -> WordDiff:
    wa, wb = words(a)[:MAX_WORDS], words(b)[:MAX_WORDS]
    ka, kb = [_key(w) for w in wa], [_key(w) for w in wb]
    side_a: list[Segment] = []
    side_b: list[Segment] = []
    deleted = inserted = 0
    matcher = difflib.SequenceMatcher(None, ka, kb, autojunk=False)
    for tag, i1, i2, j1, j2 in _merge_short_equals(matcher.get_opcodes()):
        if tag == "equal":
            _append(side_a, "equal", "".join(wa[i1:i2]))
            _append(side_b, "equal", "".join(wb[j1:j2]))
            continue
        # changed punctuation is shown but not counted as a changed word
        if i2 > i1:
            _append(side_a, "delete", "".join(wa[i1:i2]))
            deleted += sum(1 for k in ka[i1:i2] if _is_word(k))
        if j2 > j1:
            _append(side_b, "insert", "".join(wb[j1:j2]))
            inserted += sum(1 for k in kb[j1:j2] if _is_word(k))
    return WordDiff(tuple(side_a), tuple(side_b), deleted, inserted)


# An unchanged run this short between two changes (a particle, a comma) is folded into them:
# rewritten prose otherwise reads as confetti (<ins>施行</ins>さ<ins>れた</ins>…).
SHORT_EQUAL_WORDS = 2


def _merge_short_equals(opcodes: list[tuple[str, int, int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    out: list[tuple[str, int, int, int, int]] = []
    for i, op in enumerate(opcodes):
        tag, i1, i2, j1, j2 = op
        inner = 0 < i < len(opcodes) - 1
        if tag == "equal" and inner and i2 - i1 <= SHORT_EQUAL_WORDS:
            tag = "replace"
        if tag != "equal" and out and out[-1][0] != "equal":
            _, pi1, _, pj1, _ = out[-1]
            out[-1] = ("replace", pi1, i2, pj1, j2)
        else:
            out.append((tag, i1, i2, j1, j2))
    return out


def _is_word(key: str) -> bool:
    return any(ch.isalnum() for ch in key)


def _append(side: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if side and side[-1].op == op:
        side[-1] = Segment(op, side[-1].text + text)
    else:
        side.append(Segment(op, text))
