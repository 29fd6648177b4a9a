"""Our settings from Azure App Configuration, through Microsoft's provider (`azure-appconfiguration-provider`).

The provider loads the settings of one label, re-reads the secrets every `APP_CONFIG_SECRET_REFRESH_SECONDS`,
discovers replicas and fails over to them, and on `refresh()` checks the sentinel key with one conditional request,
reloading everything only when it changed. Two things provider 2.5.0 does not do, done here:
- a sentinel change re-reads the Key Vault references too (the provider's reload takes secrets from its cache, so a
  bump is followed by a full load through a new provider): "bump the sentinel" rotates a widget key everywhere
  within one refresh interval;
- one widget's key that Key Vault refuses (missing, 404; not readable, 403) does not fail the whole load: references
  are resolved here (`secret_resolver`, the same credential) and such a key of a `CONNECT_WIDGETS` widget reads as
  empty, so that widget alone answers 503 `widget_unavailable`. Any other failure still fails the load (the last
  good values keep serving).
`refresh()` runs in the caller's thread: shared/configuration.py calls it from its background refresh, never on
a request's path, at most once per `APP_CONFIG_REFRESH_SECONDS` (so the provider's own interval is its minimum,
1 s, and our refresh decides).

The Azure SDKs are imported here, lazily, so a deployment without App Configuration never pays for them, and
nothing touches the network at import: the first load runs in the start-up warm-up thread.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.catalogue import ENVIRONMENT_ONLY_SETTING_NAMES, default_of
from shared.setting_reader import SettingProblem, SettingReader
from shared.urls import app_config_endpoint_problem
from shared.widget import WIDGET_SECRET_PREFIX, is_widget_secret_setting

MAX_APP_CONFIG_REFRESH_SECONDS = 3600
MAX_APP_CONFIG_SECRET_REFRESH_SECONDS = 86400

KEY_VAULT_REFERENCE_CONTENT_TYPE = "application/vnd.microsoft.appconfig.keyvaultref+json"
# Key Vault hosts of the public and sovereign clouds: a reference elsewhere is refused, not followed.
KEY_VAULT_HOST_SUFFIXES = (".vault.azure.net", ".vault.usgovcloudapi.net", ".vault.azure.cn")
# The catalogue's defaults (shared/catalogue.py is their one home).
DEFAULT_SENTINEL_KEY = default_of("APP_CONFIG_SENTINEL_KEY") or ""
DEFAULT_REFRESH_SECONDS = int(default_of("APP_CONFIG_REFRESH_SECONDS") or 0)
DEFAULT_SECRET_REFRESH_SECONDS = int(default_of("APP_CONFIG_SECRET_REFRESH_SECONDS") or 0)
# A cold load gives up after this (the provider's default is 100 s; Flex allows 30 s for start-up). The provider
# then sleeps until 5 s have passed since the load began (its "minimum uptime"), so a failed cold load takes 5 s.
STARTUP_TIMEOUT_SECONDS = 5
# azure-core's defaults are 300 s each: a black-holed store would hold the background refresh for minutes.
CLIENT_TIMEOUTS = {"connection_timeout": 5, "read_timeout": 10}
NO_LABEL = "\0"  # App Configuration's "no label" in filters
# Key Vault's answers that mean "this reference cannot be resolved" rather than "Key Vault is unreachable".
UNRESOLVABLE_REFERENCE_STATUSES = (403, 404)
_log = logging.getLogger(__name__)


class AppConfigurationError(Exception):
    """The store or a referenced secret could not be read. Messages carry names, never values."""


@dataclass(frozen=True)
class StoreOptions:
    """What the provider needs, from the environment (the store cannot configure how it is read)."""

    endpoint: str
    label: str | None = None
    sentinel_key: str = DEFAULT_SENTINEL_KEY
    refresh_seconds: int = DEFAULT_REFRESH_SECONDS
    secret_refresh_seconds: int = DEFAULT_SECRET_REFRESH_SECONDS

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> StoreOptions | None:
        """From canonical setting values; None without an endpoint. Invalid values are read_store_options' problems
        (the options then hold the defaults); a failure no check foresaw gives None."""
        return SettingReader(values, default_of).guarded(read_store_options)


def read_store_options(reader: SettingReader) -> StoreOptions | None:
    """The one reading of the store settings: problems go to `reader`, by name; a bad number keeps its default."""
    endpoint = reader.get("APP_CONFIG_ENDPOINT")
    problem = app_config_endpoint_problem(endpoint)
    if problem:
        reader.problem("APP_CONFIG_ENDPOINT", problem)
    label = reader.get("APP_CONFIG_LABEL")
    if label is not None and ("*" in label or "," in label):
        # In App Configuration's label filter `*` is a wildcard and `,` separates labels: never one label.
        reader.problem("APP_CONFIG_LABEL", "must be one label, without '*' or ','")
    key = reader.value("APP_CONFIG_SENTINEL_KEY") or ""
    # A watched key is one exact key: filter characters would make it something else.
    if any(character in key for character in "*,\\") or key in (".", ".."):
        reader.problem("APP_CONFIG_SENTINEL_KEY", "must be one exact key, without '*', ',' or '\\'")
    refresh = _seconds(reader, "APP_CONFIG_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS, MAX_APP_CONFIG_REFRESH_SECONDS)
    secret_refresh = _seconds(
        reader,
        "APP_CONFIG_SECRET_REFRESH_SECONDS",
        DEFAULT_SECRET_REFRESH_SECONDS,
        MAX_APP_CONFIG_SECRET_REFRESH_SECONDS,
    )
    if not endpoint:
        return None
    return StoreOptions(
        endpoint=endpoint,
        label=label,
        sentinel_key=key or DEFAULT_SENTINEL_KEY,
        refresh_seconds=refresh,
        secret_refresh_seconds=secret_refresh,
    )


def _seconds(reader: SettingReader, name: str, default: int, high: int) -> int:
    count = len(reader.problems)
    number = reader.integer(name, 1, high)
    return number if len(reader.problems) == count else default


def store_setting_problems(environment_values: Mapping[str, str]) -> tuple[SettingProblem, ...]:
    """The problems of the settings that say how to read App Configuration (canonical values from the environment;
    the others may still come from the store)."""
    reader = SettingReader(environment_values, default_of)
    reader.guarded(read_store_options)  # a failure no check foresaw is a problem named after its setting
    return tuple(problem for problem in reader.problems if problem.name in ENVIRONMENT_ONLY_SETTING_NAMES)


def parse_key_vault_reference(
    key: str, value: str, host_suffixes: Iterable[str] = KEY_VAULT_HOST_SUFFIXES
) -> tuple[str, str, str | None]:
    """(vault URL, secret name, version or None) from a reference's JSON value; refuses anything but a secret
    URI on a Key Vault host, so the credential's token is never sent elsewhere."""
    try:
        uri = json.loads(value)["uri"]
    except (ValueError, KeyError, TypeError) as error:
        raise AppConfigurationError(f"{key}: the Key Vault reference has no 'uri'") from error
    return parse_secret_uri(key, uri, host_suffixes)


def parse_secret_uri(
    key: str, uri: object, host_suffixes: Iterable[str] = KEY_VAULT_HOST_SUFFIXES
) -> tuple[str, str, str | None]:
    """(vault URL, secret name, version or None) of a Key Vault secret URI; see parse_key_vault_reference."""
    if not isinstance(uri, str):
        raise AppConfigurationError(f"{key}: the Key Vault reference has no 'uri'")
    parts = urlsplit(uri)
    host = parts.hostname or ""
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.scheme != "https" or not host.endswith(tuple(host_suffixes)):
        raise AppConfigurationError(f"{key}: the Key Vault reference does not point at a Key Vault")
    if len(segments) not in (2, 3) or segments[0] != "secrets":
        raise AppConfigurationError(f"{key}: the Key Vault reference is not a secret URI")
    version = segments[2] if len(segments) == 3 else None
    return f"https://{parts.netloc}", segments[1], version


class _Unresolved:
    """What the secret resolver gives the provider for a widget key Key Vault refuses: truthy (the provider caches
    only truthy values, and re-asks at the next secret refresh or load), never a string a key could equal."""

    def __repr__(self) -> str:
        return "<unresolved Key Vault reference>"


UNRESOLVED = _Unresolved()


class AppConfigurationStore:
    """Calling it returns the current values of `names` (and of keys starting with `name_prefixes`): the first
    call loads, later calls refresh; it raises AppConfigurationError when the store
    or Key Vault cannot be read (the caller keeps its last good values). A widget key whose reference Key Vault
    refuses is returned as "" (unset), so that widget alone is unavailable.

    `credential` (default DefaultAzureCredential: the managed identity in Azure), `client_options` (extra keyword
    arguments for the App Configuration client, e.g. `connection_verify`) and `keyvault_client_configs` (per
    vault URL, extra keyword arguments for the Key Vault client) are what tests change to reach their loopback
    stand-ins."""

    def __init__(
        self,
        options: StoreOptions,
        names: Iterable[str],
        *,
        name_prefixes: Iterable[str] = (WIDGET_SECRET_PREFIX,),
        credential: Any = None,
        client_options: Mapping[str, Any] | None = None,
        keyvault_client_configs: Mapping[str, Mapping[str, Any]] | None = None,
        key_vault_host_suffixes: Iterable[str] = KEY_VAULT_HOST_SUFFIXES,
    ) -> None:
        self.options = options
        self._names = frozenset(names)
        # Names the catalogue cannot list: each CONNECT_WIDGETS entry names its own CONNECT_WIDGET_SECRET_<x>.
        self._name_prefixes = tuple(name_prefixes)
        self._credential = credential
        self._client_options = dict(client_options or {})
        self._keyvault_client_configs = {
            url.rstrip("/"): dict(config) for url, config in (keyvault_client_configs or {}).items()
        }
        self._key_vault_host_suffixes = tuple(key_vault_host_suffixes)
        self._provider: Any = None
        self._reload = True
        self._sentinel_changed = False
        self._secret_clients: dict[str, Any] = {}
        self._reference_keys: dict[str, set[str]] = {}  # secret URI -> the keys that reference it

    def __call__(self) -> dict[str, str]:
        try:
            if self._reload:
                self._replace_provider(self._load())
                self._reload = False
            else:
                self._sentinel_changed = False
                self._provider.refresh()
                if self._sentinel_changed:
                    # The provider reloaded the settings but took every secret from its cache: a full load reads
                    # the Key Vault references again, so a bump rotates a key within one refresh interval.
                    self._replace_provider(self._load())
        except Exception as error:
            # After any failed refresh the next attempt is a full load through a new provider: provider 2.5.0
            # empties its secret cache when a secret refresh fails and then never re-reads those secrets.
            self._reload = True
            status = getattr(error, "status_code", None)
            detail = f"{type(error).__name__}{f' {status}' if status else ''}"
            raise AppConfigurationError(
                f"App Configuration {self.options.endpoint} could not be read: {detail}"
            ) from error
        return self._values()

    def close(self) -> None:
        if self._provider is not None:
            self._provider.close()
        for client in self._secret_clients.values():
            client.close()

    def _values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, value in self._provider.items():
            if (key in self._names or (self._name_prefixes and key.startswith(self._name_prefixes))) and (
                value is not None
            ):
                if value is UNRESOLVED:
                    values[key] = ""  # unset, and it replaces the environment's value: that widget is unavailable
                    continue
                # The provider parses JSON content types into objects; our settings parser wants the text.
                values[key] = value if isinstance(value, str) else json.dumps(value)
        return values

    def _replace_provider(self, provider: Any) -> None:
        old, self._provider = self._provider, provider
        if old is not None:
            old.close()

    def _load(self) -> Any:
        from azure.appconfiguration.provider import SettingSelector, WatchKey, load

        credential = self._credential or self._default_credential()
        label = self.options.label or NO_LABEL
        self._reference_keys = {}
        return load(
            self.options.endpoint,
            credential,
            selects=[SettingSelector(key_filter="*", label_filter=label)],
            refresh_on=[WatchKey(self.options.sentinel_key, label)],
            refresh_interval=1,  # our background refresh paces the calls; the provider must not skip one
            # No keyvault_credential: every reference goes to _resolve_secret (the provider would fail the whole
            # load on one missing secret). The provider still caches and re-reads them every secret interval.
            secret_resolver=self._resolve_secret,
            secret_refresh_interval=self.options.secret_refresh_seconds,
            on_refresh_success=self._on_sentinel_change,
            replica_discovery_enabled=True,
            startup_timeout=STARTUP_TIMEOUT_SECONDS,
            configuration_mapper=self._check_reference,
            **{**CLIENT_TIMEOUTS, **self._client_options},
        )

    def _on_sentinel_change(self) -> None:
        # Called by the provider only when a refresh found the watched key changed and reloaded the settings.
        self._sentinel_changed = True

    def _check_reference(self, setting: Any) -> None:
        """Refuses a Key Vault reference that does not name a secret on a Key Vault host, before it is followed,
        and notes which key references which secret."""
        content_type = (setting.content_type or "").split(";")[0].strip().lower()
        if content_type == KEY_VAULT_REFERENCE_CONTENT_TYPE:
            parse_key_vault_reference(setting.key, setting.value or "", self._key_vault_host_suffixes)
            self._reference_keys.setdefault(getattr(setting, "secret_id", None) or "", set()).add(setting.key)

    def _resolve_secret(self, uri: str) -> Any:
        """A reference's secret, read with the store's credential. Key Vault refusing a widget key (403, 404) gives
        UNRESOLVED; anything else raises, so the load or refresh fails as a whole and the last good values stay."""
        from azure.core.exceptions import HttpResponseError

        keys = sorted(self._reference_keys.get(uri, ())) or ["a Key Vault reference"]
        vault_url, name, version = parse_secret_uri(keys[0], uri, self._key_vault_host_suffixes)
        try:
            return self._secret_client(vault_url).get_secret(name, version=version).value
        except HttpResponseError as error:
            if error.status_code not in UNRESOLVABLE_REFERENCE_STATUSES or not all(map(is_widget_secret_setting, keys)):
                raise
            # Names only: the setting and the secret's name, never a value.
            _log.warning(
                "%s: Key Vault answered %s for secret %s; the widgets using it answer 503 widget_unavailable "
                "until it can be read (store it, then bump the sentinel)",
                ", ".join(keys),
                error.status_code,
                name,
            )
            return UNRESOLVED

    def _secret_client(self, vault_url: str) -> Any:
        client = self._secret_clients.get(vault_url)
        if client is None:
            from azure.keyvault.secrets import SecretClient

            config = dict(self._keyvault_client_configs.get(vault_url, {}))
            credential = config.pop("credential", None) or self._credential or self._default_credential()
            client = SecretClient(vault_url=vault_url, credential=credential, **config)
            self._secret_clients[vault_url] = client
        return client

    def _default_credential(self) -> Any:
        from azure.identity import DefaultAzureCredential

        self._credential = DefaultAzureCredential()
        return self._credential
