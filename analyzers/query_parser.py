"""The user query language -> `ParsedQuery` (engine independent; see contract.query).

    個人番号 委託            AND (spaces, full-width spaces too)
    "再委託先" / 「再委託先」  phrase: contiguous, exact (no synonym expansion); 『…』 and “…” too
    防犯カメラ OR 監視カメラ   OR binds the terms on either side into one group (ＯＲ and | too)
    -警視庁 / NOT 警視庁       exclude (－ and − work as the minus sign)
    №12, No.12, #12, 案件12   the case number: only the exact path
    12                        the case number first, and also the text 12
    shinjuku-privacy-council-2023-012   the case id

Nothing here raises on user input: unbalanced quotes, lone operators, empty terms and oversize input
are dropped or cut with a note in `ParsedQuery.warnings` (contract.query_warnings: a stable code,
an English and a Japanese text).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Iterator, NamedTuple

from analyzers.normalize import normalize
from analyzers.sentence import content_chunks
from analyzers.streams import term_streams
from analyzers.synonyms import SynonymMap, default_synonyms
from contract.query import Group, ParsedQuery, Term, Variant
from contract.query_warnings import QueryWarning


MAX_QUERY_CHARS = 1000
MAX_TERMS = 32
MAX_TERM_CHARS = 100

_QUOTES = {'"': '"\u201d\uff02', "\uff02": '"\uff02\u201d', "\u201c": '\u201d"\uff02',
           "\u201d": '\u201d"', "\u300c": "\u300d", "\u300e": "\u300f"}
_MINUS = "-\uff0d\u2212\u2010\u2013"
_OR = {"OR", "|", "||"}
_AND = {"AND", "&", "&&"}
_NOT = {"NOT"}
# 第12号 is deliberately not here: 法律第40号 and the like are common text in the records.
_CASE_NUMBER_RE = re.compile(r"^(?:no\.?|#|案件(?:番号)?|審議案件)\s*(\d{1,4})$")
_BARE_NUMBER_RE = re.compile(r"^(\d{1,4})$")
_CASE_ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d{4}-\d{3,4}$")
_WORD_RE = re.compile(r"[^\W_]")


class Token(NamedTuple):
    """One lexed unit: a term (`phrase` when quoted; `negated` after - or NOT) or an OR operator."""

    kind: str          # "term" | "or"
    text: str
    phrase: bool = False
    negated: bool = False


def parse_query(q: str, synonyms: SynonymMap | None = None) -> ParsedQuery:
    """Three steps: an identifier query (case number, case id) is answered at once; otherwise the
    lexer cuts the text into tokens (`_lex`, then `_split_sentences`), and `_fold` folds them into
    AND-ed groups of OR-ed terms and the excluded terms."""
    warnings: list[QueryWarning] = []
    q = _bounded(q, warnings)
    compact = unicodedata.normalize("NFKC", q).strip().lower()
    identifier = _identifier_query(q, compact, warnings)
    if identifier is not None:
        return identifier
    positive: list[str] = []
    tokens = _split_sentences(list(_lex(q, warnings)), positive, warnings)
    groups, excluded = _fold(tokens, default_synonyms() if synonyms is None else synonyms, warnings)
    m = _BARE_NUMBER_RE.match(compact)
    case_number = int(m.group(1)) if m and int(m.group(1)) > 0 else None
    if excluded and not groups and case_number is None:
        warnings.append(QueryWarning("only_excluded"))
    return ParsedQuery(
        raw=q,
        groups=tuple(Group(tuple(g)) for g in groups),
        excluded=tuple(excluded),
        case_number=case_number,
        warnings=tuple(dict.fromkeys(warnings)),
        positive_text=" ".join(positive),
    )


def _bounded(q: object, warnings: list[QueryWarning]) -> str:
    """Text, at most MAX_QUERY_CHARS, with lone surrogates (a badly decoded URL) replaced: they would
    break encoding later."""
    if not isinstance(q, str):
        q = "" if q is None else str(q)
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        warnings.append(QueryWarning("query_truncated", str(MAX_QUERY_CHARS)))
    return q.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(q) else q


def _identifier_query(q: str, compact: str, warnings: list[QueryWarning]) -> ParsedQuery | None:
    """№12, No.12, #12, 案件12 (only the exact case) or a case id; None for any other query."""
    m = _CASE_NUMBER_RE.match(compact)
    if m and int(m.group(1)) > 0:
        return ParsedQuery(raw=q, case_number=int(m.group(1)), warnings=tuple(warnings))
    if _CASE_ID_RE.match(compact):
        return ParsedQuery(raw=q, case_id=compact, warnings=tuple(warnings))
    return None


def _fold(tokens: Iterable[Token], synonyms: SynonymMap, warnings: list[QueryWarning],
          ) -> tuple[list[list[Term]], list[Term]]:
    """Fold tokens into AND-ed groups (OR joins the terms either side of it into one group) and the
    excluded terms. A repeated term adds nothing; an OR with no term on one side is dropped with a
    note; at most MAX_TERMS terms are used. Phrases get no synonyms."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    n_terms = 0
    for token in tokens:
        if token.kind == "or":
            if not groups or pending_or:
                warnings.append(QueryWarning("or_without_term_before"))
            pending_or = True
            continue
        if n_terms >= MAX_TERMS:
            warnings.append(QueryWarning("too_many_terms", str(MAX_TERMS)))
            break
        term = _make_term(token.text, token.phrase, None if token.phrase else synonyms, warnings)
        if term is None:
            continue
        n_terms += 1
        if token.negated:
            if pending_or:
                warnings.append(QueryWarning("or_before_excluded"))
                pending_or = False
            if all(t.variants[0].text != term.variants[0].text for t in excluded):
                excluded.append(term)
            continue
        key = (term.variants[0].text, term.phrase)
        if pending_or and groups:
            if all((t.variants[0].text, t.phrase) != key for t in groups[-1]):
                groups[-1].append(term)
        elif not any(len(g) == 1 and (g[0].variants[0].text, g[0].phrase) == key for g in groups):
            groups.append([term])
        pending_or = False
    if pending_or:
        warnings.append(QueryWarning("or_without_term_after"))
    return groups, excluded


def _split_sentences(tokens: list[Token], positive: list[str], warnings: list[QueryWarning]) -> Iterator[Token]:
    """Cut unquoted, sentence-like AND terms into content words (analyzers.sentence); record the
    user's positive wording (unsplit) for semantic search."""
    for i, token in enumerate(tokens):
        if token.kind != "term" or token.negated:
            yield token
            continue
        positive.append(token.text.strip())
        next_is_or = i + 1 < len(tokens) and tokens[i + 1].kind == "or"
        prev_is_or = i > 0 and tokens[i - 1].kind == "or"
        chunks = [token.text] if token.phrase or next_is_or or prev_is_or else content_chunks(token.text)
        if len(chunks) > 1 or chunks[0] != token.text:
            warnings.append(QueryWarning("sentence_split", " ".join(chunks)))
        for chunk in chunks:
            yield token._replace(text=chunk)


def _has_surrogate(s: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in s)


def _lex(q: str, warnings: list[QueryWarning]) -> Iterator[Token]:
    """The lexer: quotes, minus signs and the OR / AND / NOT words; everything else is a term."""
    i, n = 0, len(q)
    negated = False
    minus = False  # negation came from a minus sign, which must touch its term
    while i < n:
        c = q[i]
        if c.isspace():
            if minus:
                warnings.append(QueryWarning("lone_minus"))
                negated = minus = False
            i += 1
            continue
        if c in _MINUS and not negated:
            negated = minus = True
            i += 1
            if i >= n:
                warnings.append(QueryWarning("lone_minus"))
            continue
        if c in _QUOTES:
            closers = _QUOTES[c]
            j = i + 1
            while j < n and q[j] not in closers:
                j += 1
            if j >= n:
                warnings.append(QueryWarning("unbalanced_quote"))
                i += 1
                continue
            yield Token("term", q[i + 1:j], True, negated)
            negated = minus = False
            i = j + 1
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in _QUOTES:
            j += 1
        word = q[i:j]
        i = j
        op = unicodedata.normalize("NFKC", word)
        if op in _OR and not negated:
            yield Token("or", word)
            continue
        if op in _AND and not negated:
            continue
        if op in _NOT and not negated:
            negated = True
            continue
        yield Token("term", word, False, negated)
        negated = minus = False
    if negated and not minus:
        warnings.append(QueryWarning("not_without_term_after"))


def _make_term(text: str, phrase: bool, synonyms: SynonymMap | None, warnings: list[QueryWarning]) -> Term | None:
    norm = normalize(text)
    if len(norm) > MAX_TERM_CHARS:
        norm = normalize(norm[:MAX_TERM_CHARS])
        warnings.append(QueryWarning("term_truncated", str(MAX_TERM_CHARS)))
    if not _WORD_RE.search(norm):
        if text.strip():
            warnings.append(QueryWarning("no_word_characters", repr(text.strip()[:20])))
        return None
    variants = [Variant(text=norm, streams=term_streams(norm), is_synonym=False)]
    if synonyms is not None:
        for alt in synonyms.expand(norm):
            streams = term_streams(alt)
            if streams.unigram:
                variants.append(Variant(text=alt, streams=streams, is_synonym=True))
    return Term(text=text.strip()[:MAX_TERM_CHARS], variants=tuple(variants), phrase=phrase)
