"""Evaluation for officials: try a question against the live assistant, keep it as a golden case, run the
saved cases and read the report.

Mounted only when an admin token is configured. By role: `schemas` (the API's bodies), `cases` (the
deployment's case file, `evals/cases.jsonl` in the data home), `target` (the live knowledge base as the
harness's target), `runs` (runs as jobs of the data home's job store, beside ingest jobs, with each run's
result and HTML report in `evals/runs/<id>/`, so any worker can report on any run), `routes` (the
`/api/v1/admin/evals` routes) and `page` (the officials' page).
"""

from __future__ import annotations

from api.evaluation.page import page_router
from api.evaluation.routes import router

__all__ = ["page_router", "router"]
