"""Configuration in force: environment overlaid by App Configuration, refreshed in the background.

Azure App Configuration and Key Vault cannot exist on these machines: the tests give the loader stand-ins for
the two SDK calls it makes (list settings, read a secret). Everything above those calls is the real code.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pytest

from shared.app_configuration import (
    KEY_VAULT_REFERENCE_CONTENT_TYPE,
    AppConfigurationError,
    AppConfigurationLoader,
    parse_key_vault_reference,
)
from shared.configuration import APP_CONFIG_REFRESH_SECONDS, ConfigurationProvider
from shared.errors import ServiceUnavailable
from tests.support.service import FakeClock, base_settings

ENDPOINT = "https://appcs-test.azconfig.io"
VAULT_SECRET_URI = "https://kv-test.vault.azure.net/secrets/connect-widget-secret"
STORE_SECRET = "fake-secret-from-key-vault-0123456789"


@dataclass
class StandInSetting:
    """The three fields of azure.appconfiguration.ConfigurationSetting the loader reads."""

    key: str
    value: str | None
    content_type: str | None = None


class StandInStore:
    """Plays App Configuration + Key Vault: settings by label, secrets by URI, and an on/off switch."""

    def __init__(self) -> None:
        self.reachable = True
        self.settings: dict[str | None, list[StandInSetting]] = {None: []}
        self.secrets = {("https://kv-test.vault.azure.net", "connect-widget-secret", None): STORE_SECRET}
        self.calls = 0

    def list_settings(self, label: str | None) -> list[StandInSetting]:
        self.calls += 1
        if not self.reachable:
            raise ConnectionError("store unreachable")
        return self.settings.get(label, [])

    def read_secret(self, vault: str, name: str, version: str | None) -> str:
        return self.secrets[(vault, name, version)]

    def factory(self, endpoint: str, label: str | None) -> AppConfigurationLoader:
        assert endpoint == ENDPOINT
        from shared.configuration import ALL_NAMES

        return AppConfigurationLoader(
            endpoint, label, ALL_NAMES, list_settings=self.list_settings, read_secret=self.read_secret
        )


def key_vault_reference(key: str, uri: str = VAULT_SECRET_URI) -> StandInSetting:
    return StandInSetting(key, json.dumps({"uri": uri}), f"{KEY_VAULT_REFERENCE_CONTENT_TYPE};charset=utf-8")


@pytest.fixture
def store() -> StandInStore:
    store = StandInStore()
    store.settings[None] = [
        StandInSetting("CONNECT_WIDGET_ID", "widget-from-store"),
        StandInSetting("SSO_CUSTOM_ATTRIBUTES", "department"),
        StandInSetting("UNRELATED_KEY", "ignored"),
        key_vault_reference("CONNECT_WIDGET_SECRET"),
    ]
    return store


def provider(store: StandInStore, clock: FakeClock, **env: str | None) -> ConfigurationProvider:
    environ = base_settings("https://login.microsoftonline.com/x/v2.0", APP_CONFIG_ENDPOINT=ENDPOINT, **env)
    return ConfigurationProvider(environ, store_loader_factory=store.factory, clock=clock)


def test_without_a_store_the_environment_is_read_once() -> None:
    environ = base_settings("https://login.microsoftonline.com/x/v2.0")
    configuration = ConfigurationProvider(environ)
    assert configuration.current().widget_id == environ["CONNECT_WIDGET_ID"]
    environ["CONNECT_WIDGET_ID"] = "changed"
    assert configuration.current().widget_id != "changed"


def test_store_values_win_and_key_vault_references_resolve(store: StandInStore) -> None:
    settings = provider(store, FakeClock(0)).current()
    assert settings.widget_id == "widget-from-store"
    assert settings.widget_secret.reveal() == STORE_SECRET
    assert [c.attribute for c in settings.custom_attributes] == ["department"]


def test_a_store_value_replaces_a_legacy_spelling_in_the_environment(store: StandInStore) -> None:
    settings = provider(store, FakeClock(0), sso_custom_attributes="jobTitle").current()
    assert [c.attribute for c in settings.custom_attributes] == ["department"]


def test_the_label_selects_settings(store: StandInStore) -> None:
    store.settings["production"] = [StandInSetting("CONNECT_WIDGET_ID", "widget-production")]
    assert provider(store, FakeClock(0), APP_CONFIG_LABEL="production").current().widget_id == "widget-production"


def test_values_refresh_about_every_30_seconds(store: StandInStore) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    assert configuration.current().widget_id == "widget-from-store"
    store.settings[None][0] = StandInSetting("CONNECT_WIDGET_ID", "widget-renamed")
    clock.advance(APP_CONFIG_REFRESH_SECONDS - 1)
    assert configuration.current().widget_id == "widget-from-store"
    clock.advance(2)
    configuration.current()  # starts the background refresh
    configuration.join_background()
    assert configuration.current().widget_id == "widget-renamed"


def test_an_unreachable_store_after_warm_up_keeps_the_last_good_values(store: StandInStore) -> None:
    clock = FakeClock(0)
    configuration = provider(store, clock)
    assert configuration.current().widget_id == "widget-from-store"
    store.reachable = False
    for _ in range(5):
        clock.advance(APP_CONFIG_REFRESH_SECONDS + 1)
        assert configuration.current().widget_id == "widget-from-store"
        configuration.join_background()
    assert store.calls == 6


def test_an_unreachable_store_before_warm_up_is_503_then_recovers(store: StandInStore) -> None:
    clock = FakeClock(0)
    store.reachable = False
    configuration = provider(store, clock)
    with pytest.raises(ServiceUnavailable) as caught:
        configuration.current()
    assert caught.value.code == "configuration_unavailable"
    assert caught.value.retry_after_seconds > 0
    store.reachable = True
    clock.advance(10)
    assert configuration.current().widget_id == "widget-from-store"


def test_an_unreadable_secret_counts_as_unreachable(store: StandInStore) -> None:
    store.secrets.clear()
    with pytest.raises(ServiceUnavailable) as caught:
        provider(store, FakeClock(0)).current()
    assert caught.value.code == "configuration_unavailable"


def test_invalid_configuration_is_503_and_reported_once_by_name(
    store: StandInStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.settings[None].append(StandInSetting("CONNECT_TOKEN_TTL_SECONDS", "3600"))
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
