"""App Configuration unreachable before and after warm-up, through the HTTP function.

Azure App Configuration and Key Vault cannot exist here, so the real loader (shared/app_configuration.py) runs
with its two SDK calls stood in for by `StandInStore` below; everything else (layering over the environment,
the refresh rules, the HTTP answers) is the product's code. Time passes on a FakeClock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import jwt as pyjwt
import pytest

from shared.app_configuration import KEY_VAULT_REFERENCE_CONTENT_TYPE, AppConfigurationLoader
from shared.configuration import ALL_NAMES, APP_CONFIG_COLD_RETRY_SECONDS, APP_CONFIG_REFRESH_SECONDS
from shared.contact_token_service import ContactTokenService
from tests.support.fake_entra import FakeEntra
from tests.support.function_http import FunctionAnswer, call_function, function_using
from tests.support.leak_registry import REGISTRY
from tests.support.service import FakeClock, base_settings, make_service
from tests.support.tokens import access_token

STORE_WIDGET_ID = "0c0c0c0c-0000-4000-8000-0000000000c2"
STORE_SECRET = "fake-widget-secret-from-key-vault-" + "y" * 10
ROTATED_SECRET = "fake-widget-secret-rotated-in-key-vault-" + "z" * 4
SECRET_URI = "https://contoso-kv.vault.azure.net/secrets/widget-secret"


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    content_type: str | None = None


@dataclass
class StandInStore:
    """Stands in for the App Configuration and Key Vault SDK calls (Azure cannot be reached from tests)."""

    store_reachable: bool = True
    vault_reachable: bool = True
    secret: str = STORE_SECRET
    latency_seconds: float = 0.0
    store_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def list_settings(self, label: str | None) -> Iterable[Setting]:
        with self.lock:
            self.store_calls += 1
        time.sleep(self.latency_seconds)  # a network call takes time: lets concurrent callers pile up on it
        if not self.store_reachable:
            raise ConnectionError("App Configuration unreachable (stand-in)")
        return [
            Setting("CONNECT_WIDGET_ID", STORE_WIDGET_ID),
            Setting("CONNECT_WIDGET_SECRET", f'{{"uri":"{SECRET_URI}"}}', KEY_VAULT_REFERENCE_CONTENT_TYPE),
        ]

    def read_secret(self, vault: str, name: str, version: str | None) -> str:
        if not self.vault_reachable:
            raise ConnectionError("Key Vault unreachable (stand-in)")
        return self.secret


@pytest.fixture
def store() -> StandInStore:
    return StandInStore()


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock(1000.0)


@dataclass
class Deployed:
    entra: FakeEntra
    service: ContactTokenService

    def join_background(self) -> None:
        """Waits for background refreshes (settings, then keys) to finish."""
        self.service.configuration.join_background()
        self.service.provider_for(self.service.configuration.current()).join_background()


@pytest.fixture
def function(fake_entra: FakeEntra, store: StandInStore, monotonic: FakeClock) -> Iterator[Deployed]:
    """The function configured with APP_CONFIG_ENDPOINT; the environment has no widget settings at all."""
    settings = base_settings(
        fake_entra.authority,
        APP_CONFIG_ENDPOINT="https://contoso.azconfig.io",
        CONNECT_WIDGET_ID=None,
        CONNECT_WIDGET_SECRET=None,
    )

    def loader(endpoint: str, label: str | None) -> AppConfigurationLoader:
        return AppConfigurationLoader(
            endpoint, label, ALL_NAMES, list_settings=store.list_settings, read_secret=store.read_secret
        )

    with function_using(make_service(settings, monotonic=monotonic, store_loader_factory=loader)) as service:
        yield Deployed(fake_entra, service)


def ask(function: Deployed) -> FunctionAnswer:
    return call_function(f"Bearer {access_token(function.entra.key)}")


def served_with(answer: FunctionAnswer, secret: str) -> bool:
    """A 200 whose contact token is signed with `secret` for the store's widget (checked with PyJWT)."""
    if answer.status != 200:
        return False
    REGISTRY.register_token(answer.text)
    return pyjwt.decode(answer.text, secret, algorithms=["HS256"], subject=STORE_WIDGET_ID)["sub"] == STORE_WIDGET_ID


def test_unreachable_before_warm_up_is_a_503_for_the_crowd_then_recovers(
    function: Deployed, store: StandInStore, monotonic: FakeClock
) -> None:
    store.store_reachable, store.latency_seconds = False, 0.1
    barrier = threading.Barrier(16)
    answers: list[FunctionAnswer] = []

    def caller() -> None:
        barrier.wait(10)
        answers.append(ask(function))

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert {(a.status, a.code) for a in answers} == {(503, "configuration_unavailable")}
    assert {a.headers["Retry-After"] for a in answers} == {str(int(APP_CONFIG_COLD_RETRY_SECONDS) + 1)}
    assert store.store_calls == 1  # sixteen callers, one attempt
    assert function.entra.fetch_count("keys") == 0  # no configuration, no authority to fetch keys from
    store.store_reachable = True
    assert ask(function).code == "configuration_unavailable"  # inside the retry gap: no new attempt
    monotonic.advance(APP_CONFIG_COLD_RETRY_SECONDS)
    assert served_with(ask(function), STORE_SECRET)
    assert store.store_calls == 2


def test_unreachable_after_warm_up_keeps_serving_with_one_attempt_per_refresh(
    function: Deployed, store: StandInStore, monotonic: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    assert served_with(ask(function), STORE_SECRET)
    store.store_reachable = False
    for _interval in range(10):
        monotonic.advance(APP_CONFIG_REFRESH_SECONDS)
        for _ in range(5):
            assert served_with(ask(function), STORE_SECRET)  # last good settings, no request lost
        function.join_background()
    assert store.store_calls == 1 + 10  # one attempt per refresh interval, none per request
    assert "App Configuration could not be loaded" in caplog.text
    store.store_reachable, store.secret = True, ROTATED_SECRET  # back, with a rotated widget secret
    monotonic.advance(APP_CONFIG_REFRESH_SECONDS)
    ask(function)  # triggers the refresh
    function.join_background()
    assert served_with(ask(function), ROTATED_SECRET)


def test_key_vault_unreachable_after_warm_up_keeps_the_last_good_secret(
    function: Deployed, store: StandInStore, monotonic: FakeClock
) -> None:
    assert served_with(ask(function), STORE_SECRET)
    store.vault_reachable, store.secret = False, ROTATED_SECRET
    monotonic.advance(APP_CONFIG_REFRESH_SECONDS)
    ask(function)
    function.join_background()
    assert served_with(ask(function), STORE_SECRET)  # never half-applied settings, never an empty secret


def test_store_and_key_endpoint_both_down_after_warm_up_still_serves(
    function: Deployed, store: StandInStore, monotonic: FakeClock
) -> None:
    assert served_with(ask(function), STORE_SECRET)
    store.store_reachable = False
    function.entra.state.keys_mode = function.entra.state.metadata_mode = "error"
    for _ in range(48):  # a day in half-hours
        monotonic.advance(1800)
        assert served_with(ask(function), STORE_SECRET)
        function.join_background()
