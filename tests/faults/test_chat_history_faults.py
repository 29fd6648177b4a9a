"""Faults of the chat history store: slow, down, answering garbage. A chat start never fails because of history:
the contact token is issued without previousContactId, and the failure is logged and counted; PUT answers 503.

The store is a loopback HTTPS server told to misbehave, reached by the real azure-data-tables SDK with a token
credential (Azurite cannot be made slow or broken on demand). "Slow" is wall time: it lasts the client's read
timeout (shared/chat_history.py, 2 s), once per case.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.chat_history import READ_TIMEOUT_SECONDS
from shared.telemetry import CHAT_HISTORY_METRIC
from tests.security.telemetry_hygiene import TelemetryCapture, counts_delta
from tests.support.chat_history import (
    bearer,
    code,
    contact_attributes,
    contact_body,
    persistent_settings,
    put_last,
    service_on,
)
from tools.azurite import ACCOUNT, Azurite
from tools.dev_certificate import ensure_localhost_certificate
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import function_using
from tools.testkit.tokens import USER_OID

ENTITY_JSON = "application/json;odata=minimalmetadata"
FAULTS: dict[str, tuple[int, str, bytes]] = {
    "garbage": (200, ENTITY_JSON, b"\x00\x01 this is not JSON"),
    "wrong shape": (200, ENTITY_JSON, b'{"PartitionKey": "p", "RowKey": "r", "ContactId": 42}'),
    "html error page": (502, "text/html", b"<html><body>Bad gateway</body></html>"),
    "throttled": (503, ENTITY_JSON, b'{"odata.error": {"code": "ServerBusy"}}'),
}
# A well-formed entity whose ContactId is not a contact id: never signed into a token.
NOT_A_CONTACT_ID = (
    200,
    ENTITY_JSON,
    b'{"PartitionKey": "p", "RowKey": "r", "ContactId": "../../other-contact", '
    b'"StoredAt@odata.type": "Edm.DateTime", "StoredAt": "2099-01-01T00:00:00Z"}',
)


class MisbehavingStore(ThreadingHTTPServer):
    mode = "garbage"
    release = threading.Event()  # lets a slow answer end when the test does

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a reset connection is the fault under test, not a server error to print


def _handler() -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server: MisbehavingStore

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            if self.server.mode == "slow":
                self.server.release.wait(READ_TIMEOUT_SECONDS * 3)
            if self.server.mode == "reset":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            status, content_type, body = {**FAULTS, "not a contact id": NOT_A_CONTACT_ID}[self.server.mode]
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_DELETE = do_PATCH = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def bad_store(tmp_path: Path) -> Iterator[tuple[MisbehavingStore, Azurite]]:
    """The server, and an `Azurite` describing it (endpoint and CA file) for the test helpers."""
    certificate = ensure_localhost_certificate(tmp_path / "certificate")
    server = MisbehavingStore(("127.0.0.1", 0), _handler())
    server.release = threading.Event()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server, Azurite("127.0.0.1", server.server_address[1], certificate.cert_file, None)
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize("mode", ["slow", "reset", *FAULTS])
def test_the_chat_starts_without_history_and_put_is_503(
    fake_entra: FakeEntra, bad_store: tuple[MisbehavingStore, Azurite], telemetry: TelemetryCapture, mode: str
) -> None:
    server, described = bad_store
    server.mode = mode
    assert described.endpoint.endswith(f"/{ACCOUNT}")
    before = telemetry.points()
    with function_using(service_on(persistent_settings(fake_entra.authority, described, "chathistory"), described)):
        started = time.monotonic()
        attributes = contact_attributes(bearer(fake_entra))
        waited = time.monotonic() - started
        assert attributes["userId"] == USER_OID
        assert "previousContactId" not in attributes
        refused = put_last(bearer(fake_entra), contact_body())
        assert (refused.status_code, code(refused)) == (503, "chat_history_unavailable")
        assert refused.headers["Retry-After"] == "10"
    counts = counts_delta(before, telemetry.points(), CHAT_HISTORY_METRIC)
    assert counts == {
        frozenset({("operation", "lookup"), ("outcome", "error")}): 1,
        frozenset({("operation", "store"), ("outcome", "error")}): 1,
    }
    # Reported, not asserted (no timed assertions): what a chat start waited for this fault.
    print(f"{mode}: the contact token waited {waited:.2f} s for history")


def test_a_stored_value_that_is_not_a_contact_id_is_never_signed(
    fake_entra: FakeEntra, bad_store: tuple[MisbehavingStore, Azurite], telemetry: TelemetryCapture
) -> None:
    server, described = bad_store
    server.mode = "not a contact id"
    before = telemetry.points()
    with function_using(service_on(persistent_settings(fake_entra.authority, described, "chathistory"), described)):
        attributes = contact_attributes(bearer(fake_entra))
    assert "previousContactId" not in attributes
    counts = counts_delta(before, telemetry.points(), CHAT_HISTORY_METRIC)
    assert counts == {frozenset({("operation", "lookup"), ("outcome", "error")}): 1}
