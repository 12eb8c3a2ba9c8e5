"""Conversation and grounded answers, built on `knowledge` (speech in and out is `voice`'s; `api` joins
the two)."""
