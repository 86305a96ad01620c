"""Token streams for one text field (index side: `index_tokens`) or one query term/variant (query
side: `term_streams`).

Engines index each stream as space-joined tokens with a whitespace tokenizer, so a token never
contains whitespace and a token's position is its index in the stream. Positions are contiguous
across punctuation and spaces (no gaps), identically on both sides, so a phrase that spans a ・ or
a space in the query still lines up with the index.

- morph: fugashi + unidic-lite surface forms of the normalised text (no lemmas: unidic's lemma of
  クラウド is "crowd" and of 東京 a reading, both would create false matches), minus a small stop
  list of particles/auxiliaries and tokens without letters or digits.
- bigram: a text is cut into runs of letters/digits (everything else separates; ・ is dropped and
  joins, so 申請・届出 = 申請届出). Inside a run,
  Latin words (runs of Latin letters: "aws", "lgwan", "wifi"; digits are not part of them) are one
  token each; every other segment (kanji, kana, digits) gives one overlapping bigram per character
  position, or the character itself when the segment is one character long.
  Consecutive bigrams = substring match: 委託 matches 業務委託, 再委託 matches 再委託先.
- unigram (query side only): one token per non-Latin character, Latin words whole. No engine indexes
  a unigram stream: a one-character term is matched through the bigram terms, so the index side
  does not compute one.
"""
from __future__ import annotations

import re

import numpy as np

from analyzers.normalize import _LATIN, normalize
from analyzers.taggers import WAKATI
from contract.document import FieldTokens
from contract.query import TokenStreams

_concat = str.__add__
MAX_TOKEN_CHARS = 64  # engines reject or drop very long tokens; cut identically on both sides

# A run: letters/digits, possibly joined by ・ (電子申請・届出 is one run for the bigram stream, so
# a query written with or without the ・ matches; the morph stream still sees the ・).
_RUN_RE = re.compile(r"[^\W_]+(?:\u30fb[^\W_]+)*")
# Latin letters only: digits are bigrammed like kanji, so iso27001 = "iso" + 27 70 00 01 and both
# "ISO" and "27001" (and "ISO 27001") find it, as MeCab also splits letters from digits.
_LATIN_WORD_RE = re.compile(f"[{_LATIN}]+")
_HAS_LATIN_RE = re.compile(f"[{_LATIN}]")
_WORDCHAR_RE = re.compile(r"[^\W_]")

# Particles, auxiliaries and light verbs that carry no search meaning on their own. Punctuation and
# symbols are dropped by the "has a letter or digit" rule. Kept small on purpose: the bigram stream
# guarantees recall, the morph stream is for ranking.
STOP_WORDS: frozenset[str] = frozenset(
    """
    の に を は が と で て も へ や か から まで より など ね よ な だ た です ます ません でし でした
    する し さ され せ れ られ れる られる いる い ある あり あっ ない なかっ ず ぬ う よう ば けれ
    って ので のに けど けれど ところ こと もの ため ほか および 及び 並びに 又は または かつ
    """.split()
)


def _wakati(text: str) -> list[str]:
    # A tagger from the process-wide pool (analyzers/taggers.py), not one per thread.
    with WAKATI.borrow() as tagger:
        return tagger.parse(text).split()


# Token -> keep? decided once per distinct token (the vocabulary is small); the loop below then
# costs two set lookups per token instead of a regex.
_KEEP: set[str] = set()
_DROP: set[str] = set(STOP_WORDS)


def _filter(tokens: list[str]) -> list[str]:
    keep, drop = _KEEP, _DROP
    # Usually every token is already classified: then one C-level filter() pass instead of the loop
    # below (same output; a new token is classified first, a long one needs the loop's truncation).
    for t in set(tokens).difference(keep, drop):
        if _WORDCHAR_RE.search(t) is None:
            if len(drop) >= 500_000:
                return _filter_loop(tokens)
            drop.add(t)
        elif len(t) > MAX_TOKEN_CHARS or len(keep) >= 500_000:
            return _filter_loop(tokens)
        else:
            keep.add(t)
    return list(filter(keep.__contains__, tokens))


def _filter_loop(tokens: list[str]) -> list[str]:
    keep, drop = _KEEP, _DROP
    out: list[str] = []
    append = out.append
    for t in tokens:
        if t in keep:
            append(t)
        elif t in drop:
            continue
        elif _WORDCHAR_RE.search(t) is not None:
            t = t[:MAX_TOKEN_CHARS]
            if len(keep) < 500_000:
                keep.add(t)
            append(t)
        elif len(drop) < 500_000:
            drop.add(t)
    return out


# Sentence cache: council records repeat boilerplate (the same security-measure sentences occur in
# dozens of cases; ~40% of the corpus characters are in repeated clauses), so MeCab runs once per
# distinct sentence. Splitting after 。 does not change MeCab's output on the corpus (tested).
_SENTENCES: dict[str, tuple[str, ...]] = {}
MAX_CACHED_SENTENCES = 50_000


def _morph(norm: str) -> list[str]:
    if not norm:
        return []
    if "\u3002" not in norm:
        return list(_morph_sentence(norm))
    out: list[str] = []
    # str.split + the 。 put back: the same sentences as splitting after each 。 with a regex, whose
    # zero-width lookbehind is tried at every character
    parts = norm.split("\u3002")
    last = parts.pop()
    for part in parts:
        out.extend(_morph_sentence(part + "\u3002"))
    if last:
        out.extend(_morph_sentence(last))
    return out


def _morph_sentence(sentence: str) -> tuple[str, ...]:
    cached = _SENTENCES.get(sentence)
    if cached is None:
        cached = tuple(_filter(_wakati(sentence)))
        if len(_SENTENCES) >= MAX_CACHED_SENTENCES:
            _SENTENCES.clear()
        _SENTENCES[sentence] = cached
    return cached


def clear_caches() -> None:
    """Forget cached sentence and short-field analyses (benchmarks measure a cold, single indexing
    pass)."""
    _SENTENCES.clear()
    _SHORT_FIELDS.clear()


def _char_streams(norm: str, with_unigram: bool = True) -> tuple[list[str], list[str]]:
    """(bigram, unigram) streams of normalised text; the unigram list stays empty without
    `with_unigram` (the index side, where no engine indexes it)."""
    bigram: list[str] = []
    unigram: list[str] = []
    for run in _RUN_RE.findall(norm):
        if "\u30fb" in run:
            run = run.replace("\u30fb", "")
        if _HAS_LATIN_RE.search(run) is None:   # fast path: no Latin word inside
            if len(run) == 1:
                bigram.append(run)
            else:
                bigram.extend(map(_concat, run[:-1], run[1:]))
            if with_unigram:
                unigram.extend(run)
            continue
        for is_word, seg in _split_latin(run):
            if is_word:
                w = seg[:MAX_TOKEN_CHARS]
                bigram.append(w)
                if with_unigram:
                    unigram.append(w)
            elif len(seg) == 1:
                bigram.append(seg)
                if with_unigram:
                    unigram.append(seg)
            else:
                bigram.extend(map(_concat, seg[:-1], seg[1:]))
                if with_unigram:
                    unigram.extend(seg)
    return bigram, unigram


def _split_latin(run: str) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    last = 0
    for m in _LATIN_WORD_RE.finditer(run):
        if m.start() > last:
            out.append((False, run[last:m.start()]))
        out.append((True, m.group()))
        last = m.end()
    if last < len(run):
        out.append((False, run[last:]))
    return out


def join_tokens(tokens) -> str:
    """Tokens → the text a whitespace tokenizer splits back into exactly these tokens: what both
    engines index (and OpenSearch's phrase queries send). The one joining, used on both sides."""
    return " ".join(tokens)


# ---- the joined bigram stream of a long text, computed on arrays ---------------------------------
# `join_tokens(_char_streams(norm)[0])` makes one small Python string per bigram (~150 ns each,
# 0.3 ms of a case's ~2 ms of indexing CPU). For long texts the same joined string is written
# directly from the text's UTF-16 code units with numpy (~4x less CPU); tests compare the two on
# the corpus and on generated text. Short texts (the per-call overhead is ~20 µs) and texts with
# characters outside the BMP (surrogate pairs) take the list path.
ARRAY_BIGRAMS_MIN_CHARS = 200
_CLASS: np.ndarray | None = None    # BMP code unit -> 0 separator, 1 other letter/digit, 2 Latin letter
_SPACE = np.uint16(ord(" "))
_DOT = np.uint16(0x30FB)


def _char_classes() -> np.ndarray:
    global _CLASS
    if _CLASS is None:
        table = np.zeros(0x10000, np.uint8)
        bmp = "".join(map(chr, range(0x10000)))
        for m in re.finditer(r"[^\W_]+", bmp):
            table[m.start():m.end()] = 1
        for m in _LATIN_WORD_RE.finditer(bmp):
            table[m.start():m.end()] = 2
        _CLASS = table
    return _CLASS


def _bigram_text(norm: str) -> str:
    """`join_tokens(_char_streams(norm, with_unigram=False)[0])`, for long texts without computing
    the token list: a bigram at every letter/digit followed by another of the same kind (non-Latin),
    the character alone where it has no such neighbour on either side, a Latin word whole (cut at
    MAX_TOKEN_CHARS); tokens in text order, one space between.

    Every position emits at most three code units, so the output is a (n, 3) array of candidates
    (the character, the next character, a space) and a mask of which are written: a bigram start
    writes all three, a lone character its own and the space, a Latin letter its own (the last one
    of a word also the space). One boolean selection then gives the joined text in order — about
    15 array operations, half as many as building the tokens from offsets (0.14 -> 0.09 ms of CPU
    per synthetic case)."""
    if len(norm) < ARRAY_BIGRAMS_MIN_CHARS:
        return join_tokens(_char_streams(norm, with_unigram=False)[0])
    units = np.frombuffer(norm.encode("utf-16-le", "surrogatepass"), np.uint16)
    if len(units) != len(norm):     # surrogate pairs: one character is two code units here
        return join_tokens(_char_streams(norm, with_unigram=False)[0])
    kind = _char_classes()[units]
    if "\u30fb" in norm:
        # a ・ between two letters/digits joins them into one run (申請・届出 = 申請届出): drop it
        inside = (units[1:-1] == _DOT) & (kind[:-2] != 0) & (kind[2:] != 0)
        if inside.any():
            keep = np.ones(len(units), bool)
            keep[1:-1] = ~inside
            units, kind = units[keep], kind[keep]
    n = len(kind)
    other = kind == 1
    other_next = np.zeros(n, bool)
    other_next[:-1] = other[1:]
    other_prev = np.zeros(n, bool)
    other_prev[1:] = other[:-1]
    bigram = other & other_next
    lone = other & ~other_prev & ~other_next
    cand = np.empty((n, 3), np.uint16)
    cand[:, 0] = units
    cand[:-1, 1] = units[1:]
    cand[-1, 1] = _SPACE
    cand[:, 2] = _SPACE
    emit = np.empty((n, 3), bool)
    emit[:, 1] = bigram
    if _HAS_LATIN_RE.search(norm) is None:
        np.logical_or(bigram, lone, out=emit[:, 0])
        emit[:, 2] = emit[:, 0]
    else:
        latin = kind == 2
        latin_next = np.zeros(n, bool)
        latin_next[:-1] = latin[1:]
        word_end = latin & ~latin_next
        written = latin
        starts = np.flatnonzero(latin & ~np.concatenate(([False], latin[:-1])))
        ends = np.flatnonzero(word_end)
        if len(starts) and int((ends - starts).max()) >= MAX_TOKEN_CHARS:
            written = latin.copy()
            for start, end in zip(starts.tolist(), ends.tolist()):
                written[start + MAX_TOKEN_CHARS:end + 1] = False    # a long word is cut
        emit[:, 0] = bigram | lone | written
        emit[:, 2] = bigram | lone | word_end
    out = cand[emit]
    if len(out) == 0:
        return ""
    return out[:-1].tobytes().decode("utf-16-le")   # the last unit is the last token's space


# Short field values repeat across cases (departments, contractors, a project's title and purpose
# year after year): their analysis is kept per text, bounded like the sentence cache.
_SHORT_FIELDS: dict[str, FieldTokens] = {}
SHORT_FIELD_CHARS = 200
MAX_CACHED_SHORT_FIELDS = 20_000


def index_tokens(text: str) -> FieldTokens:
    """Index-side analysis of one text field: its morph and bigram streams, joined for indexing."""
    short = len(text) <= SHORT_FIELD_CHARS
    if short:
        cached = _SHORT_FIELDS.get(text)
        if cached is not None:
            return cached
    norm = normalize(text)
    tokens = FieldTokens(morph=join_tokens(_morph(norm)), bigram=_bigram_text(norm))
    if short:
        if len(_SHORT_FIELDS) >= MAX_CACHED_SHORT_FIELDS:
            _SHORT_FIELDS.clear()
        _SHORT_FIELDS[text] = tokens
    return tokens


def term_streams(text: str) -> TokenStreams:
    """Query-side streams for one term or synonym variant.

    Same analysis as the index side, except:
    - a term made only of stop words keeps them in the morph stream (searching for "及び" must not
      become an empty query);
    - a one-character term has an empty bigram stream: it is matched through the unigram stream
      (a bigram phrase of one lone character would only find that character standing alone).
    The unigram and morph streams are never empty when the term has a letter or digit; the bigram
    stream is never empty for two or more characters.
    """
    norm = normalize(text)
    bigram, unigram = _char_streams(norm)
    if len(unigram) == 1 and len(unigram[0]) == 1:
        bigram = []
    morph = _morph(norm)
    if not morph and unigram:
        morph = [t[:MAX_TOKEN_CHARS] for t in _wakati(norm)
                 if _WORDCHAR_RE.search(t)] or list(bigram or unigram)
    return TokenStreams(morph=tuple(morph), bigram=tuple(bigram), unigram=tuple(unigram))
