"""Step-up on the quick-start stack (issue 21): the development widget list has a widget requiring `c1`, and the
local identity provider answers the claims challenge, as `scripts/run` starts them."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import jwt as pyjwt
import pytest
import requests

from shared.auth_context import claims_challenge, claims_request
from tools.dev_defaults import (
    DEV_STEP_UP_AUTH_CONTEXT,
    DEV_STEP_UP_WIDGET_ID,
    DEV_STEP_UP_WIDGET_SECRET,
    DEV_WIDGET_ID,
    DEV_WIDGET_SECRET,
)
from tools.dev_identity import node_modules_ready
from tools.dev_stack import DevStack, run_stack
from tools.testkit.service import decode_contact_token

pytestmark = pytest.mark.skipif(not node_modules_ready(), reason="run scripts/bootstrap node")


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with run_stack() as running:
        yield running


def ask(stack: DevStack, token: str, widget_id: str) -> requests.Response:
    return requests.get(
        stack.function_url,
        params={"widgetId": widget_id},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=10,
    )


def test_the_step_up_widget_challenges_a_plain_development_token(stack: DevStack) -> None:
    response = ask(stack, stack.identity.token(), DEV_STEP_UP_WIDGET_ID)
    assert response.status_code == 401
    assert response.json()["code"] == "insufficient_claims"
    assert response.json()["claims"] == claims_challenge(DEV_STEP_UP_AUTH_CONTEXT)
    assert f'claims="{claims_challenge("c1")}"' in response.headers["WWW-Authenticate"]


def test_the_identity_provider_grants_the_challenged_context_and_the_widget_then_signs(stack: DevStack) -> None:
    challenge = ask(stack, stack.identity.token(), DEV_STEP_UP_WIDGET_ID).json()["claims"]
    # What MSAL sends: the decoded challenge, merged with the CP1 capability.
    decoded = base64.b64decode(challenge).decode()
    assert decoded == claims_request("c1")
    merged = decoded.replace('{"access_token":{', '{"access_token":{"xms_cc":{"values":["CP1"]},')
    token = stack.identity.token(claims=merged)
    assert pyjwt.decode(token, options={"verify_signature": False})["acrs"] == ["c1"]

    response = ask(stack, token, DEV_STEP_UP_WIDGET_ID)
    assert response.status_code == 200, response.text
    contact = decode_contact_token(
        response.json()["data"], secret=DEV_STEP_UP_WIDGET_SECRET, subject=DEV_STEP_UP_WIDGET_ID
    )
    assert contact["attributes"]["authContext"] == "c1"


def test_the_default_development_widget_requires_nothing(stack: DevStack) -> None:
    token = stack.identity.token()
    assert "acrs" not in pyjwt.decode(token, options={"verify_signature": False})
    response = ask(stack, token, DEV_WIDGET_ID)
    assert response.status_code == 200
    contact = decode_contact_token(response.json()["data"], secret=DEV_WIDGET_SECRET, subject=DEV_WIDGET_ID)
    assert "authContext" not in contact["attributes"]
