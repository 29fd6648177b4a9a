"""Reads our settings from Azure App Configuration, resolving Key Vault references, with one Azure credential.

The Azure SDKs are imported here, lazily, so a deployment that does not use App Configuration never pays for
them at cold start.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

KEY_VAULT_REFERENCE_CONTENT_TYPE = "application/vnd.microsoft.appconfig.keyvaultref+json"
# Key Vault hosts of the public and sovereign clouds: a reference elsewhere is refused, not followed.
KEY_VAULT_HOST_SUFFIXES = (".vault.azure.net", ".vault.usgovcloudapi.net", ".vault.azure.cn")


class AppConfigurationError(Exception):
    """The store or a referenced secret could not be read. Messages carry names, never values."""


def parse_key_vault_reference(key: str, value: str) -> tuple[str, str, str | None]:
    """(vault URL, secret name, version or None) from a reference's JSON value."""
    try:
        uri = json.loads(value)["uri"]
    except (ValueError, KeyError, TypeError) as error:
        raise AppConfigurationError(f"{key}: the Key Vault reference has no 'uri'") from error
    parts = urlsplit(uri)
    host = parts.hostname or ""
    segments = [segment for segment in parts.path.split("/") if segment]
    if parts.scheme != "https" or not host.endswith(KEY_VAULT_HOST_SUFFIXES):
        raise AppConfigurationError(f"{key}: the Key Vault reference does not point at a Key Vault")
    if len(segments) not in (2, 3) or segments[0] != "secrets":
        raise AppConfigurationError(f"{key}: the Key Vault reference is not a secret URI")
    version = segments[2] if len(segments) == 3 else None
    return f"https://{host}", segments[1], version


class AppConfigurationLoader:
    """Loads `names` from one store. `client_factory` and `secret_reader` are seams for tests (Azure is not
    reachable from CI); in production they build the SDK clients with DefaultAzureCredential."""

    def __init__(
        self,
        endpoint: str,
        label: str | None,
        names: Iterable[str],
        *,
        list_settings: Callable[[str | None], Iterable[Any]] | None = None,
        read_secret: Callable[[str, str, str | None], str] | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._label = label
        self._names = frozenset(names)
        self._list_settings = list_settings or self._sdk_list_settings
        self._read_secret = read_secret or self._sdk_read_secret
        self._credential: Any = None
        self._secret_clients: dict[str, Any] = {}

    def __call__(self) -> dict[str, str]:
        values: dict[str, str] = {}
        try:
            settings = list(self._list_settings(self._label))
        except Exception as error:
            raise AppConfigurationError(
                f"App Configuration {self._endpoint} could not be read: {type(error).__name__}"
            ) from error
        for setting in settings:
            key = setting.key
            if key not in self._names or setting.value is None:
                continue
            content_type = (setting.content_type or "").split(";")[0].strip().lower()
            if content_type == KEY_VAULT_REFERENCE_CONTENT_TYPE:
                vault, name, version = parse_key_vault_reference(key, setting.value)
                try:
                    values[key] = self._read_secret(vault, name, version)
                except Exception as error:
                    raise AppConfigurationError(
                        f"{key}: secret {name!r} in {vault} could not be read: {type(error).__name__}"
                    ) from error
            else:
                values[key] = setting.value
        return values

    def _credential_once(self) -> Any:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    def _sdk_list_settings(self, label: str | None) -> Iterable[Any]:
        from azure.appconfiguration import AzureAppConfigurationClient

        client = AzureAppConfigurationClient(self._endpoint, self._credential_once())
        # "\0" selects settings with no label, App Configuration's default.
        return client.list_configuration_settings(label_filter=label or "\0")

    def _sdk_read_secret(self, vault: str, name: str, version: str | None) -> str:
        from azure.keyvault.secrets import SecretClient

        client = self._secret_clients.get(vault)
        if client is None:
            client = self._secret_clients[vault] = SecretClient(vault, self._credential_once())
        value = client.get_secret(name, version).value
        if value is None:
            raise AppConfigurationError(f"secret {name!r} has no value")
        return value
