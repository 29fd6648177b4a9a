"""App Configuration and Key Vault unreachable before and after warm-up, through the HTTP function.

The real Azure SDKs and Microsoft's provider run unmodified against the loopback HTTPS stand-ins of
tests/support/azure_stand_ins.py (only the servers and the token are stand-ins); everything else (layering over
the environment, the refresh rules, the HTTP answers) is the product's code. Our refresh runs on a FakeClock; the
provider's own timers (1 s minimum) on the wall clock, so each interval also waits just over a second for real.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import azure.functions as func
import jwt as pyjwt
import pytest

import function_app
from shared.configuration import APP_CONFIG_COLD_RETRY_SECONDS, APP_CONFIG_REFRESH_SECONDS
from shared.contact_token_service import ContactTokenService
from tests.support.azure_stand_ins import AzureStandIns
from tools.function_context import LocalContext
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import FunctionAnswer, call_function, function_using
from tools.testkit.leak_registry import REGISTRY
from tools.testkit.service import FakeClock, base_settings, make_service
from tools.testkit.tokens import access_token

STORE_WIDGET_ID = "0c0c0c0c-0000-4000-8000-0000000000c2"
STORE_SECRET = "fake-widget-secret-from-key-vault-" + "y" * 10
ROTATED_SECRET = "fake-widget-secret-rotated-in-key-vault-" + "z" * 4
SECRET_NAME = "widget-secret"
ATTEMPT_REQUESTS = 3  # one attempt: the request and the SDK's 2 retries
PROVIDER_INTERVAL_WALL_SECONDS = 1.05
REGISTRY.register_secret(STORE_SECRET)
REGISTRY.register_secret(ROTATED_SECRET)


@pytest.fixture
def store(azure: AzureStandIns) -> AzureStandIns:
    azure.vault.secrets[SECRET_NAME] = STORE_SECRET
    azure.store.set("CONNECT_WIDGET_ID", STORE_WIDGET_ID)
    azure.store.set_reference("CONNECT_WIDGET_SECRET", azure.vault.secret_uri(SECRET_NAME))
    azure.store.set("connect-sso:sentinel", "1")
    return azure


@pytest.fixture
def monotonic() -> FakeClock:
    return FakeClock(1000.0)


@dataclass
class Deployed:
    entra: FakeEntra
    service: ContactTokenService

    def join_background(self) -> None:
        """Waits for background refreshes (settings, then keys) to finish."""
        self.service.join_background()


@pytest.fixture
def function(fake_entra: FakeEntra, store: AzureStandIns, monotonic: FakeClock) -> Iterator[Deployed]:
    """The function configured with APP_CONFIG_ENDPOINT; the environment has no widget settings at all. Secrets
    are re-read every second (the provider's minimum) so that every interval below reads Key Vault too."""
    settings = base_settings(
        fake_entra.authority,
        APP_CONFIG_ENDPOINT=store.store.url,
        APP_CONFIG_SECRET_REFRESH_SECONDS="1",
        CONNECT_WIDGET_ID=None,
        CONNECT_WIDGET_SECRET=None,
    )
    service = make_service(settings, monotonic=monotonic, store_loader_factory=store.store_factory())
    with function_using(service):
        yield Deployed(fake_entra, service)


def next_interval(clock: FakeClock, seconds: float = APP_CONFIG_REFRESH_SECONDS) -> None:
    clock.advance(seconds)
    time.sleep(PROVIDER_INTERVAL_WALL_SECONDS)


def ask(function: Deployed) -> FunctionAnswer:
    return call_function(f"Bearer {access_token(function.entra.key)}")


def served_with(answer: FunctionAnswer, secret: str) -> bool:
    """A 200 whose contact token is signed with `secret` for the store's widget (checked with PyJWT)."""
    if answer.status != 200:
        return False
    REGISTRY.register_token(answer.text)
    return pyjwt.decode(answer.text, secret, algorithms=["HS256"], subject=STORE_WIDGET_ID)["sub"] == STORE_WIDGET_ID


def test_unreachable_before_warm_up_is_a_503_for_the_crowd_then_recovers(
    function: Deployed, store: AzureStandIns, monotonic: FakeClock
) -> None:
    store.store.faults.mode = "down"
    barrier = threading.Barrier(16)
    answers: list[FunctionAnswer] = []

    def caller() -> None:
        barrier.wait(60)
        answers.append(ask(function))

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert {(a.status, a.code) for a in answers} == {(503, "configuration_unavailable")}
    assert {a.headers["Retry-After"] for a in answers} == {str(int(APP_CONFIG_COLD_RETRY_SECONDS) + 1)}
    assert store.store.count() == ATTEMPT_REQUESTS  # sixteen callers, one attempt
    assert function.entra.fetch_count("keys") == 0  # no configuration, no authority to fetch keys from
    store.store.faults.mode = "ok"
    assert ask(function).code == "configuration_unavailable"  # inside the retry gap: no new attempt
    assert store.store.count() == ATTEMPT_REQUESTS
    monotonic.advance(APP_CONFIG_COLD_RETRY_SECONDS)
    assert served_with(ask(function), STORE_SECRET)


def test_unreachable_after_warm_up_keeps_serving_with_one_attempt_per_refresh(
    function: Deployed, store: AzureStandIns, monotonic: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    assert served_with(ask(function), STORE_SECRET)
    store.store.faults.mode = "down"
    for _interval in range(3):
        since = time.monotonic()
        next_interval(monotonic)
        for _ in range(5):
            assert served_with(ask(function), STORE_SECRET)  # last good settings, no request lost
        function.join_background()
        assert store.store.count(since=since) == ATTEMPT_REQUESTS  # one attempt per refresh interval, none per request
    assert "App Configuration could not be loaded" in caplog.text
    store.store.faults.mode, store.vault.secrets[SECRET_NAME] = "ok", ROTATED_SECRET  # back, with a rotated secret
    next_interval(monotonic)
    ask(function)  # triggers the refresh
    function.join_background()
    assert served_with(ask(function), ROTATED_SECRET)


def test_key_vault_unreachable_after_warm_up_keeps_the_last_good_secret(
    function: Deployed, store: AzureStandIns, monotonic: FakeClock
) -> None:
    assert served_with(ask(function), STORE_SECRET)
    store.vault.faults.mode, store.vault.secrets[SECRET_NAME] = "down", ROTATED_SECRET
    since = time.monotonic()
    next_interval(monotonic)
    ask(function)
    function.join_background()
    assert store.vault.secret_reads(since=since) == 2  # the secret refresh was attempted (and retried once)
    assert served_with(ask(function), STORE_SECRET)  # never half-applied settings, never an empty secret
    store.vault.faults.mode = "ok"  # back: the next interval reloads through a new provider and reads it again
    next_interval(monotonic)
    ask(function)
    function.join_background()
    assert served_with(ask(function), ROTATED_SECRET)


def test_store_and_key_endpoint_both_down_after_warm_up_still_serves(
    function: Deployed, store: AzureStandIns, monotonic: FakeClock
) -> None:
    assert served_with(ask(function), STORE_SECRET)
    store.store.faults.mode = store.vault.faults.mode = "down"
    function.entra.state.keys_mode = function.entra.state.metadata_mode = "error"
    for _ in range(4):  # two hours in half-hours (each failed attempt in the background takes the provider 5 s)
        next_interval(monotonic, 1800)
        assert served_with(ask(function), STORE_SECRET)
        function.join_background()


def test_a_sentinel_bump_rotates_the_widget_key_within_one_interval(
    fake_entra: FakeEntra, store: AzureStandIns, monotonic: FakeClock
) -> None:
    """The rotation runbook's "bump the sentinel": with the secret refresh at its default (600 s, far away), the
    rotated key signs the next contact token after one sentinel interval, and the old key verifies none."""
    settings = base_settings(
        fake_entra.authority, APP_CONFIG_ENDPOINT=store.store.url, CONNECT_WIDGET_ID=None, CONNECT_WIDGET_SECRET=None
    )
    service = make_service(settings, monotonic=monotonic, store_loader_factory=store.store_factory())
    with function_using(service):
        function = Deployed(fake_entra, service)
        assert served_with(ask(function), STORE_SECRET)
        store.vault.secrets[SECRET_NAME] = ROTATED_SECRET  # az keyvault secret set: a new version
        store.store.set("connect-sso:sentinel", "2")  # the bump
        next_interval(monotonic)
        ask(function)  # starts the background refresh
        function.join_background()
        answer = ask(function)
        assert served_with(answer, ROTATED_SECRET)
        with pytest.raises(pyjwt.InvalidSignatureError):
            pyjwt.decode(answer.text, STORE_SECRET, algorithms=["HS256"])


SALES_ID = "0c0c0c0c-0000-4000-8000-0000000000d1"
NEW_ID = "0c0c0c0c-0000-4000-8000-0000000000d2"
SALES_SECRET = "fake-sales-widget-key-from-key-vault-" + "s" * 8
NEW_SECRET = "fake-new-widget-key-stored-late-" + "n" * 12
REGISTRY.register_secret(SALES_SECRET)
REGISTRY.register_secret(NEW_SECRET)


def health() -> tuple[int, dict[str, object]]:
    request = func.HttpRequest("GET", "http://127.0.0.1/api/health", headers={}, params={}, route_params={}, body=b"")
    response = function_app.health(request, LocalContext("health", "."))
    return response.status_code, json.loads(response.get_body())


def test_a_widget_whose_key_vault_secret_is_missing_is_unavailable_alone(
    fake_entra: FakeEntra, store: AzureStandIns, monotonic: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Adding a widget the documented way, but its secret not stored yet: the store's reference to it answers 404.
    The default widget and the sales widget (both Key Vault references too) keep serving; the new one answers 503
    widget_unavailable after the credentials are checked; health is degraded naming it; once the secret is stored
    and the sentinel bumped, it serves within one interval."""
    store.vault.secrets["connect-widget-secret-sales"] = SALES_SECRET
    widgets = {
        SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES"},
        NEW_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_NEW"},
    }
    store.store.set("CONNECT_WIDGETS", json.dumps(widgets))
    store.store.set_reference("CONNECT_WIDGET_SECRET_SALES", store.vault.secret_uri("connect-widget-secret-sales"))
    store.store.set_reference("CONNECT_WIDGET_SECRET_NEW", store.vault.secret_uri("connect-widget-secret-new"))
    settings = base_settings(
        fake_entra.authority, APP_CONFIG_ENDPOINT=store.store.url, CONNECT_WIDGET_ID=None, CONNECT_WIDGET_SECRET=None
    )
    service = make_service(settings, monotonic=monotonic, store_loader_factory=store.store_factory())
    authorization = f"Bearer {access_token(fake_entra.key)}"
    with function_using(service):
        function = Deployed(fake_entra, service)
        assert served_with(ask(function), STORE_SECRET)  # the default widget
        sales = call_function(authorization, widget_id=SALES_ID)
        assert sales.status == 200
        assert pyjwt.decode(sales.text, SALES_SECRET, algorithms=["HS256"], subject=SALES_ID)
        broken = call_function(authorization, widget_id=NEW_ID)
        assert (broken.status, broken.code) == (503, "widget_unavailable")
        assert int(broken.headers["Retry-After"]) > 0
        assert call_function(None, widget_id=NEW_ID).status == 401  # credentials first
        assert health() == (
            200,
            {
                "status": "degraded",
                "checks": {"configuration": "ok", "signingKeys": "ok", "widgets": "widget_unavailable"},
                "reasons": ["widget_unavailable"],
                "unavailableWidgets": [NEW_ID],
            },
        )
        logged = caplog.text
        assert NEW_ID in logged and "CONNECT_WIDGET_SECRET_NEW" in logged and "connect-widget-secret-new" in logged
        for value in (STORE_SECRET, SALES_SECRET, NEW_SECRET):
            assert value not in logged

        store.vault.secrets["connect-widget-secret-new"] = NEW_SECRET  # stored, then the sentinel bumped
        store.store.set("connect-sso:sentinel", "2")
        next_interval(monotonic)
        ask(function)  # starts the background refresh
        function.join_background()
        fixed = call_function(authorization, widget_id=NEW_ID)
        assert fixed.status == 200
        REGISTRY.register_token(fixed.text)
        assert pyjwt.decode(fixed.text, NEW_SECRET, algorithms=["HS256"], subject=NEW_ID)
        assert health()[1]["status"] == "ready"
