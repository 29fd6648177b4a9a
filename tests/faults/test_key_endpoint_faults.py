"""Faults of the identity provider's endpoints, through the HTTP function: the expected answer for each, bounded
waiting, and no lost request that could have been served.

Entra is a real loopback server (tests/support/fake_entra.py) told to misbehave; time passes on FakeClocks
(never by sleeping), except where the fault *is* wall time (a slow or dripping server), which is kept short by
lowering the client's timeouts for the test. tests/shared/test_signing_keys.py covers the cache rules one by
one; this module is about the faults an operator will meet.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import shared.http_json
from shared.openid import COLD_RETRY_SECONDS
from tests.support.fake_entra import FakeEntra
from tests.support.function_http import FunctionAnswer, call_function, function_using
from tests.support.service import FakeClock, base_settings, make_service
from tests.support.tokens import SigningKey, access_token

HOUR = 3600.0


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock(1000.0)


@contextmanager
def function_on(entra: FakeEntra, monotonic: FakeClock) -> Iterator[Callable[[], None]]:
    """The function, cold, on `entra`; yields a callable that waits for a background key refresh to finish."""
    service = make_service(base_settings(entra.authority), monotonic=monotonic)
    with function_using(service):
        yield lambda: service.provider_for(service.configuration.current()).join_background()


def ask(key: SigningKey) -> FunctionAnswer:
    return call_function(f"Bearer {access_token(key)}")


def assert_unavailable(answer: FunctionAnswer) -> None:
    assert (answer.status, answer.code) == (503, "signing_keys_unavailable")
    assert answer.headers["Retry-After"] == str(int(COLD_RETRY_SECONDS) + 1)


def test_a_dripping_key_endpoint_is_cut_off_at_the_total_deadline(
    fake_entra: FakeEntra, monotonic: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte every 10 ms never trips a per-read timeout; the total deadline (0.3 s here) must.

    Regression: the reader used to fill a 16 KB chunk before looking at the deadline, so the whole key set
    (about 4 s at this pace; hours at one byte per read timeout) was read first."""
    monkeypatch.setattr(shared.http_json, "TOTAL_DEADLINE_SECONDS", 0.3)
    fake_entra.state.keys_mode = "drip"
    fake_entra.state.drip_seconds = 0.01
    whole_answer = len(json.dumps({"keys": [fake_entra.key.jwk()]}))
    with function_on(fake_entra, monotonic):
        assert_unavailable(ask(fake_entra.key))
    assert fake_entra.state.drip_bytes_sent < whole_answer // 2  # hung up long before the end
