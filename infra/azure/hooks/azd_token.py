"""Access tokens for the hooks, from the Azure Developer CLI that runs them.

Why azd and not `az login --federated-token`: in GitHub Actions the Azure CLI keeps the one GitHub OIDC assertion
it was given, which expires after about five minutes, long before postprovision runs (AADSTS700024). azd's own
login (`azd auth login --federated-credential-provider github`) fetches a fresh assertion for every token, and on a
workstation it is the identity that just ran `azd provision`. So every hook request carries a token from
`azd auth token --scope ... --output json` (the command azure-identity's AzureDeveloperCliCredential runs too;
the hooks run on the plain `python3` azd finds, without our requirements installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

# A token is reused until this many seconds before it expires.
_EARLY_RENEWAL_SECONDS = 300


class AzdTokenError(Exception):
    """azd is missing or could not issue a token; the message says what to do."""


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float


TokenRunner = Callable[[list[str]], subprocess.CompletedProcess[str]]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # The azd found on PATH, with arguments built here, never through a shell.
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def _expiry(document: dict[str, object]) -> float:
    expires_on = document.get("expiresOn")
    if isinstance(expires_on, str):
        try:
            return datetime.fromisoformat(expires_on.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + 600  # unknown expiry: reuse it for a short while only


class AzdTokens:
    """Tokens by scope from `azd auth token`, cached until shortly before they expire."""

    def __init__(self, azd: str | None = None, run: TokenRunner = _run) -> None:
        self._azd = azd
        self._run = run
        self._cache: dict[str, _Token] = {}

    def _command(self) -> str:
        if self._azd is None:
            self._azd = shutil.which("azd")
        if self._azd is None:
            raise AzdTokenError("the Azure Developer CLI (azd) is not on PATH: run the hook through azd")
        return self._azd

    def token(self, scope: str) -> str:
        cached = self._cache.get(scope)
        if cached is not None and cached.expires_at - _EARLY_RENEWAL_SECONDS > time.time():
            return cached.value
        completed = self._run([self._command(), "auth", "token", "--scope", scope, "--output", "json"])
        if completed.returncode != 0:
            lines = (completed.stderr or completed.stdout or "").strip().splitlines()
            reason = lines[-1][:300] if lines else f"exit status {completed.returncode}"
            raise AzdTokenError(
                f"azd could not get a token for {scope}: {reason} "
                "(sign in with `azd auth login`; in GitHub Actions, check the federated credential)"
            )
        try:
            document = json.loads(completed.stdout)
            value = document["token"]
        except (ValueError, KeyError, TypeError) as error:
            raise AzdTokenError(f"azd auth token answered something other than a token document for {scope}") from error
        if not isinstance(value, str) or not value:
            raise AzdTokenError(f"azd auth token returned no token for {scope}")
        self._cache[scope] = _Token(value, _expiry(document))
        return value

    def forget(self, scope: str) -> None:
        """Drops a cached token (after a 401: the next request asks azd again)."""
        self._cache.pop(scope, None)
