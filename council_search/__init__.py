"""council-search: full-text and semantic search over Japanese municipal council records."""
__version__ = "0.1.0"
