"""The HTTP contract of function_app.py: route, methods, formats, headers, problem details.

Called the documented way: the decorated function with an azure.functions.HttpRequest and a Context.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import azure.functions as func
import pytest

import function_app
from tests.support.fake_entra import FakeEntra
from tests.support.service import base_settings, decode_contact_token
from tests.support.tokens import access_token, entra_v2_claims
from tools.local_runner import LocalContext, functions_of


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
        method, "http://localhost/api/AWSConnectJWT", headers=headers, params=params or {}, body=body
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


def test_configuration_errors_are_503(monkeypatch: pytest.MonkeyPatch, configured: FakeEntra) -> None:
    reconfigure(monkeypatch, CONNECT_TOKEN_TTL_SECONDS="900")
    response = call(f"Bearer {access_token(configured.key)}")
    assert response.status_code == 503
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
