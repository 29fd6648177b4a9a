"""Configuration in force: environment overlaid by App Configuration, refreshed in the background.

The real `azure-appconfiguration-provider`, `azure-appconfiguration`, `azure-keyvault-secrets` and `azure-core`
run unmodified against the loopback HTTPS stand-ins in tests/support/azure_stand_ins.py; only the servers and the
token are stand-ins. Our refresh is paced by a FakeClock; the provider's own timers (minimum 1 s) run on the wall
clock, so each interval below also waits `INTERVAL_WALL_SECONDS` for real.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time

import pytest

from shared.app_configuration import AppConfigurationError, StoreOptions, parse_key_vault_reference
from shared.configuration import APP_CONFIG_REFRESH_SECONDS, ConfigurationProvider
from shared.errors import ServiceUnavailable
from tests.support.azure_stand_ins import APP_CONFIGURATION_SCOPE, KEY_VAULT_RESOURCE, AzureStandIns
from tools.testkit.leak_registry import REGISTRY
from tools.testkit.service import FakeClock, base_settings

STORE_SECRET = "fake-secret-from-key-vault-0123456789"
ROTATED_SECRET = "fake-secret-rotated-in-key-vault-987654"
SENTINEL = "connect-sso:sentinel"
INTERVAL_WALL_SECONDS = 1.05  # just over the provider's 1 s minimum interval
REGISTRY.register_secret(STORE_SECRET)
REGISTRY.register_secret(ROTATED_SECRET)
STORE_WIDGET_ID = "0c0c0c0c-0000-4000-8000-0000000000f1"


@pytest.fixture
def store(azure: AzureStandIns) -> AzureStandIns:
    azure.vault.secrets["connect-widget-secret"] = STORE_SECRET
    azure.store.set("CONNECT_WIDGET_ID", STORE_WIDGET_ID)
    azure.store.set("SSO_CUSTOM_ATTRIBUTES", "department")
    azure.store.set("UNRELATED_KEY", "ignored")
    azure.store.set_reference("CONNECT_WIDGET_SECRET", azure.vault.secret_uri("connect-widget-secret"))
    azure.store.set(SENTINEL, "1")
    return azure


def provider(azure: AzureStandIns, clock: FakeClock, **env: str | None) -> ConfigurationProvider:
    environ = base_settings("https://login.microsoftonline.com/x/v2.0", APP_CONFIG_ENDPOINT=azure.store.url, **env)
    return ConfigurationProvider(environ, store_loader_factory=azure.store_factory(), clock=clock)


def next_interval(clock: FakeClock, seconds: float = APP_CONFIG_REFRESH_SECONDS) -> None:
    clock.advance(seconds)
    time.sleep(INTERVAL_WALL_SECONDS)


def refresh_once(configuration: ConfigurationProvider, clock: FakeClock) -> None:
    """One refresh interval with traffic: many requests, one background refresh, waited for."""
    next_interval(clock)
    for _ in range(10):
        configuration.current()
    configuration.join_background()


def test_without_a_store_the_environment_is_read_once() -> None:
    environ = base_settings("https://login.microsoftonline.com/x/v2.0")
    configuration = ConfigurationProvider(environ)
    assert configuration.current().widget.widget_id == environ["CONNECT_WIDGET_ID"]
    environ["CONNECT_WIDGET_ID"] = "0c0c0c0c-0000-4000-8000-0000000000f5"
    assert configuration.current().widget.widget_id != "0c0c0c0c-0000-4000-8000-0000000000f5"


def test_nothing_is_requested_until_first_use(store: AzureStandIns) -> None:
    provider(store, FakeClock(0))
    assert store.store.count() == 0 and store.vault.count() == 0  # import and construction never touch the network


def test_store_values_win_and_key_vault_references_resolve(store: AzureStandIns) -> None:
    settings = provider(store, FakeClock(0)).current()
    assert settings.widget.widget_id == STORE_WIDGET_ID
    assert settings.widget.secret.reveal() == STORE_SECRET
    assert [c.attribute for c in settings.widget.attribute_rules.custom] == ["department"]
    # Bearer tokens from the one credential: App Configuration's audience, then Key Vault's, from its challenge.
    assert store.credential.scopes == [(APP_CONFIGURATION_SCOPE,), (f"{KEY_VAULT_RESOURCE}/.default",)]
    assert all(r.authorized for r in store.store.requests)
    assert [(r.status, r.authorized) for r in store.vault.requests] == [(401, False), (200, True)]


def test_a_store_value_replaces_a_legacy_spelling_in_the_environment(store: AzureStandIns) -> None:
    settings = provider(store, FakeClock(0), sso_custom_attributes="jobTitle").current()
    assert [c.attribute for c in settings.widget.attribute_rules.custom] == ["department"]


def test_the_label_selects_settings(store: AzureStandIns) -> None:
    store.store.set("CONNECT_WIDGET_ID", "0c0c0c0c-0000-4000-8000-0000000000f2", label="production")
    settings = provider(store, FakeClock(0), APP_CONFIG_LABEL="production").current()
    assert settings.widget.widget_id == "0c0c0c0c-0000-4000-8000-0000000000f2"
    assert {r.query["label"][0] for r in store.store.requests} == {"production"}


def test_sentinel_unchanged_costs_one_conditional_request_per_interval_and_no_reload(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID
    warmed = time.monotonic()
    store.store.set("CONNECT_WIDGET_ID", "0c0c0c0c-0000-4000-8000-0000000000f3")  # changed without bumping the sentinel
    for interval in range(1, 4):
        refresh_once(configuration, clock)
        assert store.store.watch_requests(since=warmed) == interval  # one If-None-Match per interval...
        assert store.store.count("/kv/", status=304, since=warmed) == interval  # ...answered 304
    assert store.store.list_requests(since=warmed) == 0  # no reload
    assert store.vault.count(since=warmed) == 0  # secrets are re-read every 600 s, not every interval
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID


def test_sentinel_bumped_brings_new_values_within_one_interval(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    first = configuration.current()
    warmed = time.monotonic()
    store.store.set("CONNECT_WIDGET_ID", "0c0c0c0c-0000-4000-8000-0000000000f3")
    store.vault.secrets["connect-widget-secret"] = ROTATED_SECRET
    store.store.set(SENTINEL, "2")
    refresh_once(configuration, clock)
    assert configuration.current().widget.widget_id == "0c0c0c0c-0000-4000-8000-0000000000f3"
    # The key too, well before its 600 s secret refresh: the provider's reload (one watch, one page) took the
    # secret from its cache, so a full load follows (one page, the sentinel, the secret).
    assert configuration.current().widget.secret.reveal() == ROTATED_SECRET
    assert store.store.watch_requests(since=warmed) == 2 and store.store.list_requests(since=warmed) == 2
    assert store.vault.secret_reads(since=warmed) == 1
    assert configuration.current() is not first
    refresh_once(configuration, clock)  # unchanged again: the same Settings object, so caches keyed on it stay
    same = configuration.current()
    refresh_once(configuration, clock)
    assert configuration.current() is same


def test_a_request_never_waits_for_a_refresh(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    configuration.current()
    store.store.set("CONNECT_WIDGET_ID", "0c0c0c0c-0000-4000-8000-0000000000f3")
    store.store.set(SENTINEL, "2")
    store.store.faults.delay_seconds = 1.0
    next_interval(clock)
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID  # answered while the refresh starts
    background = [t for t in threading.enumerate() if t.name == "refresh App Configuration"]
    assert background and background[0].is_alive()  # the store is still answering it
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID
    configuration.join_background()
    assert configuration.current().widget.widget_id == "0c0c0c0c-0000-4000-8000-0000000000f3"


def test_secrets_are_re_read_every_secret_refresh_interval(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock, APP_CONFIG_SECRET_REFRESH_SECONDS="1")
    assert configuration.current().widget.secret.reveal() == STORE_SECRET
    warmed = time.monotonic()
    store.vault.secrets["connect-widget-secret"] = ROTATED_SECRET
    refresh_once(configuration, clock)
    assert configuration.current().widget.secret.reveal() == ROTATED_SECRET
    assert store.vault.secret_reads(since=warmed) == 1
    assert store.store.watch_requests(since=warmed) == 1 and store.store.list_requests(since=warmed) == 0


def test_paging_over_more_than_100_settings(store: AzureStandIns) -> None:
    for index in range(250):
        store.store.set(f"other-app:setting-{index:03}", "x")
    clock = FakeClock(0)
    configuration = provider(store, clock)
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID
    pages = [r for r in store.store.requests if r.path == "/kv"]
    assert [r.query.get("after", [None])[0] for r in pages] == [None, "100", "200"]
    warmed = time.monotonic()
    store.store.set(SENTINEL, "2")
    refresh_once(configuration, clock)
    assert store.store.list_requests(since=warmed) == 6  # a reload reads every page again, and so does the full load


def test_an_unreachable_store_after_warm_up_keeps_the_last_good_values(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID
    store.store.faults.mode = "down"
    for _interval in range(2):
        since = time.monotonic()
        refresh_once(configuration, clock)
        assert configuration.current().widget.widget_id == STORE_WIDGET_ID
        assert store.store.count(since=since) == 3  # one attempt per interval: the request and 2 SDK retries
    store.store.faults.mode = "ok"
    store.store.set("CONNECT_WIDGET_ID", "0c0c0c0c-0000-4000-8000-0000000000f4")
    refresh_once(configuration, clock)  # after a failure the next attempt is a full load
    assert configuration.current().widget.widget_id == "0c0c0c0c-0000-4000-8000-0000000000f4"


def test_throttling_is_retried_after_retry_after_ms_and_then_left_for_an_interval(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    configuration.current()
    store.store.faults.mode, store.store.faults.retry_after_ms = "throttle", 200
    since = time.monotonic()
    refresh_once(configuration, clock)
    throttled = [r for r in store.store.requests if r.at >= since]
    assert [r.status for r in throttled] == [429, 429, 429]  # the request and the SDK's 2 retries
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(throttled)]
    assert min(gaps) >= 0.2  # each retry waited retry-after-ms
    for _ in range(20):
        assert configuration.current().widget.widget_id == STORE_WIDGET_ID  # last good, and no more calls
    configuration.join_background()
    assert store.store.count(since=since) == 3


def test_an_unreachable_store_before_warm_up_is_503_then_recovers(store: AzureStandIns) -> None:
    clock = FakeClock(0)
    store.store.faults.mode = "down"
    configuration = provider(store, clock)
    with pytest.raises(ServiceUnavailable) as caught:
        configuration.current()
    assert caught.value.code == "configuration_unavailable"
    assert caught.value.retry_after_seconds > 0
    store.store.faults.mode = "ok"
    clock.advance(10)
    assert configuration.current().widget.widget_id == STORE_WIDGET_ID


def test_an_unreadable_secret_counts_as_unreachable(store: AzureStandIns) -> None:
    store.vault.secrets.clear()
    with pytest.raises(ServiceUnavailable) as caught:
        provider(store, FakeClock(0)).current()
    assert caught.value.code == "configuration_unavailable"


def test_a_reference_outside_key_vault_is_not_followed(store: AzureStandIns) -> None:
    # 127.0.0.1 is the same server, but not a Key Vault host for this store (the tests allow only "localhost").
    port = store.vault.url.rsplit(":", 1)[1]
    store.store.set_reference("CONNECT_WIDGET_SECRET", f"https://127.0.0.1:{port}/secrets/connect-widget-secret")
    with pytest.raises(ServiceUnavailable):
        provider(store, FakeClock(0)).current()
    assert store.vault.count() == 0
    assert store.credential.scopes == [(APP_CONFIGURATION_SCOPE,)]  # no token was asked for it either


def test_invalid_configuration_is_503_and_reported_once_by_name(
    store: AzureStandIns, caplog: pytest.LogCaptureFixture
) -> None:
    store.store.set("CONNECT_TOKEN_TTL_SECONDS", "3600")
    configuration = provider(store, FakeClock(0))
    caplog.set_level(logging.ERROR, logger="shared.configuration")
    assert configuration.check_at_start() is None
    for _ in range(3):
        with pytest.raises(ServiceUnavailable) as caught:
            configuration.current()
        assert caught.value.code == "configuration_invalid"
    reports = [r.getMessage() for r in caplog.records if "configuration error" in r.getMessage()]
    assert len(reports) == 2  # once at start, once on the first request
    assert all("CONNECT_TOKEN_TTL_SECONDS" in report for report in reports)
    assert all(STORE_SECRET not in report for report in reports)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("APP_CONFIG_REFRESH_SECONDS", "0"),
        ("APP_CONFIG_REFRESH_SECONDS", "3601"),
        ("APP_CONFIG_SECRET_REFRESH_SECONDS", "soon"),
        ("APP_CONFIG_SENTINEL_KEY", "connect-sso:*"),
    ],
)
def test_invalid_store_settings_are_named(name: str, value: str) -> None:
    environ = base_settings("https://login.microsoftonline.com/x/v2.0", **{name: value})
    with pytest.raises(ServiceUnavailable) as caught:
        ConfigurationProvider(environ).current()
    assert caught.value.code == "configuration_invalid"


def test_an_unforeseen_failure_reading_a_store_setting_names_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 17: a failure no check foresaw while reading how to reach the store is a configuration error naming
    the setting (503 configuration_invalid), never a store that seems unreachable."""

    def broken(endpoint: str | None) -> str | None:
        raise RuntimeError("a parser bug")

    monkeypatch.setattr("shared.app_configuration.app_config_endpoint_problem", broken)
    environ = base_settings(
        "https://login.microsoftonline.com/x/v2.0", APP_CONFIG_ENDPOINT="https://contoso.azconfig.io"
    )
    with pytest.raises(ServiceUnavailable) as caught:
        ConfigurationProvider(environ).current()
    assert caught.value.code == "configuration_invalid"
    assert "APP_CONFIG_ENDPOINT: cannot be read (RuntimeError); check its value" in caplog.text
    assert StoreOptions.from_values({"APP_CONFIG_ENDPOINT": "https://contoso.azconfig.io"}) is None


def test_the_store_settings_default_to_the_contract() -> None:
    options = StoreOptions.from_values({"APP_CONFIG_ENDPOINT": "https://contoso.azconfig.io"})
    assert options is not None
    assert (options.sentinel_key, options.refresh_seconds) == (SENTINEL, 30)
    assert options.secret_refresh_seconds == 600


def test_replica_discovery_makes_no_dns_lookup_on_loopback(
    store: AzureStandIns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery is on, but the provider only looks up SRV records for hosts under .azconfig./.appconfig.: a
    loopback endpoint is left alone, which keeps these tests hermetic. A tripwire stands in for the resolver."""
    import dns.resolver

    lookups: list[str] = []

    def tripwire(name: str, *args: object, **kwargs: object) -> None:
        lookups.append(name)
        raise dns.resolver.NXDOMAIN

    monkeypatch.setattr(dns.resolver, "resolve", tripwire)
    clock = FakeClock(0)
    configuration = provider(store, clock)
    configuration.current()
    refresh_once(configuration, clock)
    assert lookups == []


@pytest.mark.parametrize(
    "uri",
    [
        "http://kv-test.vault.azure.net/secrets/x",
        "https://attacker.example/secrets/x",
        "https://kv-test.vault.azure.net.attacker.example/secrets/x",
        "https://kv-test.vault.azure.net/keys/x",
        "https://kv-test.vault.azure.net/secrets",
    ],
)
def test_key_vault_references_must_point_at_a_key_vault_secret(uri: str) -> None:
    with pytest.raises(AppConfigurationError):
        parse_key_vault_reference("CONNECT_WIDGET_SECRET", json.dumps({"uri": uri}))


def test_key_vault_reference_with_a_version() -> None:
    assert parse_key_vault_reference(
        "K", json.dumps({"uri": "https://kv.vault.usgovcloudapi.net/secrets/name/0123abcd"})
    ) == ("https://kv.vault.usgovcloudapi.net", "name", "0123abcd")


def test_azure_sdks_are_not_imported_without_app_configuration() -> None:
    import subprocess
    import sys

    code = (
        "import sys, function_app;"
        "print(sorted(m for m in sys.modules if m.startswith(('azure.identity','azure.appconfiguration',"
        "'azure.keyvault'))))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
