"""A real HTTP server on loopback that serves OpenID metadata and a key set the way Entra ID does.

Not a mock of `requests`: the function fetches from it over TCP. Tests control what it serves (keys, faults,
latency) and read how often it was asked, which is what the key-cache rules are about.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.testkit.tokens import TENANT_ID, SigningKey

ENTRA_ISSUER_TEMPLATE = "https://login.microsoftonline.com/{tenant}/v2.0"
MULTI_TENANT_ISSUER = "https://login.microsoftonline.com/{tenantid}/v2.0"


def external_id_issuer(tenant_id: str) -> str:
    """Entra External ID's access-token issuer: the tenant GUID is the host, unlike the authority's subdomain."""
    return f"https://{tenant_id}.ciamlogin.com/{tenant_id}/v2.0"


def b2c_issuer(tenant_name: str, tenant_id: str) -> str:
    """Azure AD B2C's issuer (b2clogin.com form): note the trailing slash."""
    return f"https://{tenant_name}.b2clogin.com/{tenant_id}/v2.0/"


@dataclass
class FakeEntraState:
    tenant: str
    keys: list[SigningKey]
    issuer: str | None = None  # None: Entra's own issuer for the tenant
    # "ok", "error" (HTTP 500), "garbage" (not JSON), "no-keys" (empty set), "hang-up" (closes the connection),
    # "gone" (HTTP 404), "drip" (the right answer, one byte every drip_seconds)
    keys_mode: str = "ok"
    metadata_mode: str = "ok"
    delay_seconds: float = 0.0
    drip_seconds: float = 0.05
    drip_bytes_sent: int = 0  # how much of a dripped answer went out before the client hung up
    requests: dict[str, int] = field(default_factory=lambda: {"metadata": 0, "keys": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeEntra:
    def __init__(
        self, tenant: str = TENANT_ID, keys: list[SigningKey] | None = None, issuer: str | None = None
    ) -> None:
        # `tenant` is the authority's path (a GUID, or e.g. "contoso.onmicrosoft.com/B2C_1_signin" for B2C);
        # `issuer` what the metadata names when it differs from Entra's own (External ID, B2C).
        self.state = FakeEntraState(tenant=tenant, keys=list(keys or [SigningKey.generate()]), issuer=issuer)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def authority(self) -> str:
        return f"{self.base_url}/{self.state.tenant}/v2.0"

    @property
    def key(self) -> SigningKey:
        return self.state.keys[0]

    def fetch_count(self, what: str = "keys") -> int:
        with self.state.lock:
            return self.state.requests[what]

    def start(self) -> FakeEntra:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _handler(state: FakeEntraState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            base = f"http://{self.headers['Host']}/{state.tenant}"
            if self.path == f"/{state.tenant}/v2.0/.well-known/openid-configuration":
                kind, mode = "metadata", state.metadata_mode
                default_issuer = (
                    MULTI_TENANT_ISSUER if state.tenant == "organizations"
                    else ENTRA_ISSUER_TEMPLATE.format(tenant=state.tenant)
                )  # fmt: skip
                body: Any = {
                    "issuer": state.issuer or default_issuer,
                    "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            elif self.path == f"/{state.tenant}/discovery/v2.0/keys":
                kind, mode = "keys", state.keys_mode
                body = {"keys": [key.jwk() for key in state.keys]}
            else:
                self._send(404, b"{}")
                return
            with state.lock:
                state.requests[kind] += 1
            if state.delay_seconds:
                time.sleep(state.delay_seconds)
            if mode == "hang-up":
                self.close_connection = True
                self.wfile.flush()
                self.connection.close()
                return
            if mode == "drip":
                self._drip(json.dumps(body).encode())
            elif mode == "gone":
                self._send(404, b'{"error":"not_found"}')
            elif mode == "error":
                self._send(500, b'{"error":"server_error"}')
            elif mode == "garbage":
                self._send(200, b"<html>not json</html>")
            elif mode == "no-keys":
                self._send(200, b'{"keys":[]}')
            else:
                self._send(200, json.dumps(body).encode())

        def _send(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _drip(self, payload: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                for index in range(len(payload)):
                    self.wfile.write(payload[index : index + 1])
                    self.wfile.flush()
                    with state.lock:
                        state.drip_bytes_sent += 1
                    time.sleep(state.drip_seconds)
            except OSError:
                pass  # the client gave up: that is what a drip test wants to see

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_fake_entra(
    tenant: str = TENANT_ID, keys: list[SigningKey] | None = None, issuer: str | None = None
) -> Iterator[FakeEntra]:
    server = FakeEntra(tenant, keys, issuer).start()
    try:
        yield server
    finally:
        server.stop()
