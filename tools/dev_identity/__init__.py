"""Development tool: starts the local OpenID provider (server.mjs, on oauth2-mock-server) and gets tokens from it.

The provider issues Entra-v2-shaped access tokens (tid, oid, scp, name, preferred_username, azp, ver) so the
function verifies them exactly as it verifies Entra's; with `external_id=True` its issuer's host differs from the
authority's, as Entra External ID's does. It answers a step-up `claims` request for an authentication context
(`acrs`) by granting it, unless `auth_context_answers` tells it to refuse that id. Development and tests only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import requests

from tools.dev_certificate import CertificateFiles
from tools.dev_defaults import DEV_API_CLIENT_ID, DEV_API_SCOPE, DEV_SPA_CLIENT_ID, DEV_TENANT_ID, DEV_USERS
from tools.processes import stop_child

PACKAGE_DIR = Path(__file__).resolve().parent
START_TIMEOUT_SECONDS = 30.0


class DevIdentityError(RuntimeError):
    pass


@dataclass(frozen=True)
class DevIdentityConfig:
    port: int = 0
    certificate: CertificateFiles | None = None
    tenant_id: str = DEV_TENANT_ID
    api_client_id: str = DEV_API_CLIENT_ID
    spa_client_id: str = DEV_SPA_CLIENT_ID
    users: Mapping[str, Mapping[str, object]] = field(default_factory=lambda: DEV_USERS)
    access_token_lifetime_seconds: int = 3600
    # Entra External ID mode: tokens and metadata name this issuer, whose host is not the authority's.
    external_id: bool = False
    # Step-up: how to answer a claims request for an authentication context id (absent: grant it).
    # "deny": the authorize request ends in error=access_denied; "ignore": the token comes without it.
    auth_context_answers: Mapping[str, Literal["deny", "ignore"]] = field(default_factory=dict)

    @property
    def token_issuer(self) -> str | None:
        """External ID's issuer shape (https://<tenant-id>.ciamlogin.com/<tenant-id>/v2.0) on a reserved,
        never-resolving .localhost host: nobody can mistake these development tokens for Microsoft's."""
        if not self.external_id:
            return None
        return f"https://{self.tenant_id}.ciamlogin.localhost/{self.tenant_id}/v2.0"

    def as_json(self) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "certFile": str(self.certificate.cert_file) if self.certificate else None,
            "keyFile": str(self.certificate.key_file) if self.certificate else None,
            "tenantId": self.tenant_id,
            "apiClientId": self.api_client_id,
            "spaClientId": self.spa_client_id,
            "users": dict(self.users),
            "defaultUser": next(iter(self.users)),
            "accessTokenLifetimeSeconds": self.access_token_lifetime_seconds,
            "tokenIssuer": self.token_issuer,
            "authContextAnswers": dict(self.auth_context_answers),
        }


@dataclass
class DevIdentityProvider:
    issuer: str  # the authority: its /.well-known/openid-configuration is the metadata
    config: DevIdentityConfig
    process: subprocess.Popen[str]

    @property
    def token_issuer(self) -> str:
        """What the metadata's `issuer` and the tokens' `iss` say (the authority itself unless External ID)."""
        return self.config.token_issuer or self.issuer

    @property
    def verify(self) -> str | bool:
        """What `requests` should trust to reach the provider: its own certificate."""
        return str(self.config.certificate.cert_file) if self.config.certificate else True

    def token(
        self,
        username: str | None = None,
        scope: str = DEV_API_SCOPE,
        client_id: str = DEV_SPA_CLIENT_ID,
        expires_in: int | None = None,
        claims: str | None = None,
    ) -> str:
        """A fresh access token for a configured user (password grant: a shortcut the mock offers for tools).

        `expires_in`: its lifetime in seconds instead of the provider's; negative for a token already expired.
        `claims`: a claims request, such as a step-up challenge decoded (shared/auth_context.claims_request)."""
        lifetime = {} if expires_in is None else {"expires_in": str(expires_in)}
        response = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "password",
                "username": username or next(iter(self.config.users)),
                "password": "development",
                "scope": scope,
                "client_id": client_id,
                **lifetime,
                **({"claims": claims} if claims else {}),
            },
            verify=self.verify,
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def app_only_token(self, client_id: str = DEV_SPA_CLIENT_ID) -> str:
        response = requests.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "scope": f"api://{self.config.api_client_id}/.default"},
            auth=(client_id, "development"),
            verify=self.verify,
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def node_modules_ready() -> bool:
    return (PACKAGE_DIR / "node_modules" / "oauth2-mock-server").is_dir()


def _forward(stream: IO[str], echo: bool) -> None:
    """Keeps the pipe drained (a full pipe would block the provider) and echoes it when asked."""
    for line in stream:
        if echo:
            print(f"[identity] {line}", end="", flush=True)


@contextmanager
def run_dev_identity(config: DevIdentityConfig, *, echo_output: bool = False) -> Iterator[DevIdentityProvider]:
    """Starts the provider on loopback and stops it when the context ends."""
    node = shutil.which("node")
    if node is None:
        raise DevIdentityError("Node.js is needed for the local identity provider (node not found)")
    if not node_modules_ready():
        raise DevIdentityError("run scripts/bootstrap node first (tools/dev_identity has no node_modules)")
    with tempfile.TemporaryDirectory(prefix="dev-identity-") as folder:
        config_file = Path(folder) / "config.json"
        config_file.write_text(json.dumps(config.as_json()), encoding="utf-8")
        process = subprocess.Popen(  # noqa: S603 - fixed program and arguments
            [node, str(PACKAGE_DIR / "server.mjs"), str(config_file)],
            stdout=subprocess.PIPE,
            stderr=None if echo_output else subprocess.DEVNULL,
            text=True,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        try:
            issuer = _wait_until_ready(process)
            assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
            threading.Thread(target=_forward, args=(process.stdout, echo_output), daemon=True).start()
            yield DevIdentityProvider(issuer=issuer, config=config, process=process)
        finally:
            stop_child(process)


def _wait_until_ready(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None  # noqa: S101
    result: dict[str, str] = {}

    def read_ready_line() -> None:
        assert process.stdout is not None  # noqa: S101
        line = process.stdout.readline()
        try:
            result["issuer"] = json.loads(line)["issuer"]
        except (ValueError, KeyError, TypeError):
            result["error"] = line.strip()[:200]

    reader = threading.Thread(target=read_ready_line, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    if "issuer" not in result:
        process.kill()
        raise DevIdentityError(f"the local identity provider did not start: {result.get('error', 'timeout')}")
    return result["issuer"]
