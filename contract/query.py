"""The engine-independent form of a parsed user query.

Engines translate this structure into their own query objects (tantivy Query, OpenSearch DSL);
user text never reaches an engine's query-string syntax.

Semantics:
- `ParsedQuery.groups` are ANDed. A `Group` matches if any of its `Term`s matches (user `OR`).
- A `Term` matches if any of its `variants` matches (synonym expansion; variant 0 is the user's own
  word). A variant matches a field when its bigram stream occurs contiguously (substring semantics,
  so 委託 matches 業務委託) -- unigrams for single-character variants. Morphological matches score
  higher (ranking), bigram matches guarantee recall.
- `phrase=True` (user wrote "…"): the variant must occur contiguously; for a non-phrase multi-token
  variant the morphological tokens may match in order, bigram phrase keeps it precise.
- `excluded` terms must not match any text field.
- `case_number`: the query is a case number/id (№12, No.12, 12); engines take the exact path first.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from contract.query_warnings import QueryWarning


@dataclass(frozen=True)
class TokenStreams:
    morph: tuple[str, ...]    # normalised surface forms from fugashi, stop words removed (index side)
    bigram: tuple[str, ...]   # overlapping character bigrams of normalised text, one per position
    unigram: tuple[str, ...]  # single characters (for single-character queries)


@dataclass(frozen=True)
class Variant:
    text: str                  # normalised text of this variant
    streams: TokenStreams      # query-side analysis of `text`
    is_synonym: bool = False
    # A reading of the user's word as a Japanese abbreviation (engine/abbreviations.py: 児相 ->
    # 児童相談); also is_synonym (weighted and highlighted like a synonym), named apart in reasons.
    abbreviation: bool = False


@dataclass(frozen=True)
class Term:
    text: str                  # what the user typed for this term (original, for echo/highlight)
    variants: tuple[Variant, ...]
    phrase: bool = False


@dataclass(frozen=True)
class Group:
    terms: tuple[Term, ...]    # OR


@dataclass(frozen=True)
class ParsedQuery:
    raw: str
    groups: tuple[Group, ...] = ()        # AND
    excluded: tuple[Term, ...] = ()       # NOT
    case_number: int | None = None
    case_id: str | None = None
    warnings: tuple[QueryWarning, ...] = field(default=())  # notes with a code, e.g. unbalanced_quote
    # The user's positive wording before sentence splitting (what semantic search embeds): a
    # sentence query is searched by its content words but embedded whole.
    positive_text: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.groups and not self.excluded and self.case_number is None and self.case_id is None

    def all_terms(self) -> list[Term]:
        return [t for g in self.groups for t in g.terms]

    def semantic_text(self) -> str:
        """Text to embed for semantic search: the positive terms, user's own words."""
        return self.positive_text or " ".join(t.text for t in self.all_terms())
