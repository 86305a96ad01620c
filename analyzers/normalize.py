"""Matching-side normalisation of Japanese (and mixed) text.

Display text is never changed; this produces the string that both the index side and the query side
tokenise, plus (on request) a map from each normalised character back to its source character so the
highlighter can mark the original text.

Two stages, both applied identically by `normalize` and `normalize_with_offsets`:

1. A per-character table (cached lazily, used through `str.translate`): NFKC (full/half width Latin,
   digits, half-width kana, ①→1, ⑴→(1), Ⅱ→ii, №→no), case folding, the 異体字 map
   (`data/itaiji.tsv`), every dash/hyphen/minus variant → "-", every middle dot → "・", whitespace →
   " ", format characters (ZWSP, soft hyphen, BOM) deleted, dingbat circled digits (➂) → digits.
2. Context rules, each a regex substitution that deletes or replaces characters (so offsets stay
   trackable): combining (han)dakuten composed; kana iteration marks expanded; "-" after kana → "ー"
   (a PDF may draw the long-vowel mark as a dash); hyphens and ・ inside Latin/katakana words deleted
   (パブリック・コメント = パブリックコメント, Wi-Fi = wifi, e-ラーニング = eラーニング); thousands
   separators deleted (3,120 = 3120); counter ヶ/カ/箇 after a number → か (97ヶ所 = 97か所); whitespace next to Japanese deleted (令和 7 年度 = 令和7年度,
   PDF line ends inside words), other whitespace runs collapsed to one space.
"""
from __future__ import annotations

import re
import unicodedata
from importlib import resources
from typing import Callable

import numpy as np

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2500\u2501\ufe58\ufe63\uff0d"
_DOTS = "\u30fb\u00b7\u2022\u2027\u2219\u22c5\u0387\uff65"
# Dingbat circled digits that have no compatibility decomposition (➂ occurs in the corpus).
_DINGBAT_DIGITS: dict[int, str] = {}
for _base in (0x2776, 0x2780, 0x278A, 0x24F5):         # ❶.. ➀.. ➊.. ⓵..
    for _i in range(10):
        _DINGBAT_DIGITS[_base + _i] = str(_i + 1)
for _i in range(10):                                    # ⓫..⓴
    _DINGBAT_DIGITS[0x24EB + _i] = str(_i + 11)
_DINGBAT_DIGITS[0x24FF] = "0"
_DINGBAT_DIGITS[0x24EA] = "0"
_SPECIAL: dict[str, str] = {
    "\u303b": "\u3005",      # 〻 -> 々
    "\u309b": "\u3099",      # spacing dakuten -> combining (NFKC would give " \u3099")
    "\u309c": "\u309a",
    "\u2018": "'", "\u2019": "'", "\u00b4": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u2033": '"',
}


def _load_itaiji() -> dict[str, str]:
    text = resources.files("analyzers").joinpath("data/itaiji.tsv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        variant, _, standard = line.partition("\t")
        variant, standard = variant.strip(), standard.strip()
        if variant and standard:
            table[unicodedata.normalize("NFKC", variant)] = standard
    return table


ITAIJI: dict[str, str] = _load_itaiji()


def _map_char(ch: str) -> str:
    """Stage 1 for one source character (result may be empty or several characters)."""
    cp = ord(ch)
    if cp in _DINGBAT_DIGITS:
        return _DINGBAT_DIGITS[cp]
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    cat = unicodedata.category(ch)
    if ch.isspace() or cat in ("Cc", "Zl", "Zp", "Co"):
        return " "
    if cat in ("Cf", "Cs"):
        return ""
    out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", ch).casefold())
    res = []
    for c in out:
        if c in _DASHES:
            res.append("-")
        elif c in _DOTS:
            res.append("\u30fb")
        elif c.isspace():
            res.append(" ")
        else:
            res.append(ITAIJI.get(c, c))
    return "".join(res)


class _Table(dict):
    """Lazy translate table: computes and caches the mapping the first time a code point is seen."""

    def __missing__(self, cp: int) -> str:
        value = _map_char(chr(cp))
        self[cp] = value
        return value


_TABLE = _Table()

# ---- stage 1 of a long text, with numpy ---------------------------------------------------
# `str.translate` looks every character up in the table one by one (a Python int and a dict lookup
# each: ~50-100 ns a character, 0.1-0.2 ms of a case's indexing CPU). For long texts stage 1 is
# instead one array lookup over the code points, in a table of the BMP code points that map to
# exactly one character; the few that map to none or several (Ⅱ -> ii, ⑴ -> (1), … -> ..., format
# characters -> "") and every non-BMP code point go through `_TABLE` as before. The same
# `_map_char` fills both tables, so the output is identical (tests/test_analyzers_properties.py).
_ARRAY_STAGE1_MIN_CHARS = 128
_NOT_ONE = np.uint32(0xFFFFFFFF)
_ONE_TO_ONE: np.ndarray | None = None    # code point -> its one-character mapping, else _NOT_ONE
_MAX_ODD_CHARS = 64                     # more characters outside the table: translate() instead


def _one_to_one() -> np.ndarray:
    global _ONE_TO_ONE
    if _ONE_TO_ONE is None:
        table = np.full(0x10001, _NOT_ONE, np.uint32)     # last entry: any non-BMP code point (clip)
        for cp in range(0x10000):
            mapped = _map_char(chr(cp))
            if len(mapped) == 1:
                table[cp] = ord(mapped)
        _ONE_TO_ONE = table
    return _ONE_TO_ONE


def _stage1(text: str) -> str:
    """`text.translate(_TABLE)`."""
    if len(text) < _ARRAY_STAGE1_MIN_CHARS:
        return text.translate(_TABLE)
    found = _stage1_array(text)
    return text.translate(_TABLE) if found is None else found[0]


def _stage1_array(text: str) -> tuple[str, list[int]] | None:
    """Stage 1 of `text` by the array table, with the index of each output character's source
    character; None when too many characters are outside the table."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    mapped = _one_to_one().take(codes, mode="clip")
    if mapped.max() != _NOT_ONE:
        return mapped.tobytes().decode("utf-32-le"), list(range(len(text)))
    odd = np.flatnonzero(mapped == _NOT_ONE)
    if len(odd) > _MAX_ODD_CHARS:
        return None
    pieces: list[str] = []
    offsets: list[int] = []
    last = 0
    for i in odd.tolist():
        if i > last:
            pieces.append(mapped[last:i].tobytes().decode("utf-32-le"))
            offsets.extend(range(last, i))
        out = _TABLE[ord(text[i])]
        pieces.append(out)
        offsets.extend([i] * len(out))
        last = i + 1
    pieces.append(mapped[last:].tobytes().decode("utf-32-le"))
    offsets.extend(range(last, len(text)))
    return "".join(pieces), offsets

# ---- character classes (on stage-1 output) ---------------------------------------------------
_KANA = "\u3041-\u3096\u30a1-\u30fa\u30fc"
_CJK = (
    "\u3005-\u3007\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
)
_LATIN = "a-z\u00df-\u024f"
_CJK_RE = re.compile(f"[{_CJK}]")


def is_cjk(ch: str) -> bool:
    return _CJK_RE.match(ch) is not None


_COMBINING_RE = re.compile(r"[^\s][\u0300-\u036f\u3099\u309a]+")
_ITER_RE = re.compile("(?<=[\u3041-\u3096\u30a1-\u30fa])[\u309d\u309e\u30fd\u30fe]+")
# Whitespace (already single " " characters after stage 1): deleted next to Japanese when the other
# side is a letter/digit, deleted at the ends, otherwise runs collapse to one space. Plain regexes
# (no Python callback): whitespace is frequent (PDF line ends).
# Each pattern starts with the literal character it is about and checks what precedes it with a
# lookbehind *after* it ("x(?<=[…]x)" = "(?<=[…])x"): re then skips to that character with a fast
# literal search instead of trying the lookbehind at every position of the text (the rules were
# ~0.2 ms of CPU per synthetic case at indexing; same matches, tests/test_analyzers_normalize.py).
_WS_CJK_BEFORE_RE = re.compile(f" (?<=[{_CJK}] ) *(?=[^\\W_])")
_WS_CJK_AFTER_RE = re.compile(f" (?<=[^\\W_] ) *(?=[{_CJK}])")
_WS_START_RE = re.compile(r"^ +")
_WS_END_RE = re.compile(r" +$")
_WS_RUN_RE = re.compile(" {2,}")
_KANA_DASH_RE = re.compile(f"-(?<=[{_KANA}\u309d\u309e\u30fd\u30fe]-)-*")
_WORD_HYPHEN_RE = re.compile(f"-(?<=[{_LATIN}]-)(?=[{_LATIN}{_KANA}])")
_WORD_DOT_RE = re.compile(f"\u30fb(?<=[{_KANA}{_LATIN}]\u30fb)(?=[{_KANA}{_LATIN}])")
_THOUSANDS_RE = re.compile(r",(?<=\d,)(?=\d{3}(?!\d))")
# Counter ka: ９７か所 = ９７ヶ所 = ９７カ所 = ９７箇所, ３ヵ月 = ３か月 (only after a number, before a counter).
_COUNTER_KA_RE = re.compile("[ヶヵケカ箇](?<=[0-9〇一二三四五六七八九十百千][ヶヵケカ箇])(?=[所月年国条回])")


def _compose(m: re.Match[str]) -> str:
    composed = unicodedata.normalize("NFC", m.group())
    # Marks that did not compose carry no meaning for matching.
    return "".join(c for c in composed if not unicodedata.combining(c))


def _iteration(m: re.Match[str]) -> str:
    prev = m.string[m.start() - 1]
    out = []
    for mark in m.group():
        if mark in "\u309e\u30fe":
            voiced = unicodedata.normalize("NFC", prev + "\u3099")
            out.append(voiced if len(voiced) == 1 else prev)
        else:
            out.append(prev)
    return "".join(out)


Repl = Callable[[re.Match[str]], str] | str
_COMBINING_GATE = re.compile("[\u0300-\u036f\u3099\u309a]")


class _Rule:
    """One context rule. `gate` (characters, any of which must occur, or a regex that must find
    something) skips the full regex pass for the common text that cannot match."""

    __slots__ = ("pattern", "repl", "gate")

    def __init__(self, pattern: re.Pattern[str], repl: Repl, gate: str | re.Pattern[str] | None):
        self.pattern, self.repl, self.gate = pattern, repl, gate

    def applies(self, s: str) -> bool:
        g = self.gate
        if g is None:
            return True
        if isinstance(g, str):
            return any(c in s for c in g)
        return g.search(s) is not None


_RULES: tuple[_Rule, ...] = (
    # Order matters for idempotence: no rule may create a match for an earlier one.
    _Rule(_COMBINING_RE, _compose, _COMBINING_GATE),
    _Rule(_KANA_DASH_RE, lambda m: "\u30fc" * len(m.group()), "-"),
    _Rule(_WS_CJK_BEFORE_RE, "", " "),
    _Rule(_WS_CJK_AFTER_RE, "", " "),
    _Rule(_WS_START_RE, "", " "),
    _Rule(_WS_END_RE, "", " "),
    _Rule(_WS_RUN_RE, " ", "  "),
    _Rule(_ITER_RE, _iteration, "\u309d\u309e\u30fd\u30fe"),
    _Rule(_WORD_HYPHEN_RE, "", "-"),
    _Rule(_WORD_DOT_RE, "", "\u30fb"),
    _Rule(_THOUSANDS_RE, "", ","),
    _Rule(_COUNTER_KA_RE, "か", "ヶヵケカ箇"),
)


def normalize(text: str) -> str:
    """The matching form of `text` (see module docstring). Idempotent."""
    s = _stage1(text)
    for rule in _RULES:
        if rule.applies(s):
            s = rule.pattern.sub(rule.repl, s)
    return s


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """`normalize(text)` plus, for each normalised character, the index of its source character."""
    # The highlighter and the match explanations normalise every hit's fields (a case's 事業内容 is
    # thousands of characters): stage 1 of a long text by the array table, as `normalize` does, not
    # a Python step per character (at 100k cases that loop was most of a new query's hit building).
    found = _stage1_array(text) if len(text) >= _ARRAY_STAGE1_MIN_CHARS else None
    if found is not None:
        s, offsets = found
    else:
        pieces: list[str] = []
        offsets = []
        table = _TABLE
        for i, ch in enumerate(text):
            mapped = table[ord(ch)]
            if mapped:
                pieces.append(mapped)
                offsets.extend([i] * len(mapped))
        s = "".join(pieces)
    for rule in _RULES:
        if not rule.applies(s):
            continue
        repl = rule.repl
        out: list[str] = []
        new_offsets: list[int] = []
        last = 0
        for m in rule.pattern.finditer(s):
            start = m.start()
            out.append(s[last:start])
            new_offsets.extend(offsets[last:start])
            r = repl(m) if callable(repl) else repl
            if r:
                out.append(r)
                if len(r) == m.end() - start:
                    new_offsets.extend(offsets[start:m.end()])
                else:
                    new_offsets.extend([offsets[start]] * len(r))
            last = m.end()
        if last == 0 and not out:
            continue
        out.append(s[last:])
        new_offsets.extend(offsets[last:])
        s, offsets = "".join(out), new_offsets
    return s, offsets
