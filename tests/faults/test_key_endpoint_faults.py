"""Faults of the identity provider's endpoints, through the HTTP function: the expected answer for each, bounded
waiting, and no lost request that could have been served.

Entra is a real loopback server (tools/testkit/fake_entra.py) told to misbehave; time passes on FakeClocks
(never by sleeping), except where the fault *is* wall time (a slow or dripping server), which is kept short by
lowering the client's timeouts for the test. tests/shared/test_signing_keys.py covers the cache rules one by
one; this module is about the faults an operator will meet.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import shared.http_json
from shared.openid import COLD_RETRY_SECONDS, KEY_SET_MAX_AGE_SECONDS, UNKNOWN_KID_MIN_GAP_SECONDS
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import FunctionAnswer, call_function, function_using
from tools.testkit.service import FakeClock, base_settings, make_service
from tools.testkit.tokens import SigningKey, access_token

HOUR = 3600.0


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock(1000.0)


@contextmanager
def function_on(entra: FakeEntra, monotonic: FakeClock) -> Iterator[Callable[[], None]]:
    """The function, cold, on `entra`; yields a callable that waits for a background key refresh to finish."""
    service = make_service(base_settings(entra.authority), monotonic=monotonic)
    with function_using(service):
        yield lambda: service.join_background()


def ask(key: SigningKey) -> FunctionAnswer:
    return call_function(f"Bearer {access_token(key)}")


def assert_unavailable(answer: FunctionAnswer) -> None:
    assert (answer.status, answer.code) == (503, "signing_keys_unavailable")
    assert answer.headers["Retry-After"] == str(int(COLD_RETRY_SECONDS) + 1)


def test_a_slow_key_endpoint_within_the_timeouts_still_serves(fake_entra: FakeEntra, monotonic: FakeClock) -> None:
    fake_entra.state.delay_seconds = 0.3
    with function_on(fake_entra, monotonic):
        assert ask(fake_entra.key).status == 200


def test_a_key_endpoint_slower_than_the_read_timeout_is_abandoned_then_retried(
    fake_entra: FakeEntra, monotonic: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The server would answer after 1 s; the client stops waiting at its read timeout (0.2 s here)."""
    monkeypatch.setattr(shared.http_json, "READ_TIMEOUT_SECONDS", 0.2)
    fake_entra.state.delay_seconds = 1.0
    with function_on(fake_entra, monotonic):
        assert_unavailable(ask(fake_entra.key))
        assert "ReadTimeout" in caplog.text  # it gave up: the server's answer was never read
        fake_entra.state.delay_seconds = 0.0
        assert_unavailable(ask(fake_entra.key))  # within the cold retry gap: a fast 503, no new fetch
        assert fake_entra.fetch_count("metadata") == 1
        monotonic.advance(COLD_RETRY_SECONDS)
        assert ask(fake_entra.key).status == 200


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


@pytest.mark.parametrize(
    ("endpoint", "mode"),
    [
        ("metadata", "garbage"),
        ("metadata", "gone"),
        ("metadata", "hang-up"),
        ("metadata", "no-keys"),  # a JSON object without issuer and jwks_uri
        ("keys", "gone"),
    ],
)
def test_a_broken_endpoint_at_cold_start_is_a_fast_503_until_it_recovers(
    fake_entra: FakeEntra, monotonic: FakeClock, endpoint: str, mode: str
) -> None:
    setattr(fake_entra.state, f"{endpoint}_mode", mode)
    with function_on(fake_entra, monotonic):
        for _ in range(20):  # a burst inside the retry gap costs one fetch, not twenty
            assert_unavailable(ask(fake_entra.key))
        assert fake_entra.fetch_count(endpoint) == 1
        setattr(fake_entra.state, f"{endpoint}_mode", "ok")
        monotonic.advance(COLD_RETRY_SECONDS)
        assert ask(fake_entra.key).status == 200


def test_keys_removed_after_warm_up_serve_a_week_from_cache_with_bounded_retries(
    fake_entra: FakeEntra, monotonic: FakeClock, signing_keys: list[SigningKey]
) -> None:
    """The key endpoint answers 404 from the first hour on: every request of the next week is still served
    (the keys it needs were cached), retries stay at most one per 5 minutes, and unknown keys stay refused."""
    with function_on(fake_entra, monotonic) as join_background:
        assert ask(fake_entra.key).status == 200
        fake_entra.state.keys_mode = "gone"
        for _hour in range(7 * 24):
            monotonic.advance(HOUR)
            assert ask(fake_entra.key).status == 200
            join_background()
        assert ask(signing_keys[2]).code == "unknown_signing_key"
    elapsed = 7 * 24 * HOUR
    attempts = fake_entra.fetch_count("keys")
    assert attempts <= 1 + elapsed / UNKNOWN_KID_MIN_GAP_SECONDS
    assert attempts >= 1 + 7 * 24 - 24  # it keeps trying (hourly here, once the set is a day old)


def test_a_key_rotation_loses_no_request(
    fake_entra: FakeEntra, monotonic: FakeClock, signing_keys: list[SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    """Entra's rollover: a new key is published, later used, and the old one withdrawn later still.

    Tokens signed with either key are served while Entra lists it; after the withdrawal, the old key stops
    working at the next refresh. The daily refresh finds the new key before it is used, so rotation costs no
    extra fetch and no refused request."""
    old, new = signing_keys[0], signing_keys[1]
    fake_entra.state.keys = [old]
    with function_on(fake_entra, monotonic) as join_background:
        assert ask(old).status == 200
        monotonic.advance(HOUR)
        fake_entra.state.keys = [old, new]  # published, not yet used
        monotonic.advance(KEY_SET_MAX_AGE_SECONDS)  # the daily refresh is due
        assert ask(old).status == 200  # served from cache while the refresh runs in the background
        join_background()
        assert fake_entra.fetch_count("keys") == 2
        monotonic.advance(HOUR)
        assert ask(new).status == 200  # Entra signs with the new key: already known, no fetch
        assert ask(old).status == 200  # tokens signed before the switch are still valid
        fake_entra.state.keys = [new]  # the old key is withdrawn
        monotonic.advance(KEY_SET_MAX_AGE_SECONDS)
        assert ask(old).status == 200  # until the refresh completes, the old key is still known
        join_background()
        assert ask(new).status == 200
        assert fake_entra.fetch_count("keys") == 3  # the whole rollover: the daily refreshes only
        assert ask(old).code == "unknown_signing_key"  # its first unknown-kid refresh runs at once, and
        assert fake_entra.fetch_count("keys") == 4  # the new set still does not list the withdrawn key
    assert "could not be loaded" not in caplog.text


def test_a_key_endpoint_that_breaks_while_a_refresh_is_due_keeps_serving(
    fake_entra: FakeEntra, monotonic: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with function_on(fake_entra, monotonic) as join_background:
        assert ask(fake_entra.key).status == 200
        fake_entra.state.metadata_mode = "error"
        monotonic.advance(KEY_SET_MAX_AGE_SECONDS)
        assert ask(fake_entra.key).status == 200
        join_background()
        assert ask(fake_entra.key).status == 200
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "keeping the last good" in r.message]
    assert warnings, "the failed refresh is reported to the operator"
