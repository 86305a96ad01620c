"""`ParsedQuery` + `Filters` → tantivy `Query` objects. User text never reaches tantivy's query
parser: every clause is built from analysed tokens (term/phrase/regex queries).

Per `contract.query`: groups are ANDed; a group is an OR of terms; a term is an OR of its
variants; a variant matches where its bigram phrase occurs in some text field (substring semantics,
exactly what the highlighter marks; decided over the combined all-text field) and
scores through per-field phrases and whole-word terms (`variant_query`); excluded terms are must_not.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Protocol

import tantivy
from tantivy import Occur, Query

from contract.backend import Filters
from contract.document import TEXT_FIELDS
from contract.query import ParsedQuery, Term, Variant
from engine import ranking
from engine.embedded.schema import ALL_BIGRAMS, bigram_field, facet_field, morph_field

CASE_NUMBER_BOOST = 1000.0
# `_fewest_tokens`: a phrase's match is the AND of as few of its rarest tokens as leave at most
# FEW_EXCEPTIONS cases holding them without the phrase (each excluded by id), trying the rarest 1,
# 2, ... FEWEST_TRIES (each try is one phrase pass, paid once per phrase and build).
FEW_EXCEPTIONS = 100
FEWEST_TRIES = 3


# A phrase of this many chained bigrams or more is matched on every other one (`_chain_positions`).
MATCH_CHAIN_MIN = 3
# The scoring boost of a phrase (`_phrase_match`: the idf sum of its positions' tokens) keeps the
# positions it was tuned and judged with (docs/quality.md), where only chains of 4 or more were
# thinned: the thinner 3-bigram match is a speed change, not a ranking change.
SCORE_CHAIN_MIN = 4


def _chain_positions(tokens: tuple[str, ...], min_chain: int = MATCH_CHAIN_MIN) -> list[tuple[int, str]]:
    """The (offset, token) pairs of a bigram phrase. For a chain of overlapping bigrams (ガバ バメ
    メン ント …) every other bigram plus the last one already pins every character (each token
    sits at its character's position), so only those are kept: ~1.6x faster on long words, same
    matches. Three bigrams (a four-character word, 再委託先 = 再委 委託 託先) keep the outer two: the
    dense middle one (委託) is the costliest to read positions of; at 100k cases the phrase pass of
    再委託先 took 4.5 ms of CPU with three and 3.0 with two (same 16,641 cases)."""
    chain = len(tokens) >= min_chain and all(
        len(a) == 2 and len(b) == 2 and a[1] == b[0] for a, b in zip(tokens, tokens[1:]))
    if not chain:
        return list(enumerate(tokens))
    keep = list(range(0, len(tokens), 2))
    if keep[-1] != len(tokens) - 1:
        keep.append(len(tokens) - 1)
    return [(i, tokens[i]) for i in keep]


def _single_char(schema: tantivy.Schema, field: str, char: str) -> Query:
    # A one-character variant: any bigram starting or ending with it (or a lone one-char token).
    c = re.escape(char)
    return Query.regex_query(schema, field, f"{c}.?|.{c}")


class PhraseStats(Protocol):
    """What the query builder needs to know about the index (engine/embedded/phrases.py): document
    frequencies, and for a multi-token phrase the cases that hold every token of it in the field
    but not the phrase itself ("exceptions")."""

    def doc_freq(self, field: str, token: str) -> int: ...

    def idf(self, field: str, token: str) -> float: ...

    def exceptions(self, field: str, positions: tuple[tuple[int, str], ...],
                   tokens: tuple[str, ...]) -> tuple[str, ...] | None:
        """Ids of the cases holding every one of `tokens` in `field` but not the phrase (offset,
        token pairs); None: too many to list (the phrase decides the match then)."""
        ...


def _phrase_match(schema: tantivy.Schema, field: str, positions: tuple[tuple[int, str], ...], tokens: tuple[str, ...],
                  stats: PhraseStats, score: float | None, within: tuple[Query, ...], fewest: bool = True,
                  scored_positions: tuple[tuple[int, str], ...] | None = None) -> Query | None:
    """Tokens at their offsets in one field (a phrase), `within` pushed down; scored `score` x BM25
    (None: unscored). `tokens`: every token the phrase implies (all the bigrams of a chain whose
    phrase keeps every other one): the more of them, the fewer exceptions.

    A phrase reads the positions of its tokens in every case holding all of them: at 100k
    synthetic cases ~100-200 ns a case, 14 ms for 業務委託 over all the text (80,047 cases), while
    the same tokens as a case-level AND (no positions) cost 1.5 ms and hold only 2 more cases. So
    the match is the AND of the phrase's distinct tokens minus those few cases, which the backend
    finds once per phrase and build (`PhraseStats.exceptions`, one phrase pass): the same set, no
    positions read. A phrase with too many exceptions (再委託先: 9,924) stays a phrase.

    Scoring reads no positions either: BM25 of the phrase's rarest token, boosted by the phrase's
    idf over that token's (tantivy's phrase idf is the sum of its tokens'), i.e. the phrase's BM25
    with the token's frequency in place of the phrase's (the same wherever the rarest token only
    occurs inside the phrase, as 務委 inside 業務委託). `scored_positions`: the positions whose idf
    sum that boost is (default `positions`; see SCORE_CHAIN_MIN)."""
    if not positions:
        return None
    tokens = tuple(dict.fromkeys(tokens))
    if len(tokens) == 1:
        # one token (or one repeated: ああ ああ): nothing to gain
        # (a repeated token's phrase scores by its positions' idf sum: the scored ones)
        leaf = (Query.term_query(schema, field, tokens[0]) if len(positions) == 1
                else Query.phrase_query(schema, field, list(scored_positions or positions)))
        leaf = _within(leaf, within)
        return leaf if leaf is None or score is None else Query.boost_query(leaf, score)
    rarest = min(tokens, key=lambda t: stats.doc_freq(field, t)) if score is not None else None
    if fewest:
        tokens, exceptions = _fewest_tokens(field, positions, tokens, stats)
    else:
        exceptions = stats.exceptions(field, positions, tokens)
    clauses: list[tuple[Occur, Query]] = []
    for token in tokens:
        term = Query.term_query(schema, field, token)
        if score is not None and token == rarest:
            ratio = (sum(stats.idf(field, t) for _, t in (scored_positions or positions))
                     / max(stats.idf(field, token), 1e-6))
            clauses.append((Occur.Must, Query.boost_query(term, score * ratio)))
        else:
            clauses.append((Occur.Must, Query.const_score_query(term, 0.0) if score is not None else term))
    if exceptions is None:
        clauses.append((Occur.Must, Query.const_score_query(Query.phrase_query(schema, field, list(positions)), 0.0)))
    elif exceptions:
        clauses.append((Occur.MustNot, _exclude_ids(schema, exceptions)))
    clauses += [(Occur.Must, w) for w in within]
    return Query.boolean_query(clauses)


def _fewest_tokens(field: str, positions: tuple[tuple[int, str], ...], tokens: tuple[str, ...],
                   stats: PhraseStats) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The tokens whose case-level AND decides the phrase's match (minus the exceptions returned
    with them): the rarest ones, as few as leave at most FEW_EXCEPTIONS exceptions, else all of
    them. Every token more in the AND is one more posting list seeked for every candidate case: at
    100k, 特定個人情報保護評価 over all the text is 6.0 ms of CPU as the AND of its nine bigrams and
    0.55 ms as its rarest one (護評), which holds no case without the phrase; ガバメントクラウド
    7.6 ms as eight, 1.5 ms as the rarest two (93 exceptions). The rarest token stays (it is the
    scored one), the others score 0.0, so scores do not change (x + 0.0 is x in floating point)."""
    by_rarity = sorted(tokens, key=lambda t: stats.doc_freq(field, t))
    for k in range(1, min(len(tokens), FEWEST_TRIES + 1)):
        subset = tuple(by_rarity[:k])
        exceptions = stats.exceptions(field, positions, subset)
        if exceptions is not None and len(exceptions) <= FEW_EXCEPTIONS:
            return subset, exceptions
    return tokens, stats.exceptions(field, positions, tokens)


def _bigram_match(schema: tantivy.Schema, field: str, variant: Variant, stats: PhraseStats, score: float | None,
                  within: tuple[Query, ...], fewest: bool = True) -> Query | None:
    """The variant's substring match in one tantivy bigram field (`field` is the tantivy name)."""
    streams = variant.streams
    tokens = tuple(t for t in streams.bigram if t and not t.isspace())
    if tokens:
        return _phrase_match(schema, field, tuple(_chain_positions(tokens)), tokens, stats, score, within, fewest,
                             tuple(_chain_positions(tokens, SCORE_CHAIN_MIN)))
    chars = [u for u in streams.unigram if u and not u.isspace()]
    if len(chars) != 1:
        return None
    leaf = _within(_single_char(schema, field, chars[0]), within)
    return leaf if score is None else Query.boost_query(leaf, score)


def _morph_match(schema: tantivy.Schema, field: str, variant: Variant, slop: int, stats: PhraseStats,
                 score: float, within: tuple[Query, ...]) -> Query | None:
    """The variant's whole words in order in one morph field (a scoring clause)."""
    tokens = tuple(t for t in variant.streams.morph if t and not t.isspace())
    if slop == 0 or len(tokens) <= 1:
        return _phrase_match(schema, field, tuple(enumerate(tokens)), tokens, stats, score, within)
    return Query.boost_query(_within(Query.phrase_query(schema, field, list(tokens), slop), within), score)


def idf(doc_freq: int, num_docs: int) -> float:
    """tantivy's BM25 idf."""
    return math.log(1.0 + (num_docs - doc_freq + 0.5) / (doc_freq + 0.5))


def _within(leaf: Query | None, within: tuple[Query, ...]) -> Query | None:
    """`leaf` restricted to the documents of every `within` query (which score 0.0, so the
    leaf's score is unchanged). Pushing a selective filter down to the leaves is what makes it cut
    the work: tantivy's union of per-field phrases scans blocks of 4,096 documents for every child
    phrase on each seek, so a filter only at the top of the tree saves almost nothing."""
    if leaf is None or not within:
        return leaf
    return Query.boolean_query([(Occur.Must, leaf)] + [(Occur.Must, w) for w in within])


def _any(clauses: list[Query]) -> Query | None:
    clauses = [c for c in clauses if c is not None]
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return Query.boolean_query([(Occur.Should, c) for c in clauses])


def variant_query(schema: tantivy.Schema, variant: Variant, phrase: bool, stats: PhraseStats, weight: float = 1.0,
                  scoring: bool = True, within: tuple[Query, ...] = (), fewest: bool = True) -> Query | None:
    """One variant across all text fields. It matches where its bigram phrase occurs in some
    field (substring semantics, the same rule the highlighter marks), decided over the combined
    all-text bigram field (schema.ALL_BIGRAMS), which cannot match across a field boundary.
    `scoring=False` is that match alone (facet counts, membership tests).

    Scoring (measured at 100k cases, docs/benchmarks.md): the all-text match scores
    ALL_TEXT_WEIGHT x BM25 over all the text, short fields add their boosted bigram and
    whole-word phrases, and the long fields (ranking.LONG_FIELDS) add boosted whole-word *term*
    queries. No clause reads positions once its phrase's exceptions are known (`_phrase_match`)."""
    if not scoring:
        return _bigram_match(schema, ALL_BIGRAMS, variant, stats, None, within)
    # `fewest`: see `text_query` (the per-field clauses below always may: each is summed in a fixed
    # place of the union of clauses, and exactly one of its scorers is not 0.0)
    match = _bigram_match(schema, ALL_BIGRAMS, variant, stats, weight * ranking.ALL_TEXT_WEIGHT, within, fewest)
    if match is None:
        return None
    clauses: list[Query | None] = []
    for field in TEXT_FIELDS:
        boost = ranking.FIELD_BOOSTS.get(field, 1.0) * weight
        if field in ranking.LONG_FIELDS:
            tokens = tuple(dict.fromkeys(variant.streams.morph))
            for token in tokens:
                t = _within(Query.term_query(schema, morph_field(field), token), within)
                clauses.append(Query.boost_query(t, boost * ranking.MORPH_WEIGHT / len(tokens)))
            continue
        clauses.append(_bigram_match(schema, bigram_field(field), variant, stats, boost * ranking.BIGRAM_WEIGHT, within))
        clauses.append(_morph_match(schema, morph_field(field), variant, 0 if phrase else ranking.MORPH_SLOP, stats,
                                    boost * ranking.MORPH_WEIGHT, within))
    return Query.boolean_query([(Occur.Must, match)] + [(Occur.Should, c) for c in clauses if c is not None])


def term_query(schema: tantivy.Schema, term: Term, stats: PhraseStats, scoring: bool = True,
               within: tuple[Query, ...] = (), fewest: bool = True) -> Query | None:
    clauses = []
    for variant in term.variants:
        weight = ranking.SYNONYM_WEIGHT if variant.is_synonym else 1.0
        clauses.append(variant_query(schema, variant, term.phrase, stats, weight, scoring, within, fewest))
    return _any(clauses)


def text_query(schema: tantivy.Schema, query: ParsedQuery, stats: PhraseStats, scoring: bool = True,
               within: tuple[Query, ...] = ()) -> Query | None:
    """The text part (None = match everything); `within`: see `_within`.

    tantivy sums the scores of the groups (ANDed words) in the order of its intersection, which it
    sorts by each child's estimated cost; deciding a word's all-text match by fewer tokens
    (`_fewest_tokens`) can change that estimate. Two addends sum the same in either order, three
    or more need not (the last bit of the float): so with three groups or more the ranked query
    decides each word's all-text match by every token, as before, and its scores stay identical;
    match-only passes (no scores) always take the fewest tokens."""
    fewest = not scoring or len(query.groups) <= 2
    musts: list[Query] = []
    for group in query.groups:
        g = _any([term_query(schema, t, stats, scoring, within, fewest) for t in group.terms])
        if g is None:
            # a group that cannot match anything (e.g. only punctuation) matches nothing
            return Query.empty_query()
        musts.append(g)
    text: Query | None = None
    if musts:
        text = musts[0] if len(musts) == 1 else Query.boolean_query([(Occur.Must, q) for q in musts])
    exact = []
    if query.case_number is not None:
        exact.append(Query.term_query(schema, "number", int(query.case_number)))
    if query.case_id:
        exact.append(Query.term_query(schema, "id", query.case_id))
    if exact:
        # identifier fast path: the exact case first, text matches (if any) after it
        fast = Query.boost_query(_any(exact), CASE_NUMBER_BOOST)
        text = fast if text is None else Query.boolean_query([(Occur.Should, fast), (Occur.Should, text)])
    return text


def excluded_query(schema: tantivy.Schema, query: ParsedQuery, stats: PhraseStats,
                   within: tuple[Query, ...] = ()) -> Query | None:
    return _any([term_query(schema, t, stats, scoring=False, within=within) for t in query.excluded])


def _variant_share(variant: Variant, stats: PhraseStats, num_docs: int) -> float:
    """At most this share of the cases holds the variant (its rarest all-text bigram's); a lone
    character (a regex over the bigrams) counts as unknown, 0."""
    tokens = [t for t in variant.streams.bigram if t and not t.isspace()]
    if not tokens or num_docs <= 0:
        return 0.0
    return min(stats.doc_freq(ALL_BIGRAMS, t) for t in tokens) / num_docs


def _term_share(term: Term, stats: PhraseStats, num_docs: int) -> float:
    return min(1.0, sum(_variant_share(v, stats, num_docs) for v in term.variants))


def match_share(query: ParsedQuery, stats: PhraseStats, num_docs: int) -> float:
    """An estimate, from document frequencies alone, of the share of the cases the text query
    matches: each word at most its rarest bigram's share, groups (AND) and exclusions taken as
    independent. It only chooses how facet counts are computed (backend `_aggregate`), never what
    they are; identifier queries count as 0 (they match a case or a few)."""
    if query.case_number is not None or query.case_id:
        return 0.0
    share = 1.0
    for group in query.groups:
        share *= min(1.0, sum(_term_share(t, stats, num_docs) for t in group.terms))
    for term in query.excluded:
        share *= 1.0 - _term_share(term, stats, num_docs)
    return share


# A phrase's exceptions (`_phrase_match`) are excluded by a disjunction of id terms up to this many,
# by a term set beyond: the disjunction seeks every child on each candidate, the set builds one
# bitset per segment. At 1M cases (税務 シス テム's 123,399 cases, CPU ms of the count with n
# excluded ids): n = 100: 5.1 vs 5.2; 300: 6.6 vs 6.1; 1,000: 11.6 vs 7.8; 3,000: 27.2 vs 11.2.
SET_EXCLUSION_MIN = 256


def _exclude_ids(schema: tantivy.Schema, ids: tuple[str, ...]) -> Query:
    if len(ids) < SET_EXCLUSION_MIN:
        return _one_of(schema, "id", list(ids))
    return Query.term_set_query(schema, "id", list(ids))


def _one_of(schema: tantivy.Schema, field: str, values: list[str]) -> Query:
    """Documents with any of `values` in a raw keyword field. A disjunction of term queries,
    not term_set_query: that one builds a bitset over the whole segment for each instance, which
    costs ~0.3 ms every time a filter is pushed down to a text leaf (measured at 100k: match_ids
    on a broad query 6.9 -> 1.9 ms)."""
    if len(values) == 1:
        return Query.term_query(schema, field, values[0])
    return Query.boolean_query([(Occur.Should, Query.term_query(schema, field, v)) for v in values])


def filter_clauses(schema: tantivy.Schema, filters: Filters) -> list[Query]:
    clauses: list[Query] = []
    for name, values in filters.selected.items():
        if not values:
            continue
        clauses.append(_one_of(schema, facet_field(name), list(values)))
    if filters.date_from is not None or filters.date_to is not None:
        lo = _dt(filters.date_from) if filters.date_from else None
        hi = _dt(filters.date_to) if filters.date_to else None
        clauses.append(Query.range_query(schema, "meeting_date", tantivy.FieldType.Date, lo, hi))
    return clauses


def filter_query(schema: tantivy.Schema, filters: Filters) -> Query:
    """The cases the filters keep, unscored (every case without filters)."""
    clauses = filter_clauses(schema, filters)
    if not clauses:
        return Query.all_query()
    return Query.const_score_query(Query.boolean_query([(Occur.Must, c) for c in clauses]), 0.0)


def full_query(schema: tantivy.Schema, query: ParsedQuery, filters: Filters, stats: PhraseStats,
               ids: list[str] | None = None, scoring: bool = True, push: Filters | None = None) -> Query:
    """Text AND filters (unscored) AND NOT excluded [AND id in ids]. `scoring=False` gives the
    same match set at less cost (no whole-word ranking clauses). `push` (a part of `filters`) and
    `ids` are also pushed down to every text leaf (`_within`): same matches, same scores, much
    less phrase work when they are selective; the caller picks what is worth pushing."""
    restrict = [Query.const_score_query(f, 0.0) for f in filter_clauses(schema, filters)]
    within = [Query.const_score_query(f, 0.0) for f in filter_clauses(schema, push)] if push is not None else []
    if ids is not None:
        id_set = Query.const_score_query(_one_of(schema, "id", list(ids)), 0.0)
        restrict.append(id_set)
        within.append(id_set)
    text = text_query(schema, query, stats, scoring, tuple(within))
    clauses: list[tuple[Occur, Query]] = [(Occur.Must, text if text is not None else Query.all_query())]
    clauses += [(Occur.Must, r) for r in restrict]
    excl = excluded_query(schema, query, stats, tuple(within))
    if excl is not None:
        clauses.append((Occur.MustNot, excl))
    if len(clauses) == 1:
        return clauses[0][1]
    return Query.boolean_query(clauses)


def _dt(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)
