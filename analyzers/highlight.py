"""Snippets of the original display text with query hits marked.

Hits are found on the normalised text (so ＡＷＳ is marked for "aws", パブリック・コメント for
パブコメ, 業務委託 for 委託) and mapped back to the original characters through
`normalize_with_offsets`. Every variant of every positive term is marked (synonyms included).
Matching mirrors the engines: a variant's runs must be contiguous inside a run of the text, while
separators between runs (spaces, ・, punctuation) may differ; Latin words match whole words only.
Output is HTML-escaped; the only markup is <mark>…</mark>.
"""
from __future__ import annotations

import bisect
import html
import re
import threading
from functools import lru_cache
from typing import Iterable

from analyzers.normalize import _LATIN, is_cjk, normalize_with_offsets
from analyzers.streams import _HAS_LATIN_RE, _RUN_RE, _split_latin
from contract.query import ParsedQuery

BOUNDARY_CHARS = "。、，．！？!?\n"
# Output must be valid UTF-8 text for JSON/HTML: lone surrogates become U+FFFD, C0 controls
# (other than tab and line end) and DEL are dropped.
_OUTPUT_CLEAN = {cp: "\ufffd" for cp in range(0xD800, 0xE000)}
_OUTPUT_CLEAN.update({cp: None for cp in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)})


_NEEDS_CLEAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# what either cleaning or escaping would change: most segments of Japanese text have none of it
_NEEDS_WORK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff&<>\"']")


def _esc(text: str) -> str:
    # One scan decides: html.escape is five str.replace passes, and translate() looks every
    # character up in a 2,000-entry table; a results page escapes ~50 segments per search.
    if _NEEDS_WORK.search(text) is None:
        return text
    if _NEEDS_CLEAN.search(text) is not None:
        text = text.translate(_OUTPUT_CLEAN)
    return html.escape(text)
_SEP = r"[\W_]*"
_LAT = f"[{_LATIN}]"


@lru_cache(maxsize=2048)
def _variant_pattern(norm: str) -> re.Pattern[str] | None:
    parts: list[str] = []
    for run in _RUN_RE.findall(norm):
        run = run.replace("\u30fb", "")
        for is_word, seg in _split_latin(run) if _HAS_LATIN_RE.search(run) else ((False, run),):
            if is_word:
                parts.append(f"(?<!{_LAT}){re.escape(seg)}(?!{_LAT})")
            else:
                # The bigram stream ignores ・ inside a run; so does the highlighter.
                parts.append("\u30fb?".join(map(re.escape, seg)))
    if not parts:
        return None
    return re.compile(_SEP.join(parts))


@lru_cache(maxsize=256)
def _normalized(text: str) -> tuple[str, list[int]]:
    # The same records are highlighted again and again (each query, each page): normalise once.
    return normalize_with_offsets(text)


class _Plan:
    """A query's compiled patterns, in the order the highlighter and term_matches use them (made
    once per parsed query: looking every variant's pattern up again for every field of every hit,
    and rebuilding the term lists, was a fifth of building a results page's hits)."""

    __slots__ = ("query", "spans", "matches")

    def __init__(self, query: ParsedQuery) -> None:
        self.query = query   # kept alive: the plans are found by the query's id()
        spans = []
        matches = []
        for term_id, term in enumerate(query.all_terms()):
            variants = _patterns(v.text for v in term.variants)
            # The engines also match a non-phrase term through its morphological tokens in order,
            # with gaps (個人情報保護 finds 個人情報の保護): those tokens are marked when no variant is.
            morph = () if term.phrase else _patterns(
                {w for v in term.variants for w in v.streams.morph if len(w) >= 2})
            spans.append((term_id, variants, morph))
            matches.append((term.text, _patterns(v.text for v in term.variants if not v.is_synonym),
                            _patterns(v.text for v in term.variants if v.is_synonym and not v.abbreviation),
                            _patterns(v.text for v in term.variants if v.abbreviation)))
        self.spans = tuple(spans)
        self.matches = tuple(matches)


def _patterns(texts: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(p for p in map(_variant_pattern, texts) if p is not None)


_PLANS: dict[int, _Plan] = {}
_PLANS_LOCK = threading.Lock()
_PLANS_MAX = 64   # parsed queries are themselves cached (engine/searcher.py); a page uses one


def _plan(query: ParsedQuery) -> _Plan:
    # by identity: hashing a ParsedQuery walks all its variants and token streams on every call
    plan = _PLANS.get(id(query))
    if plan is not None and plan.query is query:
        return plan
    plan = _Plan(query)
    with _PLANS_LOCK:
        if len(_PLANS) >= _PLANS_MAX:
            del _PLANS[next(iter(_PLANS))]
        _PLANS[id(query)] = plan
    return plan


def _spans(text: str, query: ParsedQuery) -> list[tuple[int, int, frozenset[int]]]:
    """Merged hit spans in `text` as (start, end, ids of the terms hit)."""
    norm, offsets = _normalized(text)
    if not norm:
        return []
    raw: list[tuple[int, int, int]] = []
    for term_id, variants, morph in _plan(query).spans:
        if not _find(norm, offsets, variants, term_id, raw) and morph:
            _find(norm, offsets, morph, term_id, raw)
    if not raw:
        return []
    raw.sort()
    merged: list[list] = []
    for start, end, tid in raw:
        # Overlapping or touching hits (or hits separated only by whitespace) become one mark.
        if merged and (start <= merged[-1][1] or not text[merged[-1][1]:start].strip()):
            last = merged[-1]
            last[1] = max(last[1], end)
            last[2].add(tid)
        else:
            merged.append([start, end, {tid}])
    return [(a, b, frozenset(t)) for a, b, t in merged]


_BREAK_RE = re.compile(r"[ \t\r\u3000]*\n\s*")


def _flow(text: str, a: int, b: int) -> str:
    """text[a:b] with line breaks removed between Japanese characters (a PDF line end inside a
    word) and turned into one space elsewhere; neighbours are looked up in the full text."""
    if text.find("\n", a, b) < 0:   # most segments have no line break (_BREAK_RE needs one)
        return text[a:b]
    starts, ends, fills = _breaks(text)
    i = bisect.bisect_right(ends, a)     # the first break run ending after a
    j = bisect.bisect_left(starts, b)    # runs i..j-1 start before b
    if (i < j and starts[i] < a) or (j > i and ends[j - 1] > b):
        # a run cut by the segment's edge: scanned within the segment, as the segment sees it
        return _flow_scan(text, a, b)
    out: list[str] = []
    pos = a
    for k in range(i, j):
        out.append(text[pos:starts[k]])
        out.append(fills[k])
        pos = ends[k]
    out.append(text[pos:b])
    return "".join(out)


@lru_cache(maxsize=256)
def _breaks(text: str) -> tuple[list[int], list[int], list[str]]:
    """The text's line break runs (starts, ends) and what each becomes ("" or " "): found once per
    text, like `_boundaries` (a results page flows each snippet's text in several segments). A run
    inside a segment is the run the segment's own scan finds: the runs are disjoint and each ends
    before a character that is not whitespace (or at the text's end). Callers must not modify them."""
    starts: list[int] = []
    ends: list[int] = []
    fills: list[str] = []
    for m in _BREAK_RE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
        fills.append(_fill(text, m.start(), m.end()))
    return starts, ends, fills


def _fill(text: str, start: int, end: int) -> str:
    prev = text[start - 1] if start > 0 else ""
    nxt = text[end] if end < len(text) else ""
    return "" if prev and nxt and (is_cjk(prev) or is_cjk(nxt)) else " "


def _flow_scan(text: str, a: int, b: int) -> str:
    out: list[str] = []
    pos = a
    for m in _BREAK_RE.finditer(text, a, b):
        out.append(text[pos:m.start()])
        out.append(_fill(text, m.start(), m.end()))
        pos = m.end()
    out.append(text[pos:b])
    return "".join(out)


def _find(norm: str, offsets: list[int], patterns: tuple[re.Pattern[str], ...], term_id: int, raw: list) -> bool:
    found = False
    for pattern in patterns:
        for m in pattern.finditer(norm):
            if m.end() > m.start():
                raw.append((offsets[m.start()], offsets[m.end() - 1] + 1, term_id))
                found = True
    return found


def _render(text: str, start: int, end: int, spans: list[tuple[int, int, frozenset[int]]]) -> str:
    out: list[str] = []
    pos = start
    for s, e, _ in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(_esc(_flow(text, pos, s)))
        out.append("<mark>" + _esc(_flow(text, s, e)) + "</mark>")
        pos = e
    out.append(_esc(_flow(text, pos, end)))
    return "".join(out)


def highlight_all(text: str, query: ParsedQuery) -> str:
    """The whole text, escaped, with every hit marked (for titles and short fields)."""
    if not text:
        return ""
    return _render(text, 0, len(text), _spans(text, query))


_BOUNDARY_RE = re.compile("[" + re.escape(BOUNDARY_CHARS) + "]")


@lru_cache(maxsize=256)
def _boundaries(text: str) -> list[int]:
    """Positions where a fragment may start or end: after 。、 and line ends. (A regex scan, cached
    per text like `_normalized`: the per-character Python loop was the largest single cost of a
    results page.) Callers must not modify the list."""
    return [0] + [m.end() for m in _BOUNDARY_RE.finditer(text)] + [len(text)]


def _window(n: int, bounds: list[int], s: int, e: int, size: int) -> tuple[int, int]:
    """A fragment [a, b) of about `size` characters containing the hit [s, e)."""
    k = bisect.bisect_right(bounds, s) - 1
    a = bounds[k]                          # start of the clause holding the hit
    if e - a > size:                       # clause too long: cut into it, with a little context
        a = max(0, e - size, s - size // 4) if e - s <= size else s
    j = bisect.bisect_right(bounds, a + size) - 1
    b = bounds[j] if bounds[j] >= e else min(n, max(e, a + size))
    while k > 0 and bounds[k - 1] < a and b - bounds[k - 1] <= size:   # room left: earlier clauses
        k -= 1
        a = bounds[k]
    return a, b


def highlight(text: str, query: ParsedQuery, *, fragment_chars: int = 120,
              max_fragments: int = 3, opening: bool = True) -> list[str]:
    """Up to `max_fragments` escaped snippets (~`fragment_chars` long) with hits in <mark>.

    Fragments prefer clause boundaries (。、 and line ends), best fragment (most distinct terms,
    then most hits) first. With no hit, the opening fragment of the text is returned so every
    result has a snippet (with `opening=False`: nothing, for a caller looking for the field with
    hits); an empty text gives [].
    """
    if not text or not text.strip():
        return []
    size = max(20, fragment_chars)
    bounds = _boundaries(text)
    spans = _spans(text, query)
    if not spans:
        if not opening:
            return []
        a, b = _window(len(text), bounds, 0, 0, size)
        return [_ellipsis(text, a, b, _esc(_flow(text, a, b)))]
    candidates: list[tuple[int, int, int]] = []
    # Merged spans are sorted and disjoint, so starts and ends both ascend and the spans inside a
    # window are one slice: two bisections instead of a scan of every span per window.
    starts, ends = [sp[0] for sp in spans], [sp[1] for sp in spans]
    for s, e, _ in spans:
        a, b = _window(len(text), bounds, s, e, size)
        inside = spans[bisect.bisect_right(ends, a):bisect.bisect_left(starts, b)]
        # (a lone hit is the common case: its term set as it is, not a union built through a generator)
        terms = inside[0][2] if len(inside) == 1 else frozenset().union(*[sp[2] for sp in inside])
        candidates.append((-(100 * len(terms) + len(inside)), a, b))
    chosen: list[tuple[int, int]] = []
    limit = max(1, max_fragments)
    for _, a, b in sorted(candidates):
        for ca, cb in chosen:
            if a < cb and ca < b:   # overlaps a better fragment
                break
        else:
            chosen.append((a, b))
            if len(chosen) >= limit:
                break
    return [_ellipsis(text, a, b, _render(text, a, b, spans)) for a, b in chosen]


def _ellipsis(text: str, a: int, b: int, body: str) -> str:
    lead = "…" if a > 0 and text[a - 1] not in BOUNDARY_CHARS else ""
    tail = "…" if b < len(text) and text[b - 1] not in BOUNDARY_CHARS else ""
    return lead + body.strip() + tail


def term_matches(texts: Iterable[str], query: ParsedQuery) -> list[tuple[str, str, str | None]]:
    """Which query words the texts contain, and how, found as the highlighter finds them:
    (term as typed, "literal" | "normalized" | "synonym" | "abbreviation", the form found or None). A word found as
    typed is literal; found only in another width, case or 異体字 it is normalized (via = the form in
    the text, ＡＷＳ -> AWS); found only through a synonym variant it is synonym (via = the
    synonym's text in the case, 監視カメラ -> 防犯カメラ); found only as the reading of an abbreviation
    (engine/abbreviations.py) it is abbreviation (via = the form in the case, 児相 -> 児童相談). Words
    not found are left out."""
    originals, prepared = _prepared(tuple(texts))
    out: list[tuple[str, str, str | None]] = []
    for text, own, synonym, reading in _plan(query).matches:
        # The first occurrence decides whether the word is there; all of them are only needed when
        # the word as typed is not in the original text (then it is literal only if found as typed).
        surfaces = _surfaces(prepared, own, first_only=True)
        if surfaces:
            literal = _in_any(text, originals) or text in _surfaces(prepared, own)
            out.append((text, "literal", None) if literal else (text, "normalized", surfaces[0]))
            continue
        synonyms = _surfaces(prepared, synonym)
        if synonyms:
            out.append((text, "synonym", synonyms[0]))
            continue
        readings = _surfaces(prepared, reading)
        if readings:
            out.append((text, "abbreviation", readings[0]))
    return out


@lru_cache(maxsize=256)
def _prepared(texts: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, list[int], str], ...]]:
    """A hit's non-empty fields and their (normalised text, offsets, original): query-independent,
    so kept per record's texts like `_normalized` (one lookup instead of one per field)."""
    originals = tuple(t for t in texts if t)
    return originals, tuple(_normalized(t) + (t,) for t in originals)


def _in_any(word: str, texts: tuple[str, ...]) -> bool:
    # a loop rather than any() over a generator: called for every query word of every hit
    for text in texts:
        if word in text:
            return True
    return False


def _surfaces(prepared, patterns, first_only: bool = False) -> list[str]:
    """The original text of every occurrence of any of the variants' patterns, in order of discovery (with
    `first_only`, just the first: a scan of every field for every variant is the largest part of
    explaining a hit)."""
    found: list[str] = []
    for norm, offsets, text in prepared:
        for pattern in patterns:
            if first_only:
                # one search instead of an iterator; an empty first match (a variant of separators
                # only) falls through to the scan below, which skips it
                m = pattern.search(norm)
                if m is None:
                    continue
                if m.end() > m.start():
                    return [text[offsets[m.start()]:offsets[m.end() - 1] + 1]]
            for m in pattern.finditer(norm):
                if m.end() > m.start():
                    surface = text[offsets[m.start()]:offsets[m.end() - 1] + 1]
                    if surface not in found:
                        found.append(surface)
                        if first_only:
                            return found
    return found
