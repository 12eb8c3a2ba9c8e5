"""Schemathesis generates requests from our OpenAPI schema against a real server: no 5xx, and every
response (status, content type, body) matches what the schema documents."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.services import Services
from assistant.pipeline import Assistant
from assistant.sessions import SessionStore
from knowledge.base import KnowledgeBase
from tests.live_server import live_server

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def server(demo_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("contract")
    app_settings = demo_kb.settings.model_copy(
        update={
            "home": home,
            "tts_engines": ["espeak-ng"],
            "rate_limit": "100000/minute",
            "admin_token": SecretStr("t0ken"),
        }
    )
    assistant = Assistant(
        app_settings, knowledge_base=demo_kb, sessions=SessionStore(home / "sessions.sqlite3")
    )
    with live_server(create_app(app_settings, Services(app_settings, assistant))) as url:
        yield url


def test_every_route_keeps_its_documented_contract(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def keeps_contract(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=CHECKS)

        keeps_contract()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert {"POST /api/v1/chat", "POST /api/v1/voice", "POST /api/v1/admin/documents"} <= set(checked)
