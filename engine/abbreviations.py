"""Japanese abbreviations (略語) read against the corpus's own compounds: 児相 = 児童相談(所),
要対協 = 要保護児童対策地域協議(会), 生保 = 生活保護. A rule, not a list: no resource names these
pairs (docs/quality.md, "Abbreviations"; the hold-out synonym queries test exactly this).

A kanji abbreviation takes the first character of some of the morphemes of a compound, in order.
So a query word that no case contains (document frequency 0), written in 2 to MAX_CHARS kanji, is
read as the spans of corpus compounds whose morphemes start with its characters in order: the span
starts with a morpheme beginning with the first character, ends with a morpheme beginning with the
last, and every character in between begins a morpheme in between (others may be skipped: 要対協
skips 保護, 児童, 地域). Only the tightest reading counts: among all spans found, those with the
fewest morphemes (生保 reads 生活保護, 2 morphemes, not the department names 生活福祉課保護…, 4).
A span's text is searched like a synonym (substring semantics, so 児童相談 finds 児童相談所 and
児童相談システム), and the match reasons name it (`how: abbreviation`, via the form in the case).

The vocabulary is the set of noun compounds (runs of nouns, prefixes and suffixes, MeCab/unidic)
of every text field of the records, built once per index from the backend's records — the same
records on both backends, so both read an abbreviation the same way. Cost: a MeCab pass over the
text, 2–4 ms of CPU per case (51 cases: 0.22 s; the 51 repeated to 2,040: 4.3 s), paid by the first
query that needs it. A larger index reads at most MAX_RECORDS of its cases, chosen by a hash of the
case id (the same cases on both backends, whatever order they list them in), so that first query
costs a few seconds of CPU instead of minutes at 100k cases. The sample only *finds* the readings; a reading is then searched
in every case, so the count stays true. A reading used only by cases outside the sample is missed
(rare compounds in a large corpus).
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import replace
from typing import Any, Callable, Iterable

from analyzers import normalize
from analyzers import term_streams
from analyzers.taggers import FEATURES
from contract.document import TEXT_FIELDS, field_text
from contract.query import Group, ParsedQuery, Term, Variant

MIN_CHARS, MAX_CHARS = 2, 4
# At most this many cases are read for the vocabulary (see the module doc).
MAX_RECORDS = 2000
# A reading may span at most this many morphemes per abbreviation character (要対協: 6 for 3).
SPAN_PER_CHAR = 3
# At most this many readings per word (the tightest, then the ones more cases use).
MAX_READINGS = 4
_KANJI_WORD = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\u3005]+$")
_WORDLIKE = re.compile(r"\w")
_COMPOUND_POS = frozenset({"名詞", "接頭辞", "接尾辞"})


def is_candidate(word: str) -> bool:
    """Could `word` (normalised) be a kanji abbreviation? (Its document frequency is checked apart.)"""
    return MIN_CHARS <= len(word) <= MAX_CHARS and bool(_KANJI_WORD.match(word))


def compounds(text: str) -> Iterable[tuple[str, ...]]:
    """The noun compounds of `text` (normalised) as morpheme tuples of at least two morphemes."""
    with FEATURES.borrow() as tagger:
        tokens = [(t.surface, str(t.feature.pos1), t.white_space) for t in tagger(text)]
    run: list[str] = []
    for surface, pos, space in tokens:
        nounish = pos in _COMPOUND_POS and bool(_WORDLIKE.match(surface))
        if nounish and run and not space:
            run.append(surface)
            continue
        if len(run) >= 2:
            yield tuple(run)
        run = [surface] if nounish else []
    if len(run) >= 2:
        yield tuple(run)


class AbbreviationIndex:
    """The corpus's compounds, indexed by the first character of each morpheme."""

    def __init__(self, found: dict[tuple[str, ...], int]):
        self.counts = found                                   # compound -> number of cases using it
        self._starts: dict[str, list[tuple[tuple[str, ...], int]]] = defaultdict(list)
        for compound in found:
            for i, morpheme in enumerate(compound[:-1]):
                self._starts[morpheme[0]].append((compound, i))

    def __len__(self) -> int:
        return len(self.counts)

    @classmethod
    def from_records(cls, records: Iterable[dict[str, Any]], total: int = 0) -> "AbbreviationIndex":
        """From `records` (all of the index's: `total` of them; past MAX_RECORDS only a hash-chosen
        sample of about MAX_RECORDS is analysed)."""
        step = -(-total // MAX_RECORDS) if total > MAX_RECORDS else 1
        counts: dict[tuple[str, ...], int] = defaultdict(int)
        for record in records:
            if step > 1 and _id_hash(str(record.get("id", ""))) % step:
                continue
            seen: set[tuple[str, ...]] = set()
            for name in TEXT_FIELDS:
                text = field_text(record.get(name))
                if text:
                    seen.update(compounds(normalize(text)))
            for compound in seen:
                counts[compound] += 1
        return cls(dict(counts))

    def readings(self, word: str) -> list[str]:
        """The tightest readings of `word` as an abbreviation (see the module doc), most used first."""
        if not is_candidate(word):
            return []
        found: dict[str, tuple[int, int]] = {}        # span text -> (morphemes, cases)
        for compound, i in self._starts.get(word[0], ()):
            k, j = 1, i
            while k < len(word) and j + 1 < len(compound) and j + 1 - i < SPAN_PER_CHAR * len(word):
                j += 1
                if compound[j].startswith(word[k]):
                    k += 1
            if k < len(word):
                continue
            span = compound[i:j + 1]
            text = "".join(span)
            if word in text:
                continue                           # the word itself, not an abbreviation of it
            cases = max(found.get(text, (0, 0))[1], self.counts[compound])
            found[text] = (len(span), cases)
        if not found:
            return []
        tightest = min(n for n, _ in found.values())
        best = sorted((t for t, (n, _) in found.items() if n == tightest), key=lambda t: (-found[t][1], t))
        return best[:MAX_READINGS]


def _id_hash(case_id: str) -> int:
    """A stable hash of a case id (Python's hash() changes per process)."""
    return int.from_bytes(hashlib.blake2b(case_id.encode("utf-8"), digest_size=8).digest(), "big")


def expand(query: ParsedQuery, index: Callable[[], AbbreviationIndex],
           absent: Callable[[Term], bool]) -> ParsedQuery:
    """`query` with each abbreviation-like term that no case contains (`absent`) expanded by its
    readings (variants marked `abbreviation`, weighted like synonyms). `index` is called only when
    some term is a candidate (building it costs a pass over the corpus)."""
    groups, changed = [], False
    for group in query.groups:
        terms = []
        for term in group.terms:
            own = term.variants[0].text if term.variants else ""
            if not term.phrase and is_candidate(own) and absent(term):
                extra = [Variant(text=t, streams=term_streams(t), is_synonym=True, abbreviation=True)
                         for t in index().readings(own)]
                if extra:
                    term, changed = replace(term, variants=(*term.variants, *extra)), True
            terms.append(term)
        groups.append(Group(tuple(terms)))
    return replace(query, groups=tuple(groups)) if changed else query
