"""The contract between the packages: the shapes every other package agrees on, and nothing else.

This package imports nothing from the rest of the project (only the standard library and numpy), so
any package may depend on it and it never moves when an engine, the indexer or the analyzers change.

- `contract.query`: the parsed user query (`ParsedQuery`, `Group`, `Term`, `Variant`) and the token
  streams (`TokenStreams`) both the indexer and the query parser produce.
- `contract.document`: what the indexer hands a writer (`IndexDocument`), the analysed text fields
  (`TEXT_FIELDS`), the facets (`FACETS`) and how a stored record's facet values are read
  (`facet_values`).
- `contract.backend`: the `SearchBackend` protocol every engine implements, and its value types
  (`Filters`, `Ranked`, `Mode`, `Sort`, `BackendUnavailable`).
- `contract.writer`: the `IndexWriter` protocol every engine's writer implements, `BuildInfo`,
  `BuildError`.

The allowed import direction between packages is written once, in docs/architecture.md, and checked
by import-linter (`.importlinter`, run by tests/test_architecture.py).
"""
