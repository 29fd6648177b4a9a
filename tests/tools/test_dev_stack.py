"""The quick-start stack: the local identity provider (oauth2-mock-server over HTTPS) and the function in its own
process, as `scripts/run` starts them. A development token must give a contact JWT, end to end."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time

import jwt as pyjwt
import pytest
import requests

from tools.dev_defaults import DEV_TENANT_ID, DEV_USERS, DEV_WIDGET_ID, DEV_WIDGET_SECRET
from tools.dev_identity import node_modules_ready
from tools.dev_stack import free_port, page_origins, port_is_free, run_stack, shown, token_command
from tools.paths import REPO_ROOT
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
    assert "curl" in stack.curl_line("t") and shown(stack.function_url) in stack.curl_line("t")


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


def test_a_development_token_can_be_asked_for_already_expired_and_the_function_says_token_expired(stack) -> None:
    expired = stack.identity.token(expires_in=-120)
    claims = pyjwt.decode(expired, options={"verify_signature": False})
    assert claims["iat"] < claims["exp"] < time.time() - 110
    response = requests.get(stack.function_url, headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    short = pyjwt.decode(stack.identity.token(expires_in=30), options={"verify_signature": False})
    assert 25 <= short["exp"] - time.time() <= 31


def test_the_printed_token_command_gets_a_token_the_function_refuses_as_expired(stack) -> None:
    command = shlex.split(token_command(stack.identity.issuer, stack.certificate_file, expires_in=-120))
    assert command[:4] == ["curl", "-sS", "--cacert", ".dev/localhost.crt"]
    fields = dict(value.split("=", 1) for flag, value in zip(command[4:-1:2], command[5:-1:2], strict=True))
    response = requests.post(command[-1], data=fields, verify=str(stack.certificate_file), timeout=10)
    token = response.json()["access_token"]
    refused = requests.get(stack.function_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.json()["code"] == "token_expired"


def test_the_stack_prints_localhost_and_allows_both_loopback_spellings_of_the_page() -> None:
    assert shown("http://127.0.0.1:7071/api/AWSConnectJWT") == "http://localhost:7071/api/AWSConnectJWT"
    with run_stack(cors=page_origins(5173)) as running:
        assert "127.0.0.1" not in running.curl_line("t")
        for origin in ("http://localhost:5173", "http://127.0.0.1:5173"):
            preflight = requests.options(
                running.function_url,
                headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
                timeout=10,
            )
            assert preflight.headers.get("Access-Control-Allow-Origin") == origin


def test_identity_only_starts_the_provider_alone_for_func_start() -> None:
    identity_port, function_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.dev_stack", "--identity-only", f"--identity-port={identity_port}",
         f"--function-port={function_port}"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        output = []
        for line in process.stdout:
            output.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        text = "".join(output)
        assert f"identity provider  https://localhost:{identity_port}" in text
        assert "func start" in text and "function runner" not in text
        assert port_is_free(function_port)  # 7071 is left to func start
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 128 + signal.SIGTERM
