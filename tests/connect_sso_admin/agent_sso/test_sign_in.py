"""Signing in for entra-app: device code with explicit Graph scopes, and the up-front scope check.

Entra ID cannot be reached from tests: StandInPublicClient plays msal.PublicClientApplication (the token source)
and answers what the token endpoint would; the Graph calls go to the recording stand-in on 127.0.0.1.
"""

import base64
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connect_sso_admin.agent_sso import sign_in
from connect_sso_admin.agent_sso.cli import main
from connect_sso_admin.agent_sso.sign_in import (
    REQUIRED_SCOPES,
    DeviceCodeCredential,
    ScopeCheckedCredential,
    SignInError,
    token_permissions,
)
from tests.connect_sso_admin.agent_sso.graph_stand_in import FAKE_TOKEN, GraphStandIn

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ALL_GRANTED = " ".join([*REQUIRED_SCOPES, "openid", "profile"])


class StandInPublicClient:
    """What msal.PublicClientApplication would answer; records the scopes asked for."""

    def __init__(self, granted: str = ALL_GRANTED, result: dict[str, Any] | None = None) -> None:
        self.granted = granted
        self.result = result
        self.flows: list[list[str]] = []
        self.silent: list[list[str]] = []
        self.accounts: list[dict[str, Any]] = []

    def get_accounts(self) -> list[dict[str, Any]]:
        return self.accounts

    def acquire_token_silent(self, scopes: list[str], account: dict[str, Any]) -> dict[str, Any] | None:
        self.silent.append(scopes)
        return {"access_token": FAKE_TOKEN, "expires_in": 3600, "scope": self.granted}

    def initiate_device_flow(self, scopes: list[str]) -> dict[str, Any]:
        self.flows.append(scopes)
        return {
            "user_code": "ABCD-EFGH",
            "message": "To sign in, open https://microsoft.com/devicelogin, enter ABCD-EFGH",
        }

    def acquire_token_by_device_flow(self, flow: dict[str, Any]) -> dict[str, Any]:
        self.accounts = [{"username": "admin@contoso.com"}]
        return self.result or {"access_token": FAKE_TOKEN, "expires_in": 3600, "scope": self.granted}


def credential(app: StandInPublicClient, prompt: io.StringIO | None = None, clock=lambda: 1_000_000.0):
    return DeviceCodeCredential(app, "https://graph.microsoft.com", prompt or io.StringIO(), clock=clock)


def test_device_code_sign_in_asks_for_the_explicit_graph_scopes_and_prints_only_the_instructions():
    app, prompt = StandInPublicClient(), io.StringIO()

    token = credential(app, prompt).get_token("https://graph.microsoft.com/.default")

    assert token.token == FAKE_TOKEN
    assert app.flows == [[f"https://graph.microsoft.com/{scope}" for scope in REQUIRED_SCOPES]]
    assert "Policy.ReadWrite.ApplicationConfiguration" in REQUIRED_SCOPES and "Policy.Read.All" in REQUIRED_SCOPES
    assert prompt.getvalue() == "To sign in, open https://microsoft.com/devicelogin, enter ABCD-EFGH\n"
    assert FAKE_TOKEN not in prompt.getvalue()


def test_a_token_without_a_policy_scope_is_refused_naming_the_scope():
    granted = " ".join(scope for scope in REQUIRED_SCOPES if not scope.startswith("Policy.ReadWrite"))
    with pytest.raises(SignInError) as raised:
        credential(StandInPublicClient(granted)).get_token()
    message = str(raised.value)
    assert message.startswith("the Microsoft Graph token lacks Policy.ReadWrite.ApplicationConfiguration (")
    assert FAKE_TOKEN not in message


def test_granted_scopes_match_with_or_without_the_resource_prefix_and_in_any_case():
    granted = " ".join(f"https://graph.microsoft.com/{scope.upper()}" for scope in REQUIRED_SCOPES)
    assert credential(StandInPublicClient(granted)).get_token().token == FAKE_TOKEN


def test_a_refused_sign_in_says_why():
    refused = {"error": "authorization_declined", "error_description": "AADSTS70000: The user declined.\nTrace: x"}
    with pytest.raises(
        SignInError, match=r"^sign-in failed: authorization_declined: AADSTS70000: The user declined\.$"
    ):
        credential(StandInPublicClient(result=refused)).get_token()


def test_the_token_is_reused_then_renewed_silently():
    now = [1_000_000.0]
    app = StandInPublicClient()
    source = credential(app, clock=lambda: now[0])
    source.get_token()
    source.get_token()
    assert len(app.flows) == 1 and app.silent == []
    now[0] += 3600
    source.get_token()
    assert len(app.flows) == 1 and len(app.silent) == 1, "renewed without a second device code prompt"


def _jwt(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


class FixedToken:
    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str):
        return type("AccessToken", (), {"token": self.token})()


def test_an_azure_cli_token_without_policy_scopes_is_refused_up_front():
    """The Azure CLI's Graph token has no Policy.* scopes (Azure/azure-cli#23906)."""
    az_cli_token = _jwt({"scp": "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All User.Read.All"})
    with pytest.raises(
        SignInError, match=re.escape("lacks Policy.Read.All, Policy.ReadWrite.ApplicationConfiguration")
    ):
        ScopeCheckedCredential(FixedToken(az_cli_token)).get_token("https://graph.microsoft.com/.default")
    app_token = _jwt({"roles": list(REQUIRED_SCOPES)})
    assert ScopeCheckedCredential(FixedToken(app_token)).get_token().token == app_token
    assert token_permissions("not-a-jwt") is None


def test_entra_app_stops_before_any_graph_call_when_a_scope_is_missing(tmp_path):
    granted = " ".join(scope for scope in REQUIRED_SCOPES if scope != "Policy.Read.All")
    with GraphStandIn() as graph:
        out, err = io.StringIO(), io.StringIO()
        code = main(
            [
                "entra-app", "--name", "Amazon Connect agents", "--account-id", "111122223333",
                "--provider-name", "EntraAgents", "--region", "eu-west-2", "--user", "jane.doe@contoso.com",
                "--graph-url", graph.url,
            ],
            out=out, err=err, now=NOW, credential=credential(StandInPublicClient(granted), err),
        )  # fmt: skip
        assert graph.calls == []
    assert code == 1
    assert "error: the Microsoft Graph token lacks Policy.Read.All (not granted at sign-in)" in err.getvalue()
    assert FAKE_TOKEN not in out.getvalue() + err.getvalue()


def test_the_default_client_is_microsoft_graph_command_line_tools_and_msal_is_pinned():
    assert sign_in.GRAPH_COMMAND_LINE_TOOLS == "14d82eec-204b-4c2f-b7e8-296a70dab67e"
    requirements = (Path(__file__).resolve().parents[3] / "requirements-dev.txt").read_text()
    assert re.search(r"^msal==\d+\.\d+\.\d+$", requirements, re.M)
    import msal

    assert callable(msal.PublicClientApplication)
