"""Split a sentence-like query word into its content words.

Japanese users type sentences without spaces (公園に防犯カメラを増設する). As one term that would
have to occur verbatim and finds nothing, so a word that contains particles, auxiliaries or verbs is
cut at them: runs of nouns (with prefixes, suffixes and symbols between them) become the terms,
and filler nouns of a request (案件, 事例, 仕組み …) are dropped. A plain compound with no such
token (ガバメントクラウド, 再委託先) is left whole. The caller embeds the whole sentence for semantic
search; only the keyword side sees the split.
"""
from __future__ import annotations

from typing import NamedTuple

from analyzers.taggers import FEATURES

# Parts of speech that end a content run (unidic pos1).
# 形状詞 breaks only as an auxiliary stem (よう): パブリック, 特定 are 形状詞 too and belong to words.
_BREAK_POS = frozenset({"助詞", "助動詞", "動詞", "形容詞", "副詞", "連体詞", "接続詞", "感動詞"})
# Nouns that only frame a request ("…する案件", "…の事例を探す") and carry no topic.
FILLER_NOUNS = frozenset("案件 事例 ケース 仕組み 仕組 もの こと ため よう とき 場合 件 例 話 内容 方法 審議".split())



class _Token(NamedTuple):
    surface: str
    white_space: str
    pos1: str
    pos2: str
    cform: str


def _tokens(word: str) -> list[_Token]:
    # Copied out while the tagger is borrowed: fugashi nodes point into the tagger's lattice.
    with FEATURES.borrow() as tagger:
        return [_Token(t.surface, t.white_space, str(t.feature.pos1), str(t.feature.pos2), str(t.feature.cForm))
                for t in tagger(word)]


def content_chunks(word: str) -> list[str]:
    """The content words of `word`, or `[word]` when it is not sentence-like."""
    if len(word) < 4:
        return [word]
    tokens = _tokens(word)
    # Sentence-like = has a particle or auxiliary. A compound with a verb stem in it (見守りカメラ,
    # 入れ替え) is a word, not a sentence.
    if not any(t.pos1 in ("助詞", "助動詞") for t in tokens):
        return [word]
    chunks: list[str] = []
    current: list[str] = []
    for i, token in enumerate(tokens):
        pos = token.pos1
        breaks = pos in _BREAK_POS or (pos == "形状詞" and token.pos2 == "助動詞語幹")
        if (breaks and pos == "動詞" and token.cform.startswith("連用形")
                and i + 1 < len(tokens) and tokens[i + 1].pos1 in ("名詞", "接尾辞")):
            breaks = False   # a verb stem inside a compound noun: 見守りカメラ, 受け取り窓口
        if breaks:
            if current:
                chunks.append("".join(current))
                current = []
            continue
        current.append(token.white_space + token.surface if current else token.surface)
    if current:
        chunks.append("".join(current))
    chunks = [c for c in chunks if c not in FILLER_NOUNS]
    return list(dict.fromkeys(chunks)) or [word]


def surface_tokens(text: str) -> list[str]:
    """`text` as words, each with the whitespace before it ("".join gives `text` back). Used where
    the original text must be kept (word-level diffs), so nothing is normalised or dropped."""
    out: list[str] = []
    pos = 0
    for token in _tokens(text or ""):
        piece = token.white_space + token.surface
        if not text.startswith(piece, pos):
            break  # the analyser changed the text (it should not): the rest goes character by character
        out.append(piece)
        pos += len(piece)
    rest = (text or "")[pos:]
    if rest.isspace() and out:
        out[-1] += rest          # trailing whitespace joins the last word
    else:
        out.extend(rest)
    return out
