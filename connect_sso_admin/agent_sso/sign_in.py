"""Signing in to Microsoft Graph for ``entra-app``, with the Graph permissions the command needs, checked up front.

The Azure CLI's Graph token carries no ``Policy.*`` scopes (Azure/azure-cli#23906), so after ``az login`` the
claims-mapping step would fail half-way, leaving the SAML application without its Role and RoleSessionName
claims. By default the command therefore signs in with MSAL Python's device code flow on a public client and
asks for exactly the scopes below; ``--client-id`` picks the organisation's own public client instead of
Microsoft Graph Command Line Tools. Whatever the credential, a token that lacks one of the scopes is refused
before the first Graph call, with a message naming each missing scope. Tokens are never printed.
"""

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from connect_sso_admin.agent_sso.graph import TokenCredential

# What entra-app reads and writes (docs/agent-sso.md): the app and its service principal, role assignments, the
# claims-mapping policy, and the users it assigns.
REQUIRED_SCOPES: tuple[str, ...] = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Policy.Read.All",
    "Policy.ReadWrite.ApplicationConfiguration",
    "User.Read.All",
)
# Microsoft Graph Command Line Tools: Microsoft's public client for Graph PowerShell, which may request any
# delegated Graph scope (an administrator consents once). --client-id replaces it with the organisation's own.
GRAPH_COMMAND_LINE_TOOLS = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
_RENEW_BEFORE_SECONDS = 300


class SignInError(RuntimeError):
    """Signing in failed, or the token lacks a Graph permission the command needs."""


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_on: int


def _scope_name(scope: str) -> str:
    """``https://graph.microsoft.com/Policy.Read.All`` and ``Policy.Read.All`` name the same permission."""
    return scope.rsplit("/", 1)[-1].lower()


def missing_scopes(granted: Iterable[str], required: Sequence[str] = REQUIRED_SCOPES) -> list[str]:
    have = {_scope_name(scope) for scope in granted}
    return [scope for scope in required if scope.lower() not in have]


def _missing_message(missing: Sequence[str], how: str) -> str:
    return (
        f"the Microsoft Graph token lacks {', '.join(missing)} ({how}); entra-app needs "
        f"{', '.join(REQUIRED_SCOPES)}: sign in with the device code flow (the default) and consent, or have an "
        "administrator grant them to the client (docs/agent-sso.md)"
    )


def token_permissions(token: str) -> list[str] | None:
    """Delegated scopes (``scp``) or application roles (``roles``) a JWT access token claims; None if unreadable.

    Read without verification, only to fail early: Microsoft Graph verifies the token itself.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("scp"), str):
        return [str(scope) for scope in payload["scp"].split()]
    if isinstance(payload.get("roles"), list):
        return [role for role in payload["roles"] if isinstance(role, str)]
    return None


class ScopeCheckedCredential:
    """Wraps any credential (azure-identity's, for example): refuses a token that lacks a required permission."""

    def __init__(self, inner: TokenCredential) -> None:
        self._inner = inner

    def get_token(self, *scopes: str) -> Any:
        access = self._inner.get_token(*scopes)
        permissions = token_permissions(access.token)
        if permissions is not None:
            missing = missing_scopes(permissions)
            if missing:
                raise SignInError(_missing_message(missing, "the token's scp/roles claim"))
        return access


class PublicClient(Protocol):
    """The part of ``msal.PublicClientApplication`` this module uses (a stand-in replaces it in tests)."""

    def get_accounts(self) -> list[dict[str, Any]]: ...

    def acquire_token_silent(self, scopes: list[str], account: dict[str, Any]) -> dict[str, Any] | None: ...

    def initiate_device_flow(self, scopes: list[str]) -> dict[str, Any]: ...

    def acquire_token_by_device_flow(self, flow: dict[str, Any]) -> dict[str, Any]: ...


def msal_public_client(client_id: str, authority: str) -> PublicClient:
    import msal  # imported late: only entra-app signs in, and MSAL contacts the authority when created

    client: PublicClient = msal.PublicClientApplication(client_id, authority=authority)
    return client


class DeviceCodeCredential:
    """A credential for GraphClient: device code sign-in once, then MSAL's silent renewal; explicit scopes only.

    The scope GraphClient asks for (``<graph>/.default``) is replaced by the explicit Graph scopes, since a device
    code sign-in on a public client must name what it asks the user (or administrator) to consent to.
    """

    def __init__(
        self,
        app: PublicClient,
        graph_origin: str,
        prompt: TextIO,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._scopes = [f"{graph_origin.rstrip('/')}/{scope}" for scope in REQUIRED_SCOPES]
        self._prompt = prompt
        self._clock = clock
        self._current: AccessToken | None = None

    def get_token(self, *_scopes: str) -> AccessToken:
        if self._current and self._current.expires_on - _RENEW_BEFORE_SECONDS > self._clock():
            return self._current
        result = None
        accounts = self._app.get_accounts()
        if accounts:
            result = self._app.acquire_token_silent(self._scopes, account=accounts[0])
        if not result or "access_token" not in result:
            flow = self._app.initiate_device_flow(scopes=self._scopes)
            if "user_code" not in flow:
                raise SignInError(f"could not start the device code sign-in: {_reason(flow)}")
            self._prompt.write(f"{flow['message']}\n")
            self._prompt.flush()
            result = self._app.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise SignInError(f"sign-in failed: {_reason(result)}")
        missing = missing_scopes(str(result.get("scope", "")).split())
        if missing:
            raise SignInError(_missing_message(missing, "not granted at sign-in"))
        self._current = AccessToken(result["access_token"], int(self._clock()) + int(result.get("expires_in", 0)))
        return self._current


def _reason(result: dict[str, Any]) -> str:
    error = result.get("error", "unknown_error")
    description = str(result.get("error_description", "")).splitlines()
    return f"{error}: {description[0][:300]}" if description else str(error)
