"""Evaluation harness: golden cases, metrics and reports."""
