"""Many threads at once: through a cold start (one metadata and one key fetch, the same answers as one at a
time) and in an unknown-`kid` flood (at most one key fetch per refresh interval, valid users still served).

Threads call `function_app.aws_connect_jwt` for real; Entra is a loopback server whose answers are delayed so
that the threads pile up on the first fetch. Wall time is a FakeClock, so serial and concurrent answers are
comparable byte for byte.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from shared.openid import UNKNOWN_KID_MIN_GAP_SECONDS
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import FunctionAnswer, call_function, function_using
from tools.testkit.service import FakeClock, base_settings, make_service
from tools.testkit.tokens import SigningKey, access_token, entra_v2_claims

THREADS = 48


def all_at_once(calls: list[Callable[[], FunctionAnswer]]) -> list[FunctionAnswer]:
    """Runs every call on its own thread, released together by a barrier; answers in the order of `calls`."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], FunctionAnswer]) -> FunctionAnswer:
        barrier.wait(60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def comparable(answer: FunctionAnswer) -> tuple[int, str]:
    return answer.status, answer.text


def user_tokens(key: SigningKey) -> list[str]:
    """Six users, plus three refusals, so the comparison covers both kinds of answer."""
    users = [
        access_token(key, entra_v2_claims(oid=str(uuid.UUID(int=index)), name=f"User {index}")) for index in range(6)
    ]
    refused = [
        access_token(key, entra_v2_claims(scp="User.Read")),
        access_token(key, entra_v2_claims(aud="someone-else")),
        access_token(key)[:-4] + "AAAA",
    ]
    return users + refused


def flood_with_users_served(fake_entra: FakeEntra, label: str) -> None:
    """32 tokens with made-up kids and 16 real users' tokens, all at once: the users are served."""
    strangers = [SigningKey(f"{label}-{n}", fake_entra.key.private_key) for n in range(32)]
    flood = [lambda key=key: call_function(f"Bearer {access_token(key)}") for key in strangers]
    users = [lambda: call_function(f"Bearer {access_token(fake_entra.key)}")] * 16
    answers = all_at_once(flood + users)
    assert {answer.code for answer in answers[: len(flood)]} == {"unknown_signing_key"}
    assert {answer.status for answer in answers[len(flood) :]} == {200}


def test_a_cold_start_under_load_fetches_once_and_answers_as_if_serial(fake_entra: FakeEntra) -> None:
    tokens = user_tokens(fake_entra.key)
    wall = FakeClock(time.time())
    serial_entra_settings = base_settings(fake_entra.authority)

    with function_using(make_service(serial_entra_settings, clock=wall, monotonic=FakeClock(0.0))):
        serial = {token: comparable(call_function(f"Bearer {token}")) for token in tokens}
    fake_entra.state.requests.update(metadata=0, keys=0)

    fake_entra.state.delay_seconds = 0.2  # the first fetch is still in flight when every thread arrives
    workload = [tokens[index % len(tokens)] for index in range(THREADS)]
    with function_using(make_service(serial_entra_settings, clock=wall, monotonic=FakeClock(0.0))):
        answers = all_at_once([lambda token=token: call_function(f"Bearer {token}") for token in workload])

    assert (fake_entra.fetch_count("metadata"), fake_entra.fetch_count("keys")) == (1, 1)
    assert [comparable(answer) for answer in answers] == [serial[token] for token in workload]
    assert any(answer.status == 200 for answer in answers)


def test_a_cold_start_with_the_provider_down_costs_one_fetch_for_the_whole_crowd(fake_entra: FakeEntra) -> None:
    fake_entra.state.keys_mode = "error"
    fake_entra.state.delay_seconds = 0.2
    with function_using(make_service(base_settings(fake_entra.authority), monotonic=FakeClock(0.0))):
        answers = all_at_once([lambda: call_function(f"Bearer {access_token(fake_entra.key)}")] * THREADS)
    assert {(answer.status, answer.code) for answer in answers} == {(503, "signing_keys_unavailable")}
    assert fake_entra.fetch_count("keys") == 1


def test_an_unknown_kid_flood_costs_one_fetch_per_interval_and_real_users_are_served(fake_entra: FakeEntra) -> None:
    intervals = 4
    monotonic = FakeClock(1000.0)
    with function_using(make_service(base_settings(fake_entra.authority), monotonic=monotonic)):
        assert call_function(f"Bearer {access_token(fake_entra.key)}").status == 200
        for interval in range(1, intervals + 1):
            monotonic.advance(UNKNOWN_KID_MIN_GAP_SECONDS)
            flood_with_users_served(fake_entra, f"stranger-{interval}")
            assert fake_entra.fetch_count("keys") == 1 + interval  # 32 unknown kids, one fetch


def test_an_unknown_kid_flood_right_after_start_up_costs_one_fetch_in_five_minutes(fake_entra: FakeEntra) -> None:
    """An attacker sending made-up kids from the instance's first second: one refresh, then nothing for 5 min."""
    monotonic = FakeClock(1000.0)
    waves = 10
    with function_using(make_service(base_settings(fake_entra.authority), monotonic=monotonic)):
        assert call_function(f"Bearer {access_token(fake_entra.key)}").status == 200  # the start-up load
        monotonic.advance(1)
        for wave in range(waves):  # 48 threads at once, every 30 s, for the whole interval
            flood_with_users_served(fake_entra, f"made-up-{wave}")
            monotonic.advance((UNKNOWN_KID_MIN_GAP_SECONDS - 1) / waves)
        fetches_in_interval = fake_entra.fetch_count("keys") - 1
        print(f"\n{waves * 32} made-up kids in {UNKNOWN_KID_MIN_GAP_SECONDS} s: {fetches_in_interval} key fetch(es)")
        assert fetches_in_interval == 1
        monotonic.advance(1)
        assert call_function(f"Bearer {access_token(SigningKey('made-up-next', fake_entra.key.private_key))}").code
        assert fake_entra.fetch_count("keys") == 3  # the next interval allows the next one
