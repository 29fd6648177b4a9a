"""GET /api/health: 200 "ready" once the configuration is valid and the signing keys are loaded, otherwise 503
with Retry-After and the reasons as error codes; never a setting value; no extra fetch per call once warm."""

from __future__ import annotations

import json

import azure.functions as func

import function_app
from tools.function_context import LocalContext
from tools.local_runner import functions_of
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import function_using
from tools.testkit.service import base_settings, make_service
from tools.testkit.tokens import API_CLIENT_ID, TENANT_ID, WIDGET_ID, WIDGET_SECRET


def call_health() -> func.HttpResponse:
    request = func.HttpRequest("GET", "http://127.0.0.1/api/health", headers={}, params={}, route_params={}, body=b"")
    return function_app.health(request, LocalContext("health", "."))


def body_of(response: func.HttpResponse) -> dict:
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_body().decode()
    for value in (WIDGET_ID, WIDGET_SECRET, TENANT_ID, API_CLIENT_ID):
        assert value not in text  # no setting value, no widget id, no secret
    return json.loads(text)


def test_the_route_is_anonymous_get_health() -> None:
    (function,) = (f for f in functions_of(function_app.app) if f.get_trigger().route == "health")
    trigger = function.get_trigger()
    assert {str(getattr(m, "value", m)) for m in trigger.methods} == {"GET"}
    assert str(getattr(trigger.auth_level, "value", trigger.auth_level)).lower() == "anonymous"


def test_ready_when_configured_and_keys_loaded_and_no_fetch_per_call_once_warm(fake_entra: FakeEntra) -> None:
    with function_using(make_service(base_settings(fake_entra.authority))):
        first = call_health()
        assert first.status_code == 200
        assert body_of(first) == {"status": "ready", "checks": {"configuration": "ok", "signingKeys": "ok"}}
        assert "Retry-After" not in first.headers
        fetches = (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys"))
        assert fetches == (1, 1)  # the first call loads what a first request would
        for _ in range(20):
            assert call_health().status_code == 200
        assert (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys")) == fetches


def test_configuration_invalid_is_503_with_the_code_and_retry_after(fake_entra: FakeEntra) -> None:
    with function_using(make_service(base_settings(fake_entra.authority, CONNECT_TOKEN_TTL_SECONDS="9999"))):
        response = call_health()
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = body_of(response)
    assert body["status"] != "ready"
    assert body["reasons"] == ["configuration_invalid"]
    assert fake_entra.fetch_count("keys") == 0


def test_signing_keys_unavailable_is_503_and_a_dead_endpoint_is_not_hammered(fake_entra: FakeEntra) -> None:
    fake_entra.state.keys_mode = "error"
    with function_using(make_service(base_settings(fake_entra.authority))):
        responses = [call_health() for _ in range(10)]
    assert {r.status_code for r in responses} == {503}
    assert body_of(responses[0])["reasons"] == ["signing_keys_unavailable"]
    assert all(int(r.headers["Retry-After"]) > 0 for r in responses)
    assert fake_entra.fetch_count("keys") == 1  # retried at most once per cold-retry interval, like requests


def test_a_widget_whose_key_cannot_be_read_makes_health_degraded_naming_only_its_id(fake_entra: FakeEntra) -> None:
    """200, because the instance serves every other widget; the id is public, its key setting's value never shown."""
    other_id, other_secret = "0f8e7d6c-0000-4000-8000-00000000e0a1", "fake-other-widget-key-" + "q" * 22
    widgets = json.dumps(
        {
            "0f8e7d6c-0000-4000-8000-00000000e0b2": {"secretSetting": "CONNECT_WIDGET_SECRET_BROKEN"},
            other_id: {"secretSetting": "CONNECT_WIDGET_SECRET_OTHER"},
        }
    )
    settings = base_settings(fake_entra.authority, CONNECT_WIDGETS=widgets, CONNECT_WIDGET_SECRET_OTHER=other_secret)
    with function_using(make_service(settings)):
        response = call_health()
    assert response.status_code == 200
    assert "Retry-After" not in response.headers
    text = response.get_body().decode()
    assert other_secret not in text and other_id not in text and "CONNECT_WIDGET_SECRET" not in text
    assert body_of(response) == {
        "status": "degraded",
        "checks": {"configuration": "ok", "signingKeys": "ok", "widgets": "widget_unavailable"},
        "reasons": ["widget_unavailable"],
        "unavailableWidgets": ["0f8e7d6c-0000-4000-8000-00000000e0b2"],
    }
