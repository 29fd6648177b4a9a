"""Development tool: Azurite (npm `azurite`, pinned in package.json here), the Azure Storage emulator's Table service,
on loopback over HTTPS with bearer tokens (`--oauth basic`), for scripts/run, the tests and bench/.

So the real `azure-data-tables` SDK runs as it does in Azure: with a token credential over TLS. Azurite's basic
OAuth mode checks a bearer token's shape, not its signature (its TableTokenAuthenticator: `iat`/`nbf`/`exp` in
force, `iss` under `https://sts.windows.net/`, `aud` `https://storage.azure.com`); `AzuriteCredential` mints such
tokens, signed with a random key, so nothing outside this machine is asked for one. Azurite also accepts the
well-known development account's shared key (`connection_string`): the local stack's function uses that, the way a
developer's `local.settings.json` would. Telemetry is off (`--disableTelemetry`): Azurite never leaves loopback.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.dev_certificate import CertificateFiles
from tools.processes import stop_child

PACKAGE_DIR = Path(__file__).resolve().parent
TABLE_MAIN = PACKAGE_DIR / "node_modules" / "azurite" / "dist" / "src" / "table" / "main.js"
ACCOUNT = "devstoreaccount1"  # Azurite's well-known development account
# Azurite's published development key (its README; the same in every installation): not a secret.
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
TOKEN_ISSUER = "https://sts.windows.net/{tenant}/"  # noqa: S105 - an issuer URL prefix Azurite accepts
TOKEN_AUDIENCE = "https://storage.azure.com"  # noqa: S105 - the storage audience
START_TIMEOUT_SECONDS = 30.0


class AzuriteError(RuntimeError):
    pass


class AzuriteCredential:
    """An azure.core TokenCredential for Azurite's basic OAuth mode: a fresh JWT per call, signed with a key made
    here (Azurite does not check signatures); never asks Entra or a managed identity endpoint for anything."""

    def __init__(self, tenant_id: str = "00000000-0000-0000-0000-000000000001") -> None:
        self._tenant_id = tenant_id
        self._key = secrets.token_bytes(32)
        self.requests = 0

    def get_token(self, *scopes: str, **_kwargs: Any) -> Any:
        import jwt as pyjwt
        from azure.core.credentials import AccessToken

        if scopes != (f"{TOKEN_AUDIENCE}/.default",):
            raise ValueError(f"AzuriteCredential mints storage tokens only, not {scopes}")
        self.requests += 1
        now = int(time.time())
        claims = {
            "aud": TOKEN_AUDIENCE,
            "iss": TOKEN_ISSUER.format(tenant=self._tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": str(uuid.uuid4()),
            "tid": self._tenant_id,
        }
        return AccessToken(pyjwt.encode(claims, self._key, algorithm="HS256"), now + 3600)

    def close(self) -> None:
        pass


@dataclass
class Azurite:
    host: str
    port: int
    ca_file: Path
    process: subprocess.Popen[bytes] | None

    @property
    def endpoint(self) -> str:
        """The Table endpoint (path-style, as Azurite serves an IP address): CHAT_HISTORY_ENDPOINT."""
        return f"https://{self.host}:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        """CHAT_HISTORY_CONNECTION_STRING for the development account."""
        return (
            f"DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"TableEndpoint={self.endpoint};"
        )

    def table_client(self, table: str, credential: Any = None) -> Any:
        """A TableClient on `table`, trusting only the test certificate (never the system's CAs)."""
        from azure.data.tables import TableClient

        return TableClient(
            self.endpoint, table, credential=credential or AzuriteCredential(), connection_verify=str(self.ca_file)
        )

    def client_factory(self, credential: Any = None) -> Any:
        """shared.chat_history's TableClientFactory for this Azurite: the real SDK with an explicit token credential
        and this CA file (no managed identity probe, no system trust store): what tests and bench/ pass in."""
        from shared.chat_history import sdk_table_client

        return functools.partial(
            sdk_table_client, credential=credential or AzuriteCredential(), connection_verify=str(self.ca_file)
        )

    def create_table(self, table: str) -> None:
        """What Bicep does in Azure (the function's identity may not create tables)."""
        from azure.data.tables import TableServiceClient

        service = TableServiceClient(self.endpoint, credential=AzuriteCredential(), connection_verify=str(self.ca_file))
        service.create_table_if_not_exists(table)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def node_modules_ready() -> bool:
    return TABLE_MAIN.is_file()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AzuriteError(f"Azurite exited with code {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AzuriteError(f"Azurite did not listen on 127.0.0.1:{port} within {START_TIMEOUT_SECONDS} s")


def start_process(certificate: CertificateFiles, port: int, workspace: Path, *, echo: bool) -> subprocess.Popen[bytes]:
    node = shutil.which("node")
    if node is None:
        raise AzuriteError("Node.js is needed for Azurite (node not found)")
    if not node_modules_ready():
        raise AzuriteError("run scripts/bootstrap node first (tools/azurite has no node_modules)")
    command = [
        node,
        str(TABLE_MAIN),
        "--tableHost",
        "127.0.0.1",
        "--tablePort",
        str(port),
        "--cert",
        str(certificate.cert_file),
        "--key",
        str(certificate.key_file),
        "--oauth",
        "basic",
        "--disableTelemetry",
        "--inMemoryPersistence",  # nothing of a test or a development run outlives it
    ]
    if not echo:
        command.append("--silent")
    output = None if echo else subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - fixed program and arguments
        command, stdout=output, stderr=output, env={**os.environ, "NODE_NO_WARNINGS": "1"}, cwd=workspace
    )
    try:
        _wait_until_listening(process, port)
    except AzuriteError:
        stop_child(process)
        raise
    return process


@contextmanager
def running_azurite(certificate: CertificateFiles, *, port: int = 0, echo: bool = False) -> Iterator[Azurite]:
    """Azurite's Table service on 127.0.0.1 (a free port unless `port`), stopped when the context ends."""
    port = port or _free_port()
    with tempfile.TemporaryDirectory(prefix="azurite-") as workspace:
        process = start_process(certificate, port, Path(workspace), echo=echo)
        azurite = Azurite("127.0.0.1", port, certificate.cert_file, process)
        try:
            yield azurite
        finally:
            if azurite.process is not None:
                stop_child(azurite.process)
