"""The key cache: Microsoft's refresh rules, against a real loopback key endpoint, with a clock the test moves."""

from __future__ import annotations

import threading

import pytest

from shared.errors import ContactTokenError
from shared.openid import KEY_SET_MAX_AGE_SECONDS, UNKNOWN_KID_MIN_GAP_SECONDS
from tests.support.fake_entra import FakeEntra
from tests.support.service import FakeClock, base_settings, make_service
from tests.support.tokens import SigningKey, access_token


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


def service_for(fake_entra: FakeEntra, clock: FakeClock):
    return make_service(base_settings(fake_entra.authority), monotonic=clock)


def code_of(service, token: str) -> str:
    try:
        service.issue(f"Bearer {token}")
    except ContactTokenError as error:
        return error.code
    return "ok"


def test_steady_state_makes_no_network_call(fake_entra: FakeEntra, clock: FakeClock) -> None:
    service = service_for(fake_entra, clock)
    for _ in range(20):
        assert code_of(service, access_token(fake_entra.key)) == "ok"
        clock.advance(60)
    assert (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys")) == (1, 1)


def test_a_rotated_key_is_accepted_after_one_refresh(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    fake_entra.state.keys.append(signing_keys[1])  # Entra publishes a new key
    clock.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
    assert code_of(service, access_token(signing_keys[1])) == "ok"
    assert fake_entra.fetch_count("keys") == 2


def test_an_unknown_kid_flood_costs_at_most_one_fetch_per_interval(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    clock.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
    stranger = signing_keys[2]
    for _ in range(200):
        assert code_of(service, access_token(stranger)) == "unknown_signing_key"
        clock.advance(1)
    assert fake_entra.fetch_count("keys") == 2  # the warm-up and one refresh in 200 s
    clock.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
    assert code_of(service, access_token(stranger)) == "unknown_signing_key"
    assert fake_entra.fetch_count("keys") == 3


def test_a_new_key_right_after_a_refresh_waits_for_the_interval(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    fake_entra.state.keys.append(signing_keys[1])
    clock.advance(10)
    assert code_of(service, access_token(signing_keys[1])) == "unknown_signing_key"
    clock.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
    assert code_of(service, access_token(signing_keys[1])) == "ok"


@pytest.mark.parametrize("failure", ["error", "garbage", "no-keys", "hang-up"])
def test_keys_endpoint_down_after_warm_up_still_serves(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey], failure: str
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    fake_entra.state.keys_mode = failure
    clock.advance(KEY_SET_MAX_AGE_SECONDS + 1)  # due for the daily refresh, which fails
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    service.provider_for(service.configuration.current()).join_background()
    clock.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
    assert code_of(service, access_token(signing_keys[2])) == "unknown_signing_key"  # refresh fails again
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    assert fake_entra.fetch_count("keys") == 3


@pytest.mark.parametrize("failure", ["error", "garbage", "no-keys", "hang-up"])
def test_cold_with_the_keys_endpoint_down_is_503_and_recovers(
    fake_entra: FakeEntra, clock: FakeClock, failure: str
) -> None:
    fake_entra.state.keys_mode = failure
    service = service_for(fake_entra, clock)
    with pytest.raises(ContactTokenError) as caught:
        service.issue(f"Bearer {access_token(fake_entra.key)}")
    assert (caught.value.status, caught.value.code) == (503, "signing_keys_unavailable")
    assert caught.value.retry_after_seconds > 0
    fake_entra.state.keys_mode = "ok"
    assert code_of(service, access_token(fake_entra.key)) == "signing_keys_unavailable"  # no retry storm
    clock.advance(10)
    assert code_of(service, access_token(fake_entra.key)) == "ok"


def test_metadata_endpoint_down_cold_is_503(fake_entra: FakeEntra, clock: FakeClock) -> None:
    fake_entra.state.metadata_mode = "error"
    assert code_of(service_for(fake_entra, clock), access_token(fake_entra.key)) == "signing_keys_unavailable"
    assert fake_entra.fetch_count("keys") == 0


def test_a_withdrawn_key_is_refused_after_the_next_refresh(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    fake_entra.state.keys.append(signing_keys[1])
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(signing_keys[1])) == "ok"
    fake_entra.state.keys.remove(signing_keys[1])
    clock.advance(KEY_SET_MAX_AGE_SECONDS + 1)
    assert code_of(service, access_token(signing_keys[1])) == "ok"  # served while the refresh runs
    service.provider_for(service.configuration.current()).join_background()
    clock.advance(1)
    assert code_of(service, access_token(signing_keys[1])) == "unknown_signing_key"


def test_concurrent_cold_requests_share_one_fetch(fake_entra: FakeEntra, clock: FakeClock) -> None:
    fake_entra.state.delay_seconds = 0.2  # keep the first fetch in flight while the others arrive
    service = service_for(fake_entra, clock)
    token = access_token(fake_entra.key)
    results: list[str] = []
    start = threading.Barrier(16)

    def call() -> None:
        start.wait()
        results.append(code_of(service, token))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == ["ok"] * 16
    assert (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys")) == (1, 1)
