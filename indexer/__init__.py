"""Indexing: records → analysed, embedded `IndexDocument`s → a backend's writer, atomically."""
