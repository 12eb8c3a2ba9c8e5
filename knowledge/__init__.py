"""Ingest Chinese documents, index them (Chroma + SQLite FTS5 BM25) and retrieve passages."""
