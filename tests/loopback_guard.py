"""pytest plugin (loaded by tests/conftest.py for the whole suite): tests never leave loopback, DNS included.

- A Python audit hook (PEP 578) sees every `socket.connect`, `socket.sendto`, `socket.getaddrinfo`,
  `socket.gethostbyname(_ex)`, `socket.gethostbyaddr` and `socket.getnameinfo` of this process, in any thread. A
  destination or name outside 127.0.0.0/8, ::1 and `localhost` is refused there (LoopbackViolation, an OSError,
  raised before any packet leaves) and recorded.
- A test during which one was recorded fails at teardown, naming the call, the destination and the thread: code
  that swallows the OSError (a credential chain trying its next source) cannot hide it. One outside any test
  fails the session.
- The Azure credential chain is pinned for the session (AZURE_TOKEN_CREDENTIALS=EnvironmentCredential, with no
  credential variables set): DefaultAzureCredential never probes the managed-identity endpoint 169.254.169.254.
  Subprocesses inherit that environment.
- Subprocesses (Node's OpenID provider, Chromium, the local runner) are outside an audit hook: Chromium gets
  --host-resolver-rules (tests/static_spa/browser.py), and tools/loopback_trace.py traces a whole run with strace.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.session_checks import fail_session_on, fail_test_on, write_summary

LOOPBACK_NAMES = frozenset({"localhost", "localhost."})
# getaddrinfo(None / "" / a wildcard, port) prepares a listening socket: no name is looked up, no packet is sent.
BIND_WILDCARDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - compared with, never bound
# Credentials DefaultAzureCredential would otherwise find in a developer's or runner's environment.
AZURE_CREDENTIAL_VARIABLES = (
    "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_USERNAME",
    "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT",
    "MSI_SECRET",
)  # fmt: skip


class LoopbackViolation(OSError):
    """A test tried to reach or resolve something outside loopback."""


@dataclass(frozen=True)
class Violation:
    test: str | None
    call: str
    destination: str
    thread: str

    def __str__(self) -> str:
        return f"{self.call}({self.destination}) in thread {self.thread!r} ({self.test or 'outside any test'})"


def is_loopback_host(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False  # a name: resolving it asks the machine's resolver, which may ask the network
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _inet_destination(args: tuple[Any, ...]) -> object | None:
    """The host of a connect/sendto on an internet socket; None for other families (Unix sockets, netlink)."""
    sock, address = args[0], args[1]
    if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
        return None
    return address[0] if isinstance(address, tuple) and address else address


class Guard:
    def __init__(self) -> None:
        self.current_test: str | None = None
        self.checked = 0
        self.violations: list[Violation] = []
        self._lock = threading.Lock()

    def destination_of(self, event: str, args: tuple[Any, ...]) -> tuple[object, bool] | None:
        """(host, allowed) for a network event, None for any other event."""
        if event in ("socket.connect", "socket.sendto"):
            host = _inet_destination(args)
            return None if host is None else (host, is_loopback_host(host))
        if event == "socket.getaddrinfo":
            host = args[0]
            return host, host is None or host in BIND_WILDCARDS or is_loopback_host(host)
        if event in ("socket.gethostbyname", "socket.gethostbyaddr"):
            return args[0], is_loopback_host(args[0])
        if event == "socket.getnameinfo":
            address = args[0]
            host = address[0] if isinstance(address, tuple) and address else address
            return host, is_loopback_host(host)
        return None

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not event.startswith("socket."):  # the hook sees every audited event: leave the others at once
            return
        found = self.destination_of(event, args)
        if found is None:
            return
        host, allowed = found
        with self._lock:
            self.checked += 1
            if allowed:
                return
            violation = Violation(self.current_test, event, repr(host), threading.current_thread().name)
            self.violations.append(violation)
        raise LoopbackViolation(f"tests stay on loopback: {violation}")

    def take(self, test: str | None = None, *, everything: bool = False) -> list[Violation]:
        with self._lock:
            taken = [v for v in self.violations if everything or v.test == test]
            self.violations = [v for v in self.violations if v not in taken]
        return taken


_guard = Guard()
_state: dict[str, Any] = {}


def pin_azure_credentials(environ: Any = os.environ) -> None:
    """DefaultAzureCredential with only EnvironmentCredential, and no credential in the environment: it fails at
    once, locally, instead of probing the instance metadata service (169.254.169.254) or running `az`."""
    for name in AZURE_CREDENTIAL_VARIABLES:
        environ.pop(name, None)
    environ["AZURE_TOKEN_CREDENTIALS"] = "EnvironmentCredential"


def pytest_configure(config: pytest.Config) -> None:
    pin_azure_credentials()
    if not getattr(sys, "_connect_sso_loopback_guard", False):  # audit hooks cannot be removed: install once
        sys.addaudithook(lambda event, args: _guard.audit(event, args))
        sys._connect_sso_loopback_guard = True  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _stays_on_loopback(request: pytest.FixtureRequest) -> Iterator[None]:
    _guard.current_test = request.node.nodeid
    yield
    _guard.current_test = None
    fail_test_on(_guard.take(request.node.nodeid), "left loopback")


@pytest.fixture
def loopback_guard() -> Guard:
    """The session's guard, for tests that prove it catches a violation."""
    return _guard


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stray = _guard.take(everything=True)
    _state["stray"] = stray
    fail_session_on(session, stray)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_summary(
        terminalreporter,
        "loopback guard",
        f"{_guard.checked} connects, sends and name lookups checked: ",
        _state.get("stray", []),
        clean="none left loopback outside the tests' own checks",
        dirty="LEFT LOOPBACK outside any test",
    )
