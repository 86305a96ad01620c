"""Ingestion: source parsers turn council reports into typed case records (the pipeline's contract)."""
