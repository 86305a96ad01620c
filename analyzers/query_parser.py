"""The user query language -> `ParsedQuery` (engine independent; see analyzers.query_model).

    個人番号 委託            AND (spaces, full-width spaces too)
    "再委託先" / 「再委託先」  phrase: contiguous, exact (no synonym expansion); 『…』 and “…” too
    防犯カメラ OR 監視カメラ   OR binds the terms on either side into one group (ＯＲ and | too)
    -警視庁 / NOT 警視庁       exclude (－ and − work as the minus sign)
    №12, No.12, #12, 案件12   the case number: only the exact path
    12                        the case number first, and also the text 12
    shinjuku-privacy-council-2023-012   the case id

Nothing here raises on user input: unbalanced quotes, lone operators, empty terms and oversize input
are dropped or cut with a message in `ParsedQuery.warnings`.
"""
from __future__ import annotations

import re
import unicodedata

from analyzers.normalize import normalize
from analyzers.query_model import Group, ParsedQuery, Term, Variant
from analyzers.sentence import content_chunks
from analyzers.streams import term_streams
from analyzers.synonyms import SynonymMap, default_synonyms


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


def parse_query(q: str, synonyms: SynonymMap | None = None) -> ParsedQuery:
    if not isinstance(q, str):
        q = "" if q is None else str(q)
    warnings: list[str] = []
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        warnings.append(f"query cut to its first {MAX_QUERY_CHARS} characters")
    # Lone surrogates (from a badly decoded URL) would break encoding later.
    q = q.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(q) else q
    if synonyms is None:
        synonyms = default_synonyms()

    compact = unicodedata.normalize("NFKC", q).strip().lower()
    m = _CASE_NUMBER_RE.match(compact)
    if m and int(m.group(1)) > 0:
        return ParsedQuery(raw=q, case_number=int(m.group(1)), warnings=tuple(warnings))
    if _CASE_ID_RE.match(compact):
        return ParsedQuery(raw=q, case_id=compact, warnings=tuple(warnings))
    case_number = None
    m = _BARE_NUMBER_RE.match(compact)
    if m and int(m.group(1)) > 0:
        case_number = int(m.group(1))

    groups: list[list[Term]] = []
    excluded: list[Term] = []
    positive: list[str] = []
    pending_or = False
    n_terms = 0
    for kind, text, phrase, negated in _split_sentences(list(_lex(q, warnings)), positive, warnings):
        if kind == "or":
            if not groups or pending_or:
                warnings.append("OR without a term before it ignored")
            pending_or = True
            continue
        if n_terms >= MAX_TERMS:
            warnings.append(f"only the first {MAX_TERMS} terms are used")
            break
        term = _make_term(text, phrase, synonyms if not phrase else None, warnings)
        if term is None:
            continue
        n_terms += 1
        if negated:
            if pending_or:
                warnings.append("OR before an excluded term ignored")
                pending_or = False
            if all(t.variants[0].text != term.variants[0].text for t in excluded):
                excluded.append(term)
            continue
        key = (term.variants[0].text, term.phrase)
        if pending_or and groups:
            if all((t.variants[0].text, t.phrase) != key for t in groups[-1]):
                groups[-1].append(term)
        elif not any(len(g) == 1 and (g[0].variants[0].text, g[0].phrase) == key for g in groups):
            groups.append([term])   # (a repeated AND term adds nothing)
        pending_or = False
    if pending_or:
        warnings.append("OR without a term after it ignored")
    if excluded and not groups and case_number is None:
        warnings.append("only excluded terms: listing every case without them")
    return ParsedQuery(
        raw=q,
        groups=tuple(Group(tuple(g)) for g in groups),
        excluded=tuple(excluded),
        case_number=case_number,
        warnings=tuple(dict.fromkeys(warnings)),
        positive_text=" ".join(positive),
    )


def _split_sentences(tokens: list[tuple[str, str, bool, bool]], positive: list[str], warnings: list[str]):
    """Cut unquoted, sentence-like AND terms into content words (analyzers.sentence); record the
    user's positive wording (unsplit) for semantic search."""
    for i, (kind, text, phrase, negated) in enumerate(tokens):
        if kind != "term" or negated:
            yield kind, text, phrase, negated
            continue
        positive.append(text.strip())
        next_is_or = i + 1 < len(tokens) and tokens[i + 1][0] == "or"
        prev_is_or = i > 0 and tokens[i - 1][0] == "or"
        chunks = [text] if phrase or next_is_or or prev_is_or else content_chunks(text)
        if len(chunks) > 1 or chunks[0] != text:
            warnings.append("searched the sentence's words: " + " ".join(chunks))
        for chunk in chunks:
            yield kind, chunk, phrase, negated


def _has_surrogate(s: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in s)


def _lex(q: str, warnings: list[str]):
    """Yield (kind, text, phrase, negated) with kind 'term' or 'or'."""
    i, n = 0, len(q)
    negated = False
    minus = False  # negation came from a minus sign, which must touch its term
    while i < n:
        c = q[i]
        if c.isspace():
            if minus:
                warnings.append("a lone minus sign was ignored")
                negated = minus = False
            i += 1
            continue
        if c in _MINUS and not negated:
            negated = minus = True
            i += 1
            if i >= n:
                warnings.append("a lone minus sign was ignored")
            continue
        if c in _QUOTES:
            closers = _QUOTES[c]
            j = i + 1
            while j < n and q[j] not in closers:
                j += 1
            if j >= n:
                warnings.append("unbalanced quote ignored")
                i += 1
                continue
            yield "term", q[i + 1:j], True, negated
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
            yield "or", word, False, False
            continue
        if op in _AND and not negated:
            continue
        if op in _NOT and not negated:
            negated = True
            continue
        yield "term", word, False, negated
        negated = minus = False
    if negated and not minus:
        warnings.append("NOT without a term after it ignored")


def _make_term(text: str, phrase: bool, synonyms: SynonymMap | None, warnings: list[str]) -> Term | None:
    norm = normalize(text)
    if len(norm) > MAX_TERM_CHARS:
        norm = normalize(norm[:MAX_TERM_CHARS])
        warnings.append(f"a term was cut to {MAX_TERM_CHARS} characters")
    if not _WORD_RE.search(norm):
        if text.strip():
            warnings.append(f"ignored {text.strip()[:20]!r}: no letters or digits")
        return None
    variants = [Variant(text=norm, streams=term_streams(norm), is_synonym=False)]
    if synonyms is not None:
        for alt in synonyms.expand(norm):
            streams = term_streams(alt)
            if streams.unigram:
                variants.append(Variant(text=alt, streams=streams, is_synonym=True))
    return Term(text=text.strip()[:MAX_TERM_CHARS], variants=tuple(variants), phrase=phrase)
