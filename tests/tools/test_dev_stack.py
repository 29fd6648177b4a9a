"""The quick-start stack: the local identity provider (oauth2-mock-server over HTTPS) and the function in its own
process, as `scripts/run` starts them. A development token must give a contact JWT, end to end."""

from __future__ import annotations

import jwt as pyjwt
import pytest
import requests

from tools.dev_defaults import DEV_TENANT_ID, DEV_USERS, DEV_WIDGET_ID, DEV_WIDGET_SECRET
from tools.dev_identity import node_modules_ready
from tools.dev_stack import run_stack
from tools.testkit.service import decode_contact_token

pytestmark = pytest.mark.skipif(not node_modules_ready(), reason="run scripts/bootstrap node")


@pytest.fixture(scope="module")
def stack():
    with run_stack() as running:
        yield running


def test_a_development_token_looks_like_an_entra_v2_token(stack) -> None:
    claims = pyjwt.decode(stack.identity.token(), options={"verify_signature": False})
    assert claims["ver"] == "2.0"
    assert claims["tid"] == DEV_TENANT_ID
    assert claims["scp"] == "JWT.Read"
    assert {"oid", "name", "preferred_username", "azp", "aud", "iss", "exp"} <= set(claims)
    assert pyjwt.get_unverified_header(stack.identity.token())["alg"] == "RS256"


def test_the_curl_line_gets_a_contact_token(stack) -> None:
    response = requests.get(
        stack.function_url,
        headers={"Authorization": f"Bearer {stack.identity.token()}", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    contact = decode_contact_token(response.json()["data"], secret=DEV_WIDGET_SECRET, subject=DEV_WIDGET_ID)
    assert contact["sub"] == DEV_WIDGET_ID
    user = DEV_USERS["dev.user@contoso.example"]
    assert contact["attributes"]["name"] == user["name"]
    assert contact["attributes"]["firstName"] == "Dana"
    assert "curl" in stack.curl_line("t") and stack.function_url in stack.curl_line("t")


def test_each_development_user_gets_their_own_attributes(stack) -> None:
    token = stack.identity.token("second.user@contoso.example")
    response = requests.get(stack.function_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert (
        decode_contact_token(response.text, secret=DEV_WIDGET_SECRET, subject=DEV_WIDGET_ID)["attributes"]["name"]
        == "Sam Second"
    )


def test_app_only_development_tokens_are_refused(stack) -> None:
    response = requests.get(
        stack.function_url, headers={"Authorization": f"Bearer {stack.identity.app_only_token()}"}, timeout=10
    )
    assert response.status_code == 403
    assert response.json()["code"] == "app_only_token"
