"""Conversation and grounded answers (built on `knowledge` and `voice`)."""
