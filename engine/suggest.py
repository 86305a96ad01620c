"""Completions for the search box from the corpus's own vocabulary: 事業名, key phrases of titles,
departments, contractors and the synonym file's words, ranked by how many cases use them.

Matching is on a key that forgives what users cannot see or type the same way: the analyzers'
normalisation (widths, case, 異体字, ・ and spaces inside words) plus hiragana folded to katakana
(がばめんと finds ガバメントクラウド; both sides are folded, so kanji words with okurigana still
match only themselves). A phrase is found by its start and by the start of any word inside it
(クラウド finds ガバメントクラウド), starts first.

Cost: the vocabulary is built once per index (a pass over the records). A lookup is a binary search
over the sorted keys and a partial sort (numpy) of the ranks in the matching range; the few short
prefixes that match a large share of the keys have their lists made at build time. No scan of the
vocabulary per keystroke (bench/bench_suggest.py).
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable, Iterator

import numpy as np

from analyzers import normalize
from analyzers.sentence import content_chunks, surface_tokens

PREFIX_TABLE_CHARS = 3     # prefixes up to this long may get a precomputed top list ...
LARGE_RANGE = 2000         # ... when more keys than this start with them
MAX_LIMIT = 20
MIN_PHRASE_CHARS = 3       # shorter title chunks (利用, 対応) are not phrases anyone completes
_HIRAGANA = {cp: cp + 0x60 for cp in range(0x3041, 0x3097)}
_HIRAGANA_WORD = re.compile("^[\u3041-\u309f]+$")


class SuggestionKind(str, Enum):
    project = "project"
    department = "department"
    contractor = "contractor"
    phrase = "phrase"
    synonym = "synonym"


# When one text is several kinds (a department named in a title phrase), it is shown as the first.
_KIND_ORDER = list(SuggestionKind)


def suggest_key(text: str) -> str:
    return normalize(text).translate(_HIRAGANA).replace(" ", "")


@dataclass(frozen=True)
class Entry:
    text: str
    kind: SuggestionKind
    count: int


def title_phrases(title: str) -> list[str]:
    """Key phrases of a title: its runs of content words (東京共同電子申請・届出サービス, 外部結合)
    without brackets at the edges or a trailing 等."""
    out = []
    for chunk in content_chunks(title or ""):
        phrase = _tidy(_tidy(chunk).removesuffix("等"))
        if len(phrase) >= MIN_PHRASE_CHARS and phrase not in out:
            out.append(phrase)
    return out


_OPEN, _CLOSE = "（(「『【", "）)」』】"


def _tidy(chunk: str) -> str:
    """Brackets balanced (a chunk cut at 「の」 may keep half a pair: 保健情報システム（対人系 ->
    保健情報システム), no other punctuation at the edges."""
    text = chunk.strip()
    depth_at: list[int] = []
    start, end = 0, len(text)
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth_at.append(i)
        elif ch in _CLOSE:
            if depth_at:
                depth_at.pop()
            else:
                start = i + 1          # a closer without its opener: drop what precedes it
    if depth_at:
        end = depth_at[0]              # an opener never closed: drop it and what follows
    text = text[start:end] if start < end else ""
    text = re.sub(r"^[^\w（(「『【]+", "", text)
    return re.sub(r"[^\w）)」』】]+$", "", text)


def case_terms(record: dict[str, Any], phrases: dict[str, list[str]] | None = None) -> dict[str, SuggestionKind]:
    """The vocabulary one case uses, text -> kind (each text once per case, so counts are cases)."""
    terms: dict[str, SuggestionKind] = {}

    def add(text: str, kind: SuggestionKind) -> None:
        text = (text or "").strip()
        if text and (text not in terms or _KIND_ORDER.index(kind) < _KIND_ORDER.index(terms[text])):
            terms[text] = kind

    add(record.get("project_name", ""), SuggestionKind.project)
    for d in record.get("departments") or ():
        add(d, SuggestionKind.department)
    for c in record.get("contractors") or ():
        add(c, SuggestionKind.contractor)
    title = record.get("title", "")
    if phrases is not None:          # titles repeat (手続の追加 every quarter): analyse each once
        if title not in phrases:
            phrases[title] = title_phrases(title)
        found = phrases[title]
    else:
        found = title_phrases(title)
    for p in found:
        add(p, SuggestionKind.phrase)
    return terms


class SuggestIndex:
    def __init__(self, entries: Iterable[Entry]):
        self.entries: list[Entry] = sorted(entries, key=lambda e: (-e.count, len(e.text), e.text))
        keys: list[tuple[str, int]] = []
        n = len(self.entries)
        for i, entry in enumerate(self.entries):
            for start, key in enumerate(_keys(entry.text)):
                # rank: phrase starts before words inside; entries are stored best first (most cases)
                keys.append((key, i + (n if start else 0)))
        keys.sort()
        self._keys = [k for k, _ in keys]
        self._ranks = np.fromiter((r for _, r in keys), dtype=np.int64, count=len(keys))
        # Prefixes whose key range is large (a character or two of a common word) are answered from
        # lists made here; any other range is small enough to rank at lookup time.
        self._top: dict[str, list[int]] = {}
        for prefix in {k[:m] for k in self._keys for m in range(1, min(PREFIX_TABLE_CHARS, len(k)) + 1)}:
            lo, hi = self._range(prefix)
            if hi - lo > LARGE_RANGE:
                self._top[prefix] = self._rank(lo, hi, MAX_LIMIT)

    def __len__(self) -> int:
        return len(self.entries)

    def _range(self, key: str) -> tuple[int, int]:
        return bisect.bisect_left(self._keys, key), bisect.bisect_left(self._keys, key + "\U0010ffff")

    def _rank(self, lo: int, hi: int, limit: int) -> list[int]:
        """The best `limit` entries among keys lo..hi (an entry once)."""
        ranks = self._ranks[lo:hi]
        want = limit * 3   # an entry can own several keys in one range
        if len(ranks) > want:
            ranks = ranks[np.argpartition(ranks, want)[:want]]
        out: list[int] = []
        n = len(self.entries)
        for r in np.sort(ranks).tolist():
            i = r % n if n else r
            if i not in out:
                out.append(i)
                if len(out) == limit:
                    break
        return out

    def suggest(self, q: str, limit: int = 10) -> list[Entry]:
        key = suggest_key(q)
        if not key:
            return []
        limit = max(1, min(limit, MAX_LIMIT))
        ranked = self._top.get(key)
        if ranked is None:
            ranked = self._rank(*self._range(key), limit)
        return [self.entries[i] for i in ranked[:limit]]

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], extra: Iterable[tuple[str, SuggestionKind, int]] = ()) -> "SuggestIndex":
        counts: Counter[str] = Counter()
        kinds: dict[str, SuggestionKind] = {}
        phrases: dict[str, list[str]] = {}
        for record in records:
            for text, kind in case_terms(record, phrases).items():
                counts[text] += 1
                if text not in kinds or _KIND_ORDER.index(kind) < _KIND_ORDER.index(kinds[text]):
                    kinds[text] = kind
        for text, kind, count in extra:
            if text not in kinds:
                kinds[text], counts[text] = kind, count
        return cls(Entry(text, kinds[text], counts[text]) for text in kinds)


def _keys(text: str) -> Iterator[str]:
    """The text's key from its start and from the start of each word inside it (once each)."""
    seen = set()
    words = surface_tokens(normalize(text))
    for start in range(len(words)):
        if start and _HIRAGANA_WORD.match(words[start].strip()):
            continue      # a particle or an ending (の, に係る): nobody starts typing there
        key = suggest_key("".join(words[start:]))
        if key and key not in seen and key[0].isalnum():
            seen.add(key)
            yield key
        if start >= 40:   # bounded work for a pathological 事業名
            break


def synonym_words(text: str) -> list[str]:
    """The words of a synonym file (data/synonyms.txt format), as written."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        for part in re.split(r"=>|,", line):
            word = part.strip()
            if word and word not in out:
                out.append(word)
    return out
