"""The session's loopback guard (tests/loopback_guard.py) catches what it must, and lets loopback through."""

from __future__ import annotations

import socket

import pytest

from tests.loopback_guard import Guard, LoopbackViolation, is_loopback_host
from tools.testkit.fake_entra import FakeEntra


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]
)
def test_loopback_destinations_are_allowed(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",
        "10.0.0.1",
        "192.0.2.1",
        "::2",
        "example.com",
        "update.googleapis.com",
        "localhost.example",
        "",
        None,
        80,
    ],
)
def test_everything_else_is_not(host: object) -> None:
    assert not is_loopback_host(host)


def test_a_name_lookup_outside_loopback_is_refused_before_it_is_sent_and_fails_the_test(
    loopback_guard: Guard,
) -> None:
    with pytest.raises(LoopbackViolation):
        socket.getaddrinfo("accounts.google.com", 443)
    taken = loopback_guard.take(loopback_guard.current_test)  # taken back, or this test would fail at teardown
    assert [(v.call, v.destination) for v in taken] == [("socket.getaddrinfo", "'accounts.google.com'")]


def test_a_connect_outside_loopback_is_refused_before_any_packet(loopback_guard: Guard) -> None:
    with socket.socket() as sock, pytest.raises(LoopbackViolation):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: would never answer anyway
    taken = loopback_guard.take(loopback_guard.current_test)
    assert [(v.call, v.destination) for v in taken] == [("socket.connect", "'192.0.2.1'")]


def test_loopback_traffic_passes(fake_entra: FakeEntra, loopback_guard: Guard) -> None:
    import requests

    assert requests.get(f"{fake_entra.authority}/.well-known/openid-configuration", timeout=30).status_code == 200
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # a listening socket's wildcard lookups are not lookups
    socket.getaddrinfo(None, 0, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    assert loopback_guard.take(loopback_guard.current_test) == []


def test_the_azure_credential_chain_never_probes_the_metadata_endpoint(loopback_guard: Guard) -> None:
    """Pinned for the session: DefaultAzureCredential fails at once, locally (no 169.254.169.254, no `az`)."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import DefaultAzureCredential

    with pytest.raises(ClientAuthenticationError):
        DefaultAzureCredential().get_token("https://azconfig.io/.default")
    assert loopback_guard.take(loopback_guard.current_test) == []
