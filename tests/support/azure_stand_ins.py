"""Loopback HTTPS stand-ins for the two Azure data planes the function reads, for the REAL Azure SDKs.

Azure App Configuration and Key Vault cannot be reached from tests, so these servers answer the documented REST
calls the SDKs make (App Configuration: `GET /kv` with `key`/`label` filters, paging through `Link`, ETags with
`If-None-Match` -> 304, 429 with `retry-after-ms`; Key Vault: `GET /secrets/{name}/{version}` after the bearer
challenge). `azure-appconfiguration`, `azure-keyvault-secrets`, `azure-appconfiguration-provider` and
`azure-core` run unmodified against them, over TLS with a certificate generated for the test run. Every request
is recorded, so tests assert how many calls an interval costs. Only the token is fake (`FakeCredential`): Entra
cannot be reached either.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from azure.core.credentials import AccessToken

from tools.dev_certificate import ensure_localhost_certificate

FAKE_TOKEN_PREFIX = "fake-access-token-"  # obviously fake; never a JWT
APP_CONFIGURATION_SCOPE = "https://appconfig.azure.com/.default"  # the SDK's public-cloud audience
KEY_VAULT_RESOURCE = "https://vault.azure.net"  # what real Key Vault names in its challenge
KEY_VAULT_REFERENCE_CONTENT_TYPE = "application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8"
NO_LABEL = "\0"


class FakeCredential:
    """An azure.core TokenCredential: hands out fake bearer tokens and records the scopes asked for."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        with self._lock:
            self.scopes.append(scopes)
        return AccessToken(
            FAKE_TOKEN_PREFIX + hashlib.sha256(" ".join(scopes).encode()).hexdigest()[:12], int(time.time()) + 3600
        )

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    authorized: bool
    at: float


@dataclass
class KeyValue:
    value: str
    content_type: str | None = None
    version: int = 1

    def etag(self, key: str, label: str | None) -> str:
        return hashlib.sha256(f"{key}\n{label}\n{self.version}\n{self.value}".encode()).hexdigest()[:24]


def _item(key: str, label: str | None, kv: KeyValue) -> dict[str, Any]:
    return {
        "etag": kv.etag(key, label),
        "key": key,
        "label": label,
        "content_type": kv.content_type,
        "value": kv.value,
        "tags": {},
        "locked": False,
        "last_modified": "2026-01-01T00:00:00+00:00",
    }


class _HttpsServer:
    """A threading HTTPS server on 127.0.0.1, port 0, answering through `handle(handler)`."""

    def __init__(self, certificate_dir: Path) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        files = ensure_localhost_certificate(certificate_dir)
        self.ca_file = str(files.cert_file)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.cert_file, files.key_file)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        # "localhost", not 127.0.0.1: the certificate names both, and a host name is what the SDKs expect.
        return f"https://localhost:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def count(self, path_prefix: str = "/", *, status: int | None = None, since: float = 0.0) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if r.path.startswith(path_prefix) and r.at >= since and (status is None or r.status == status)
            )

    def record(self, handler: BaseHTTPRequestHandler, status: int, authorized: bool) -> None:
        parts = urlsplit(handler.path)
        with self.lock:
            self.requests.append(
                Recorded(handler.command, parts.path, parse_qs(parts.query), status, authorized, time.monotonic())
            )

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


def _handler_for(server: _HttpsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.body = self.rfile.read(length)  # type: ignore[attr-defined]
            self.do_GET()

        def do_GET(self) -> None:
            authorization = self.headers.get("Authorization", "")
            authorized = authorization.startswith("Bearer " + FAKE_TOKEN_PREFIX)
            status, headers, body = server.handle(self)
            server.record(self, status, authorized)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Faults:
    mode: str = "ok"  # "ok", "down" (503), "throttle" (429 with retry-after-ms)
    retry_after_ms: int = 50
    delay_seconds: float = 0.0  # before answering: lets a test see a refresh in flight


class FakeAppConfiguration(_HttpsServer):
    """The App Configuration data plane: key-values by (key, label), listed in pages of `page_size`."""

    def __init__(self, certificate_dir: Path, page_size: int = 100) -> None:
        super().__init__(certificate_dir)
        self.page_size = page_size
        self.faults = Faults()
        self.values: dict[tuple[str, str | None], KeyValue] = {}
        # Statuses the next writes get, in order (403: the writer's new role is not effective yet).
        self.write_refusals: list[int] = []

    def set(self, key: str, value: str, *, label: str | None = None, content_type: str | None = None) -> None:
        with self.lock:
            old = self.values.get((key, label))
            self.values[(key, label)] = KeyValue(value, content_type, (old.version + 1) if old else 1)

    def set_reference(self, key: str, secret_uri: str, *, label: str | None = None) -> None:
        self.set(key, json.dumps({"uri": secret_uri}), label=label, content_type=KEY_VAULT_REFERENCE_CONTENT_TYPE)

    def list_requests(self, since: float = 0.0) -> int:
        """Full loads: requests for pages of key-values."""
        return self.count("/kv", since=since) - self.watch_requests(since)

    def watch_requests(self, since: float = 0.0) -> int:
        """Requests for one key (the sentinel)."""
        with self.lock:
            return sum(1 for r in self.requests if r.path.startswith("/kv/") and r.at >= since)

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if not handler.headers.get("Authorization", "").startswith("Bearer " + FAKE_TOKEN_PREFIX):
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, b""
        time.sleep(self.faults.delay_seconds)
        if self.faults.mode == "down":
            return 503, {}, b'{"title":"Service Unavailable (stand-in)"}'
        if self.faults.mode == "throttle":
            headers = {"retry-after-ms": str(self.faults.retry_after_ms), "Content-Type": "application/problem+json"}
            return 429, headers, b'{"title":"Too many requests (stand-in)"}'
        parts = urlsplit(handler.path)
        query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        label = query.get("label", NO_LABEL)
        label = None if label == NO_LABEL else label
        if handler.command == "PUT" and parts.path.startswith("/kv/"):
            return self._put(unquote(parts.path[len("/kv/") :]), label, handler)
        if parts.path == "/kv":
            return self._page(query.get("key", "*"), label, query.get("after"), handler.headers.get("If-None-Match"))
        if parts.path.startswith("/kv/"):
            key = unquote(parts.path[len("/kv/") :])
            return self._one(key, label, handler.headers.get("If-None-Match"))
        return 404, {}, b""

    def _page(
        self, key_filter: str, label: str | None, after: str | None, if_none_match: str | None
    ) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            matching = sorted(
                (key, kv)
                for (key, kv_label), kv in self.values.items()
                if kv_label == label and (key_filter == "*" or key == key_filter)
            )
        start = int(after or 0)
        page = [_item(key, label, kv) for key, kv in matching[start : start + self.page_size]]
        etag = '"' + hashlib.sha256(json.dumps(page).encode()).hexdigest()[:24] + '"'
        headers = {"Content-Type": "application/vnd.microsoft.appconfig.kvset+json; charset=utf-8", "ETag": etag}
        next_link = None
        if start + self.page_size < len(matching):
            next_link = f"/kv?key={quote(key_filter)}&label={quote(label or NO_LABEL)}&after={start + self.page_size}"
            headers["Link"] = f'<{next_link}>; rel="next"'
        if if_none_match == etag:
            return 304, headers, b""
        return 200, headers, json.dumps({"items": page, "@nextLink": next_link}).encode()

    def _put(self, key: str, label: str | None, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        """Sets a key-value as `PUT /kv/{key}` does (what `az appconfig kv set` and the SDK's set call send)."""
        with self.lock:
            refusal = self.write_refusals.pop(0) if self.write_refusals else None
        if refusal is not None:
            headers = {"Content-Type": "application/problem+json", "retry-after-ms": "10"}
            return refusal, headers, b'{"title":"Refused (stand-in)"}'
        document = json.loads(getattr(handler, "body", b"") or b"{}")
        self.set(key, document.get("value", ""), label=label, content_type=document.get("content_type"))
        with self.lock:
            kv = self.values[(key, label)]
        return (
            200,
            {"Content-Type": "application/vnd.microsoft.appconfig.kv+json"},
            json.dumps(_item(key, label, kv)).encode(),
        )

    def _one(self, key: str, label: str | None, if_none_match: str | None) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            kv = self.values.get((key, label))
        if kv is None:
            return 404, {"Content-Type": "application/problem+json"}, b'{"title":"Not found"}'
        etag = kv.etag(key, label)
        headers = {"Content-Type": "application/vnd.microsoft.appconfig.kv+json; charset=utf-8", "ETag": f'"{etag}"'}
        if if_none_match in (etag, f'"{etag}"'):
            return 304, headers, b""
        return 200, headers, json.dumps(_item(key, label, kv)).encode()


class FakeKeyVault(_HttpsServer):
    """Key Vault's secrets: the 401 bearer challenge first (as Key Vault does), then the secret."""

    def __init__(self, certificate_dir: Path) -> None:
        super().__init__(certificate_dir)
        self.faults = Faults()
        self.secrets: dict[str, str] = {}

    def secret_uri(self, name: str) -> str:
        return f"{self.url}/secrets/{name}"

    def secret_reads(self, since: float = 0.0) -> int:
        """Secret requests that carried a token (the challenge round trips are not reads)."""
        with self.lock:
            return sum(1 for r in self.requests if r.path.startswith("/secrets/") and r.authorized and r.at >= since)

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        if not handler.headers.get("Authorization", "").startswith("Bearer " + FAKE_TOKEN_PREFIX):
            challenge = (
                'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001", '
                f'resource="{KEY_VAULT_RESOURCE}"'
            )
            return 401, {"WWW-Authenticate": challenge, "Content-Type": "application/json"}, b'{"error":{}}'
        if self.faults.mode == "down":
            return 503, {"Content-Type": "application/json"}, b'{"error":{"code":"ServiceUnavailable"}}'
        segments = [s for s in urlsplit(handler.path).path.split("/") if s]
        if segments == ["secrets"]:
            return self._names()
        name = segments[1] if len(segments) >= 2 and segments[0] == "secrets" else ""
        with self.lock:
            value = self.secrets.get(name)
        if value is None:
            return 404, {"Content-Type": "application/json"}, b'{"error":{"code":"SecretNotFound"}}'
        version = hashlib.sha256(value.encode()).hexdigest()[:32]
        body = {"value": value, "id": f"{self.url}/secrets/{name}/{version}", "attributes": {"enabled": True}}
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()

    def _names(self) -> tuple[int, dict[str, str], bytes]:
        """`GET /secrets`: the secrets' ids and attributes, never their values (what list permission shows)."""
        with self.lock:
            items = [{"id": f"{self.url}/secrets/{name}", "attributes": {"enabled": True}} for name in self.secrets]
        body = {"value": items, "nextLink": None}
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode()


@dataclass
class AzureStandIns:
    store: FakeAppConfiguration
    vault: FakeKeyVault
    credential: FakeCredential = field(default_factory=FakeCredential)

    def store_factory(self, **overrides: Any) -> Any:
        """A StoreLoaderFactory building the real AppConfigurationStore, pointed at the stand-ins."""
        from shared.app_configuration import AppConfigurationStore
        from shared.settings import ALL_SETTING_NAMES

        # Test-only transport settings: trust the test certificate; retry quickly (the SDKs' defaults back off
        # for seconds). Key Vault names vault.azure.net in its challenge, which cannot match a loopback host,
        # so only here the Key Vault client's challenge-resource check is off.
        fast_retries = {"retry_backoff_factor": 0.01, "retry_total": 2}
        vault_config = {
            "connection_verify": self.vault.ca_file,
            "verify_challenge_resource": False,
            **fast_retries,
            "retry_total": 1,
        }

        def factory(options: Any) -> AppConfigurationStore:
            return AppConfigurationStore(
                options,
                ALL_SETTING_NAMES,
                credential=self.credential,
                client_options={"connection_verify": self.store.ca_file, **fast_retries, **overrides},
                keyvault_client_configs={self.vault.url + "/": vault_config},
                key_vault_host_suffixes=("localhost",),
            )

        return factory


@contextmanager
def running_azure_stand_ins(certificate_dir: Path, page_size: int = 100) -> Iterator[AzureStandIns]:
    stand_ins = AzureStandIns(FakeAppConfiguration(certificate_dir, page_size), FakeKeyVault(certificate_dir))
    stand_ins.store.start()
    stand_ins.vault.start()
    try:
        yield stand_ins
    finally:
        stand_ins.store.stop()
        stand_ins.vault.stop()
