"""The key cache: Microsoft's refresh rules, against a real loopback key endpoint, with a clock the test moves."""

from __future__ import annotations

import logging
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.errors import ContactTokenError
from shared.openid import KEY_SET_MAX_AGE_SECONDS, UNKNOWN_KID_MIN_GAP_SECONDS
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.service import FakeClock, base_settings, make_service
from tools.testkit.tokens import SigningKey, access_token


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


# One second after start-up: Microsoft.IdentityModel honours the first RequestRefresh at once, whatever loaded
# just before it; five minutes after: the interval has passed anyway.
@pytest.mark.parametrize("after_seconds", [1, UNKNOWN_KID_MIN_GAP_SECONDS], ids=["one-second", "five-minutes"])
def test_a_new_key_after_start_up_is_accepted_after_exactly_one_fetch(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey], after_seconds: int
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"  # the start-up load
    fake_entra.state.keys.append(signing_keys[1])  # Entra starts signing with a new key
    clock.advance(after_seconds)
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


def test_an_unknown_kid_flood_right_after_start_up_costs_one_fetch_in_five_minutes(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    made_up = [SigningKey(f"made-up-{n}", signing_keys[2].private_key) for n in range(UNKNOWN_KID_MIN_GAP_SECONDS)]
    for key in made_up[:-1]:  # one made-up kid a second for the whole interval
        assert code_of(service, access_token(key)) == "unknown_signing_key"
        clock.advance(1)
    assert fake_entra.fetch_count("keys") == 2  # start-up, and one refresh for the whole flood
    assert code_of(service, access_token(fake_entra.key)) == "ok"  # real users served throughout
    clock.advance(1)
    assert code_of(service, access_token(made_up[-1])) == "unknown_signing_key"
    assert fake_entra.fetch_count("keys") == 3  # the next interval allows the next refresh


def test_a_second_new_key_soon_after_an_unknown_kid_refresh_waits_for_the_interval(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    assert code_of(service, access_token(signing_keys[2])) == "unknown_signing_key"  # uses the first refresh
    fake_entra.state.keys.append(signing_keys[1])
    clock.advance(10)
    assert code_of(service, access_token(signing_keys[1])) == "unknown_signing_key"
    clock.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
    assert code_of(service, access_token(signing_keys[1])) == "ok"
    assert fake_entra.fetch_count("keys") == 3


@pytest.mark.parametrize("requested_before", [False, True], ids=["first-request", "after-a-request"])
def test_the_daily_refresh_neither_uses_up_nor_resets_the_unknown_kid_allowance(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey], requested_before: bool
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    if requested_before:
        assert code_of(service, access_token(signing_keys[2])) == "unknown_signing_key"  # a requested refresh
    clock.advance(KEY_SET_MAX_AGE_SECONDS + 1)
    assert code_of(service, access_token(fake_entra.key)) == "ok"  # due: the scheduled refresh starts
    service.join_background()
    fetches = fake_entra.fetch_count("keys")
    assert fetches == (4 if requested_before else 3) - 1
    fake_entra.state.keys.append(signing_keys[1])
    clock.advance(1)  # a second after the scheduled refresh: still allowed, it was not a requested one
    assert code_of(service, access_token(signing_keys[1])) == "ok"
    assert fake_entra.fetch_count("keys") == fetches + 1


def test_a_key_withdrawn_with_a_rollover_is_refused_after_the_refresh_the_new_kid_triggers(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey]
) -> None:
    fake_entra.state.keys.append(signing_keys[1])
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(signing_keys[1])) == "ok"
    fake_entra.state.keys.remove(signing_keys[1])  # Entra withdraws a key and publishes another
    fake_entra.state.keys.append(signing_keys[2])
    clock.advance(1)
    assert code_of(service, access_token(signing_keys[2])) == "ok"
    assert code_of(service, access_token(signing_keys[1])) == "unknown_signing_key"
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    assert fake_entra.fetch_count("keys") == 2


@pytest.mark.parametrize("failure", ["error", "garbage", "no-keys", "hang-up"])
def test_keys_endpoint_down_after_warm_up_still_serves(
    fake_entra: FakeEntra, clock: FakeClock, signing_keys: list[SigningKey], failure: str
) -> None:
    service = service_for(fake_entra, clock)
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    fake_entra.state.keys_mode = failure
    clock.advance(KEY_SET_MAX_AGE_SECONDS + 1)  # due for the daily refresh, which fails
    assert code_of(service, access_token(fake_entra.key)) == "ok"
    service.join_background()
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
    service.join_background()
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
        thread.join(60)
    assert results == ["ok"] * 16
    assert (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys")) == (1, 1)


def test_callers_that_waited_out_a_slow_failing_cold_load_share_it() -> None:
    """A dead endpoint that takes longer than the cold retry gap must cost one load, not one per waiting caller."""
    from shared.refreshing import RefreshingValue

    clock = FakeClock(0.0)
    loads: list[float] = []
    started = threading.Event()

    def slow_failure() -> None:
        loads.append(clock.now)
        started.set()
        clock.advance(10)  # slower than retry_empty_after: the old rule started a new load for each waiter
        raise OSError("unreachable")

    value = RefreshingValue(slow_failure, name="test", max_age=100, min_gap=300, retry_empty_after=5, clock=clock)
    first = threading.Thread(target=value.get)
    first.start()
    assert started.wait(60)
    waiters = [threading.Thread(target=value.get) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    for thread in (first, *waiters):
        thread.join(60)
    assert len(loads) == 1


def test_an_rsa_key_under_2048_bits_is_never_used_and_logged_once(
    fake_entra: FakeEntra, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """RFC 7518 section 3.3: RS256 keys are 2048 bits or more. A token signed with a shorter key in the set gets
    what an unknown key gets, after the unknown-kid refresh rule ran; the skipped kid is logged once."""
    weak = SigningKey("weak-1024", rsa.generate_private_key(public_exponent=65537, key_size=1024))  # noqa: S505
    fake_entra.state.keys.append(weak)
    service = service_for(fake_entra, clock)
    with caplog.at_level(logging.WARNING, logger="shared.openid"):
        assert code_of(service, access_token(fake_entra.key)) == "ok"
        assert code_of(service, access_token(weak)) == "unknown_signing_key"
        assert fake_entra.fetch_count("keys") == 2  # the unknown-kid refresh ran, and still found no usable key
        clock.advance(KEY_SET_MAX_AGE_SECONDS + 1)
        assert code_of(service, access_token(fake_entra.key)) == "ok"
        service.join_background()
    skipped = [record.getMessage() for record in caplog.records if "weak-1024" in record.getMessage()]
    assert skipped == [
        "ignoring signing key 'weak-1024': an RSA key of 1024 bits; RS256 needs at least 2048 (RFC 7518 3.3)"
    ]
