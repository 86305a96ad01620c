"""Japanese text analysis shared by every engine: engines receive already-analysed tokens.

Public API (the contract other packages rely on):
- `normalize(text) -> str`: matching-side normalisation (NFKC, case, ・ー variants, 異体字, …).
- `index_streams(text) -> TokenStreams`: the token streams for one text field on the index side.
- `term_streams(text) -> TokenStreams`: the same analysis for one query term (no stop-word loss
  that would empty the term).
- `parse_query(q) -> ParsedQuery` (see `analyzers.query_model`): user query language, synonyms expanded.
- `highlight(text, query, ...)`: HTML-escaped snippets with <mark>.
"""
