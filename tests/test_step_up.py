"""Step-up (issue 21): a widget requiring a Conditional Access authentication context, and the claims challenge.

Through the HTTP function (function_app.aws_connect_jwt) with one configuration of three widgets: the default one
requiring `c1`, one requiring none, one requiring `c2`. Access tokens come from the fake Entra on loopback; contact
tokens are checked with PyJWT.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from shared.auth_context import claims_challenge
from shared.settings import ConfigurationError, parse_settings
from tests.test_function_app import call, problem, reconfigure
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.leak_registry import REGISTRY
from tools.testkit.service import base_settings, decode_contact_token
from tools.testkit.tokens import WIDGET_ID, access_token, entra_v2_claims

AUTHORITY = "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000aaaa/v2.0"
OPEN_ID = "0f8e7d6c-0000-4000-8000-00000000e001"  # requires none (member "")
PAYMENTS_ID = "0f8e7d6c-0000-4000-8000-00000000e002"  # requires c2
OPEN_SECRET = secrets.token_urlsafe(33)
PAYMENTS_SECRET = secrets.token_urlsafe(33)
REGISTRY.register_secret(OPEN_SECRET)
REGISTRY.register_secret(PAYMENTS_SECRET)
# The challenge for c1 exactly as a client receives it (base64 of the claims request, checked below).
C1_CHALLENGE = "eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19"
C1_WWW_AUTHENTICATE = (
    'Bearer error="insufficient_claims", error_description="this widget requires authentication context c1, '
    'which the token does not satisfy; get a new token with the claims of this challenge", '
    f'claims="{C1_CHALLENGE}"'
)


def three_widgets() -> dict[str, str]:
    """As an operator writes them: the default widget requires c1 (the global setting), one none, one c2."""
    return {
        "CONNECT_REQUIRED_AUTH_CONTEXT": "c1",
        "CONNECT_WIDGETS": json.dumps(
            {
                OPEN_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_OPEN", "requiredAuthContext": ""},
                PAYMENTS_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_PAYMENTS", "requiredAuthContext": "c2"},
            }
        ),
        "CONNECT_WIDGET_SECRET_OPEN": OPEN_SECRET,
        "CONNECT_WIDGET_SECRET_PAYMENTS": PAYMENTS_SECRET,
    }


@pytest.fixture
def stepped(fake_entra: FakeEntra, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    reconfigure(monkeypatch, **base_settings(fake_entra.authority, **three_widgets()))
    yield fake_entra
    reconfigure(monkeypatch)


def bearer(entra: FakeEntra, **claims: Any) -> str:
    return f"Bearer {access_token(entra.key, entra_v2_claims(**claims))}"


def json_call(authorization: str, widget_id: str | None) -> Any:
    return call(authorization, accept="application/json", params={"widgetId": widget_id} if widget_id else None)


# --- the challenge ----------------------------------------------------------------------------------------------


def test_the_c1_challenge_is_padded_standard_base64_of_the_compact_claims_request() -> None:
    assert claims_challenge("c1") == C1_CHALLENGE
    decoded = base64.b64decode(C1_CHALLENGE, validate=True).decode()
    assert decoded == '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}'
    # Padding is kept whatever the length (c10 makes the JSON one byte longer).
    assert all(len(claims_challenge(f"c{n}")) % 4 == 0 for n in range(1, 26))


@pytest.mark.parametrize("acrs", [None, [], ["c2"], ["c3", "c12"]])
def test_a_valid_token_without_the_widgets_context_gets_the_claims_challenge(stepped: FakeEntra, acrs: Any) -> None:
    response = json_call(bearer(stepped, acrs=acrs) if acrs is not None else bearer(stepped), None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == C1_WWW_AUTHENTICATE
    assert response.headers["Cache-Control"] == "no-store"
    body = problem(response)
    assert body["code"] == "insufficient_claims"
    assert body["claims"] == C1_CHALLENGE  # platform CORS hides WWW-Authenticate from the page
    assert body["invocationId"]  # the page shows it when a second challenge ends the step-up


def test_a_bad_token_gets_its_own_401_before_any_challenge(stepped: FakeEntra) -> None:
    expired = bearer(stepped, exp=1_000_000_000, iat=999_999_000, nbf=999_999_000)
    for authorization, code in ((None, "missing_token"), ("Bearer not.a.token", None), (expired, None)):
        response = json_call(authorization, None) if authorization else call(accept="application/json")
        assert response.status_code == 401
        body = problem(response)
        assert body["code"] != "insufficient_claims"
        assert "claims" not in body
        assert "insufficient_claims" not in response.headers["WWW-Authenticate"]
        if code:
            assert body["code"] == code


@pytest.mark.parametrize("acrs", ["c1", {"c1": True}, [1], ["c1", None], True])
def test_an_acrs_claim_that_is_not_an_array_of_strings_is_an_invalid_claim(stepped: FakeEntra, acrs: Any) -> None:
    response = json_call(bearer(stepped, acrs=acrs), None)
    assert response.status_code == 401
    assert problem(response)["code"] == "invalid_claim"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# --- three widgets, one function --------------------------------------------------------------------------------


def test_a_token_satisfying_c1_gets_a_contact_token_naming_the_context(stepped: FakeEntra) -> None:
    response = json_call(bearer(stepped, acrs=["c3", "c1"]), None)
    assert response.status_code == 200
    claims = decode_contact_token(json.loads(response.get_body())["data"])
    assert claims["attributes"]["authContext"] == "c1"
    assert claims["sub"] == WIDGET_ID


def test_the_widget_requiring_none_never_challenges_and_names_no_context(stepped: FakeEntra) -> None:
    for authorization in (bearer(stepped), bearer(stepped, acrs=["c1"]), bearer(stepped, acrs="odd")):
        response = json_call(authorization, OPEN_ID)
        assert response.status_code == 200
        claims = decode_contact_token(json.loads(response.get_body())["data"], OPEN_SECRET, subject=OPEN_ID)
        assert "authContext" not in claims["attributes"]


def test_the_widget_requiring_c2_challenges_for_c2_even_when_c1_is_satisfied(stepped: FakeEntra) -> None:
    response = json_call(bearer(stepped, acrs=["c1"]), PAYMENTS_ID)
    assert response.status_code == 401
    assert problem(response)["claims"] == claims_challenge("c2")
    assert f'claims="{claims_challenge("c2")}"' in response.headers["WWW-Authenticate"]

    response = json_call(bearer(stepped, acrs=["c1", "c2"]), PAYMENTS_ID)
    assert response.status_code == 200
    claims = decode_contact_token(json.loads(response.get_body())["data"], PAYMENTS_SECRET, subject=PAYMENTS_ID)
    assert claims["attributes"]["authContext"] == "c2"


@pytest.mark.parametrize("required", [{"CONNECT_REQUIRED_AUTH_CONTEXT": "c1"}, {}], ids=["c1", "none"])
def test_a_mapped_claim_cannot_stand_in_for_the_checked_context(
    fake_entra: FakeEntra, monkeypatch: pytest.MonkeyPatch, required: dict[str, str]
) -> None:
    """authContext is reserved: mapped from a claim, a widget that requires no context would carry an unchecked
    value a flow could branch on. The mapping is a configuration error, never a contact token."""
    settings = base_settings(fake_entra.authority, SSO_CUSTOM_ATTRIBUTES="department:authContext", **required)
    reconfigure(monkeypatch, **settings)
    response = json_call(bearer(fake_entra, acrs=["c1"], department="c9"), None)
    reconfigure(monkeypatch)
    assert (response.status_code, json.loads(response.get_body())["code"]) == (503, "configuration_invalid")


def test_without_any_requirement_nothing_changes(fake_entra: FakeEntra, monkeypatch: pytest.MonkeyPatch) -> None:
    reconfigure(monkeypatch, **base_settings(fake_entra.authority))
    response = json_call(bearer(fake_entra), None)
    reconfigure(monkeypatch)
    assert response.status_code == 200
    assert "authContext" not in decode_contact_token(json.loads(response.get_body())["data"])["attributes"]


# --- settings ---------------------------------------------------------------------------------------------------


def test_the_member_overrides_the_global_setting_and_empty_means_none() -> None:
    settings = parse_settings(base_settings(AUTHORITY, **three_widgets()))
    assert settings.widget.required_auth_context == "c1"
    assert settings.widgets[OPEN_ID].required_auth_context is None
    assert settings.widgets[PAYMENTS_ID].required_auth_context == "c2"
    left_out = json.dumps({OPEN_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_OPEN"}})
    inherited = {**three_widgets(), "CONNECT_WIDGETS": left_out}
    assert parse_settings(base_settings(AUTHORITY, **inherited)).widgets[OPEN_ID].required_auth_context == "c1"
    assert parse_settings(base_settings(AUTHORITY)).widget.required_auth_context is None


@pytest.mark.parametrize("value", ["c0", "c26", "C1", "c01", "1", "acr1", "c1,c2", "urn:c1"])
def test_a_global_setting_outside_c1_to_c25_is_a_configuration_error_naming_it(value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(base_settings(AUTHORITY, CONNECT_REQUIRED_AUTH_CONTEXT=value))
    (found,) = caught.value.problems
    assert found.name == "CONNECT_REQUIRED_AUTH_CONTEXT"
    assert "c1 to c25" in found.message


@pytest.mark.parametrize("value", ["c0", "c26", "C2", 2, None, ["c2"], True])
def test_a_widget_member_outside_c1_to_c25_is_a_configuration_error_naming_the_widget(value: object) -> None:
    settings = {
        **three_widgets(),
        "CONNECT_WIDGETS": json.dumps(
            {PAYMENTS_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_PAYMENTS", "requiredAuthContext": value}}
        ),
    }
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(base_settings(AUTHORITY, **settings))
    (found,) = caught.value.problems
    assert found.name == "CONNECT_WIDGETS"
    assert PAYMENTS_ID in found.message
    assert "requiredAuthContext" in found.message
    assert "c1 to c25" in found.message


@pytest.mark.parametrize("number", range(1, 26))
def test_every_id_from_c1_to_c25_is_accepted(number: int) -> None:
    settings = parse_settings(base_settings(AUTHORITY, CONNECT_REQUIRED_AUTH_CONTEXT=f"c{number}"))
    assert settings.widget.required_auth_context == f"c{number}"
