"""The tantivy schema of the embedded index.

Each analysed text field is indexed twice from the analyzers' pre-tokenised streams, joined by
spaces and split again by tantivy's `whitespace` tokenizer (positions kept for phrases):
  <field>__m  morphological tokens (whole words; ranks precise matches higher)
  <field>__b  character bigrams (substring recall: 委託 finds 業務委託)
except the long fields (ranking.LONG_FIELDS: body, attachment), indexed only as <field>__m without
positions (they are scored by whole-word term queries; changing LONG_FIELDS needs a re-index), and
once more combined:
  all__b      the bigram streams of every text field, one after another with FIELD_GAP separator
              tokens between fields (so no phrase can span two fields): the match-only passes
              (facet counts, membership, the match constraint of the ranked pass) run one phrase
              per query variant here instead of a union of eight per-field phrases.
Single-character query variants are matched with a regex over the bigram terms, so no third
(unigram) copy of every text is needed.
Facets are raw keyword fields (multi-valued, fast, for terms aggregations); `meeting_date` is a
fast date field for ranges and sorting; `ord` maps a hit to the row of the case in cases.json and
the vector matrices.
"""
from __future__ import annotations

import tantivy

from contract.backend import FACETS
from contract.document import TEXT_FIELDS
from engine import ranking

SCHEMA_VERSION = 2
ALL_BIGRAMS = "all__b"
# Separator tokens between fields in ALL_BIGRAMS. A bigram phrase's kept tokens are at most 2
# positions apart (query._chain_positions), so a gap of 3 positions can never be bridged. "|" is never
# a real token (bigram and morph tokens contain a letter or digit).
FIELD_GAP = " | | | "


def morph_field(name: str) -> str:
    return f"{name}__m"


def bigram_field(name: str) -> str:
    return f"{name}__b"


def facet_field(name: str) -> str:
    return f"facet__{name}"


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("ord", indexed=False, fast=True)
    sb.add_unsigned_field("number", indexed=True, fast=True)
    sb.add_text_field("project_key", tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        if name in ranking.LONG_FIELDS:
            # scored by whole-word term queries only (engine/embedded/query.py): no positions, and no
            # per-field bigrams (their matches are all__b's); ~40 % less tantivy indexing work
            sb.add_text_field(morph_field(name), tokenizer_name="whitespace", index_option="freq")
            continue
        sb.add_text_field(morph_field(name), tokenizer_name="whitespace", index_option="position")
        sb.add_text_field(bigram_field(name), tokenizer_name="whitespace", index_option="position")
    sb.add_text_field(ALL_BIGRAMS, tokenizer_name="whitespace", index_option="position")
    for name in FACETS:
        sb.add_text_field(facet_field(name), tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_date_field("meeting_date", indexed=True, fast=True)
    return sb.build()
