"""Japanese text analysis shared by every engine: engines receive already-analysed tokens.

Public API (the contract other packages rely on):
- `normalize(text) -> str`: matching-side normalisation (NFKC, case, ・ー variants, 異体字, …).
- `normalize_with_offsets(text) -> (str, list[int])`: the same, plus each normalised character's
  source index (the highlighter marks the original text through it).
- `index_tokens(text) -> FieldTokens`: one text field on the index side, its morph and bigram
  streams joined as the engines index them (`join_tokens`, the one joining).
- `term_streams(text) -> TokenStreams`: the same analysis for one query term, plus its unigram
  stream (never empty for a term with a letter or digit).
- `parse_query(q, synonyms=None) -> ParsedQuery` (see `contract.query`): the user query
  language, synonyms expanded (default: packaged data/synonyms.txt).
- `QueryWarning(code, detail)`, `WARNING_TEXTS`: the notes a search gives its user (stable code,
  English and Japanese text), raised by the parser and the searcher.
- `load_synonyms(path=None, extra=None) -> SynonymMap`; `default_synonyms(extra=None)`: the packaged
  map merged with the operator's file (Settings.synonyms_file), cached and re-read when it changes.
- `highlight(text, query, ...)` / `highlight_all(text, query)`: HTML-escaped text with <mark>.
- `ANALYZER_VERSION`: changes whenever index-side output can change (recorded with every build and
  shown by /healthz: an index built with another version needs `council-search index`).
Design and measurements: docs/analysis.md.
"""
from __future__ import annotations

import hashlib
from importlib import resources

from analyzers.highlight import highlight, highlight_all
from analyzers.normalize import normalize, normalize_with_offsets
from analyzers.query_parser import MAX_QUERY_CHARS, MAX_TERMS, parse_query
from analyzers.streams import STOP_WORDS, index_tokens, join_tokens, term_streams
from analyzers.synonyms import SynonymFileError, SynonymMap, default_synonyms, load_synonyms
from contract.query import Group, ParsedQuery, Term, TokenStreams, Variant
from contract.query_warnings import WARNING_TEXTS, QueryWarning

# Bump the leading number when code changes index-side output; the 異体字 table is data, so its hash
# is included automatically (editing itaiji.tsv changes the version).
_ITAIJI_HASH = hashlib.sha256(
    resources.files("analyzers").joinpath("data/itaiji.tsv").read_bytes()
).hexdigest()[:12]
ANALYZER_VERSION: str = f"3+itaiji.{_ITAIJI_HASH}"

__all__ = [
    "ANALYZER_VERSION", "MAX_QUERY_CHARS", "MAX_TERMS", "STOP_WORDS",
    "Group", "ParsedQuery", "QueryWarning", "SynonymFileError", "WARNING_TEXTS", "SynonymMap", "Term", "TokenStreams", "Variant",
    "default_synonyms", "highlight", "highlight_all", "index_tokens", "join_tokens", "load_synonyms", "normalize",
    "normalize_with_offsets", "parse_query", "term_streams",
]
