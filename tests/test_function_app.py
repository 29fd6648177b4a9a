"""The HTTP contract of function_app.py: route, methods, formats, headers, problem details.

Called the documented way: the decorated function with an azure.functions.HttpRequest and a Context.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator

import azure.functions as func
import pytest

import function_app
from shared.routes import CONTACT_TOKEN_PATH
from tools.function_context import LocalContext
from tools.local_runner import functions_of
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.leak_registry import REGISTRY
from tools.testkit.service import base_settings, decode_contact_token
from tools.testkit.tokens import WIDGET_ID, access_token, entra_v2_claims


@pytest.fixture
def configured(fake_entra: FakeEntra, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    reconfigure(monkeypatch, **base_settings(fake_entra.authority))
    yield fake_entra
    function_app.contact_token_service.cache_clear()


def reconfigure(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    """Changes settings the way a restart with new app settings would."""
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    function_app.contact_token_service.cache_clear()


def call(
    authorization: str | None = None,
    *,
    accept: str | None = None,
    method: str = "GET",
    body: bytes = b"",
    params: dict[str, str] | None = None,
) -> func.HttpResponse:
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    if accept is not None:
        headers["Accept"] = accept
    request = func.HttpRequest(
        method, f"http://localhost{CONTACT_TOKEN_PATH}", headers=headers, params=params or {}, body=body
    )
    return function_app.aws_connect_jwt(request, LocalContext("aws_connect_jwt", "."))


def problem(response: func.HttpResponse) -> dict:
    assert response.mimetype == "application/problem+json"
    body = json.loads(response.get_body())
    assert set(body) >= {"type", "title", "status", "detail", "code"}
    assert body["status"] == response.status_code
    assert body["type"] == f"urn:connect-sso:error:{body['code']}"
    return body


def test_registration_matches_the_contract() -> None:
    (function,) = (f for f in functions_of(function_app.app) if f.get_trigger().route == "AWSConnectJWT")
    trigger = function.get_trigger()
    assert {str(getattr(m, "value", m)) for m in trigger.methods} == {"GET", "POST"}
    assert str(getattr(trigger.auth_level, "value", trigger.auth_level)).lower() == "anonymous"


def test_plain_text_by_default_like_the_existing_service(configured: FakeEntra) -> None:
    response = call(f"Bearer {access_token(configured.key)}")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    assert decode_contact_token(response.get_body().decode())["attributes"]["name"] == "Ada Lovelace"


# Accept by preference (RFC 9110 section 12.5.1): JSON only when application/json (or application/*) is named and
# preferred at least as much as text/plain.
ACCEPT_TABLE = [
    (None, False),
    ("", False),
    ("*/*", False),
    ("text/plain", False),
    ("application/json", True),
    ("APPLICATION/JSON", True),
    ("application/json; charset=utf-8", True),
    ("application/*", True),
    ("text/html, application/json;q=0.5", True),
    ("text/plain, application/json;q=0.5", False),
    ("text/plain;q=0.5, application/json", True),
    ("text/plain, application/json", True),
    ("application/json, text/plain", True),
    ("application/json;q=0.5, text/plain;q=0.5", True),
    ("application/json;q=0.5, */*", False),
    ("application/json, */*;q=0.1", True),
    ("application/*;q=0.8, text/*;q=0.9", False),
    ("text/*;q=0.5, application/json;q=0.6", True),
    ("application/json;q=0", False),
    ("application/json;q=0, application/*", False),
    ("application/json;q=1.5", False),
    ("application/json;q=abc", False),
    ("application/jsonx", False),
    ("application", False),
    ("text/html", False),
    # text/plain refused outright (q=0) while JSON is acceptable: JSON, whatever range admits it
    ("*/*, text/plain;q=0", True),
    ("text/*;q=0, */*;q=0.1", True),
    ("text/plain;q=0", False),
    ("application/json;q=0, text/plain;q=0", False),
]


@pytest.mark.parametrize(("accept", "json_answer"), ACCEPT_TABLE)
def test_accept_is_chosen_by_preference(accept: str | None, json_answer: bool) -> None:
    assert function_app.wants_json(accept) is json_answer


@pytest.mark.parametrize("accept", ["application/json", "text/html, application/json;q=0.5", "APPLICATION/JSON"])
def test_json_when_asked(configured: FakeEntra, accept: str) -> None:
    response = call(f"Bearer {access_token(configured.key)}", accept=accept)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(response.get_body())
    assert set(body) == {"data", "expiresIn", "displayName"}
    assert body["expiresIn"] == 600
    assert body["displayName"] == "Ada Lovelace"
    assert decode_contact_token(body["data"])["sub"]


@pytest.mark.parametrize("accept", ["*/*", "text/plain", "application/json;q=0", "application/jsonx"])
def test_text_otherwise(configured: FakeEntra, accept: str) -> None:
    assert call(f"Bearer {access_token(configured.key)}", accept=accept).mimetype == "text/plain"


def test_post_works_and_the_body_and_query_never_reach_the_contact_token(configured: FakeEntra) -> None:
    forged = json.dumps({"attributes": {"name": "Mallory", "vip": "true"}, "name": "Mallory"}).encode()
    response = call(
        f"Bearer {access_token(configured.key)}",
        method="POST",
        body=forged,
        params={"name": "Mallory", "attributes": "vip"},
    )
    attributes = decode_contact_token(response.get_body().decode())["attributes"]
    assert attributes["name"] == "Ada Lovelace"
    assert "vip" not in attributes


def test_no_credentials_gets_a_bare_bearer_challenge(configured: FakeEntra) -> None:
    response = call()
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Cache-Control"] == "no-store"
    assert problem(response)["code"] == "missing_token"


def test_an_invalid_token_gets_an_invalid_token_challenge_without_the_token(configured: FakeEntra) -> None:
    token = access_token(configured.key, entra_v2_claims(exp=1))
    response = call(f"Bearer {token}")
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    body = problem(response)
    assert body["code"] == "token_expired"
    assert token not in response.get_body().decode()
    assert token.split(".")[2] not in challenge


def test_insufficient_scope_names_the_scope(configured: FakeEntra) -> None:
    response = call(f"Bearer {access_token(configured.key, entra_v2_claims(scp='User.Read'))}")
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
    assert 'scope="JWT.Read"' in response.headers["WWW-Authenticate"]
    body = problem(response)
    assert (body["code"], body["scope"]) == ("insufficient_scope", "JWT.Read")


def test_keys_unavailable_is_503_with_retry_after(configured: FakeEntra) -> None:
    configured.state.keys_mode = "error"
    response = call(f"Bearer {access_token(configured.key)}")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert problem(response)["code"] == "signing_keys_unavailable"


@pytest.mark.parametrize(
    "setting", [{"CONNECT_TOKEN_TTL_SECONDS": "900"}, {"ENTRA_AUTHORITY": "http://[::1"}], ids=["ttl", "authority"]
)
def test_configuration_errors_are_503(monkeypatch: pytest.MonkeyPatch, configured: FakeEntra, setting) -> None:
    reconfigure(monkeypatch, **setting)
    response = call(f"Bearer {access_token(configured.key)}")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = problem(response)
    assert body["code"] == "configuration_invalid"
    assert "CONNECT_WIDGET_SECRET" not in body["detail"]


def test_unexpected_errors_are_500_with_an_invocation_id_that_is_logged(
    configured: FakeEntra, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(_authorization: str | None) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(function_app.contact_token_service(), "issue", explode)
    caplog.set_level(logging.ERROR, logger="connect_sso")
    response = call("Bearer whatever")
    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "internal_error"
    assert "Traceback" not in response.get_body().decode() and "boom" not in response.get_body().decode()
    assert any(body["invocationId"] in record.getMessage() for record in caplog.records)
    # and nothing breaks for the next caller
    monkeypatch.undo()
    reconfigure(monkeypatch, **base_settings(configured.authority))
    assert call(f"Bearer {access_token(configured.key)}").status_code == 200


def test_contact_token_too_large_is_a_specific_500(monkeypatch: pytest.MonkeyPatch, configured: FakeEntra) -> None:
    reconfigure(monkeypatch, SSO_CUSTOM_ATTRIBUTES="notes")
    response = call(f"Bearer {access_token(configured.key, entra_v2_claims(notes='n' * 7000))}")
    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "contact_token_too_large"
    assert "invocationId" in body


SECOND_WIDGET_ID = "0f8e7d6c-0000-4000-8000-00000000e001"


def with_second_widget(monkeypatch: pytest.MonkeyPatch, authority: str) -> str:
    """Configures CONNECT_WIDGETS with one more widget; returns its key (generated for this test)."""
    secret = secrets.token_urlsafe(33)
    REGISTRY.register_secret(secret)
    widgets = {SECOND_WIDGET_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SECOND"}}
    reconfigure(
        monkeypatch,
        **base_settings(authority),
        CONNECT_WIDGETS=json.dumps(widgets),
        CONNECT_WIDGET_SECRET_SECOND=secret,
    )
    return secret


def test_the_widget_id_query_parameter_chooses_the_widget(
    monkeypatch: pytest.MonkeyPatch, configured: FakeEntra
) -> None:
    secret = with_second_widget(monkeypatch, configured.authority)
    authorization = f"Bearer {access_token(configured.key)}"
    second = call(authorization, params={"widgetId": SECOND_WIDGET_ID})
    assert second.status_code == 200
    assert decode_contact_token(second.get_body().decode(), secret, subject=SECOND_WIDGET_ID)
    default = call(authorization, params={"widgetId": WIDGET_ID})
    assert decode_contact_token(default.get_body().decode())
    assert decode_contact_token(call(authorization).get_body().decode())


@pytest.mark.parametrize("widget_id", ["0f8e7d6c-0000-4000-8000-00000000e0ff", "not-a-uuid"])
def test_an_unknown_widget_is_400_unknown_widget_without_a_token(
    monkeypatch: pytest.MonkeyPatch, configured: FakeEntra, widget_id: str
) -> None:
    with_second_widget(monkeypatch, configured.authority)
    response = call(f"Bearer {access_token(configured.key)}", params={"widgetId": widget_id}, accept="application/json")
    assert response.status_code == 400
    body = problem(response)
    assert body["code"] == "unknown_widget"
    assert "data" not in body and "WWW-Authenticate" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_bad_token_is_401_before_the_widget_is_looked_at(
    monkeypatch: pytest.MonkeyPatch, configured: FakeEntra
) -> None:
    with_second_widget(monkeypatch, configured.authority)
    expired = access_token(configured.key, entra_v2_claims(exp=1))
    unknown = {"widgetId": "0f8e7d6c-0000-4000-8000-00000000e0ff"}
    assert problem(call(f"Bearer {expired}", params=unknown))["code"] != "unknown_widget"
    assert call(f"Bearer {expired}", params=unknown).status_code == 401
    assert call(params=unknown).status_code == 401


def test_a_flood_of_refusals_logs_one_info_line_per_code_a_minute_and_the_rest_at_debug(
    configured: FakeEntra, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 22, item 10: the metrics count refusals; Info lines at flood rate would fill the daily cap."""
    from shared.log_sampling import OncePerInterval

    now = [1000.0]
    monkeypatch.setattr(function_app, "_refusal_log", OncePerInterval(60.0, clock=lambda: now[0]))
    with caplog.at_level(logging.DEBUG, logger="connect_sso"):
        for _ in range(50):
            assert call().status_code == 401
        now[0] += 61
        call()
    refusals = [r for r in caplog.records if r.getMessage().startswith("refused with 401 missing_token")]
    assert len(refusals) == 51
    info = [r.getMessage() for r in refusals if r.levelno == logging.INFO]
    assert len(info) == 2
    assert info[1].endswith("(49 more since the last)")


@pytest.mark.parametrize(
    ("method", "route", "handler"),
    [
        ("PUT", "contacts/last", "last_contact"),
        ("DELETE", "contacts/last", "last_contact"),
        ("GET", "health", "health"),
    ],
)
def test_a_service_that_cannot_be_built_is_a_problem_response_on_every_route(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, method: str, route: str, handler: str
) -> None:
    """Building the service is inside the HTTP layer's failure handling on every route: an exception there must
    not escape to the host (a bare 500 without problem details or a logged invocation id)."""

    def explode(_environ: object) -> None:
        raise RuntimeError("boom")

    function_app.contact_token_service.cache_clear()
    monkeypatch.setattr(function_app.ContactTokenService, "from_environment", explode)
    caplog.set_level(logging.ERROR, logger="connect_sso")
    request = func.HttpRequest(method, f"http://localhost/api/{route}", headers={}, params={}, body=b"")
    try:
        response = getattr(function_app, handler)(request, LocalContext(handler, "."))
    finally:
        monkeypatch.undo()
        function_app.contact_token_service.cache_clear()
    assert response.status_code == 500
    body = problem(response)
    assert body["code"] == "internal_error"
    assert "boom" not in response.get_body().decode()
    assert any(body["invocationId"] in record.getMessage() for record in caplog.records)
