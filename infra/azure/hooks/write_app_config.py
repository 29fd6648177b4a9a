"""azd postprovision hook: writes the function's key-values into App Configuration with the deployer's identity.

Why a hook and not Bicep: ARM would write the key-values seconds after the same deployment grants the deployer
App Configuration Data Owner, and a new role assignment takes minutes to apply, so a first `azd up` would likely
get 403. Here every write is a REST call with a token from azd (azd_token.py: the identity that ran `azd
provision`, in CI too), retried while waiting can help (azure_data_plane.py). Before writing a Key Vault reference
the hook checks that its secret exists (listing names: Key Vault Reader, granted by the template, suffices).
What is written, label-less (the function reads those):

  - every non-empty setting of the APP_CONFIG_SETTINGS deployment output (a JSON object: name -> value);
  - CONNECT_WIDGET_SECRET as a Key Vault reference to CONNECT_WIDGET_SECRET_URI: the key itself stays in Key Vault;
  - when the azd environment sets CONNECT_WIDGETS (more widgets, a JSON object keyed by widget id): that JSON, and
    for each widget its `secretSetting` (CONNECT_WIDGET_SECRET_<NAME>) as a Key Vault reference to the secret
    `connect-widget-secret-<name>` in the same vault, which a person sets with `az keyvault secret set`
    (docs/deploy.md). Read from the azd environment, not a deployment parameter: azd pastes values into
    main.parameters.json as raw text, where JSON's quotes would break the file;
  - last, the sentinel key (APP_CONFIG_SENTINEL_KEY, default connect-sso:sentinel) set to this run's time, so a
    function that watches it reloads once, after every other key is in place.

Values are settings, not secrets; still, only key names are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from azd_env import env_value
from azd_token import AzdTokens
from azure_data_plane import (
    KEY_VAULT_REFERENCE_CONTENT_TYPE,
    DataPlaneError,
    Retries,
    key_vault_secret_names,
    put_key_value,
)

WIDGET_SECRET_SETTING = "CONNECT_WIDGET_SECRET"  # noqa: S105 -- a setting name, not a secret
WIDGETS_SETTING = "CONNECT_WIDGETS"
# The function's rule for a widget key setting (shared/settings.py, WIDGET_SECRET_SETTING_NAME).
_WIDGET_SECRET_NAME = re.compile(r"^CONNECT_WIDGET_SECRET_([A-Za-z0-9_]+)$")
DEFAULT_SENTINEL_KEY = "connect-sso:sentinel"
# A first write waits for the deployer's new role: about six minutes in all before giving up.
DEFAULT_ATTEMPTS = Retries.attempts
DEFAULT_DELAY_SECONDS = Retries.delay
# App Configuration refuses '%' in keys and the keys '.' and '..'.
_KEY = re.compile(r"^(?!\.{1,2}$)[^%\s][^%]{0,255}$")


class AppConfigHookError(Exception):
    """A missing or invalid azd environment value, or a write that kept failing; each problem says what to fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: str
    key_vault_reference: bool = False


def _https_host(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not parts.username


def _settings(env: Mapping[str, str], problems: list[str]) -> dict[str, str]:
    raw = env_value(env, "APP_CONFIG_SETTINGS")
    if not raw:
        problems.append("APP_CONFIG_SETTINGS is not set: run `azd provision` first (it is a deployment output)")
        return {}
    try:
        settings = json.loads(raw)
    except ValueError:
        problems.append("APP_CONFIG_SETTINGS is not JSON: it must be the deployment output, unchanged")
        return {}
    if not isinstance(settings, dict) or not all(isinstance(v, str) for v in settings.values()):
        problems.append("APP_CONFIG_SETTINGS must be a JSON object of setting name -> text")
        return {}
    for name in settings:
        if not _KEY.match(name):
            problems.append(f"APP_CONFIG_SETTINGS holds an invalid key name {name!r}")
    for name in sorted(settings):
        if name == WIDGET_SECRET_SETTING or _WIDGET_SECRET_NAME.match(name):
            problems.append(f"APP_CONFIG_SETTINGS must not hold {name}: it is only a Key Vault reference")
    # Unset optional settings are left out, so the function applies its own defaults.
    return {name: value for name, value in settings.items() if value.strip()}


def widget_secret_name(setting: str) -> str:
    """The Key Vault secret holding a widget's key: CONNECT_WIDGET_SECRET_SALES_EU -> connect-widget-secret-sales-eu
    (Key Vault names allow letters, digits and '-')."""
    match = _WIDGET_SECRET_NAME.match(setting)
    if match is None:
        raise ValueError(setting)
    return "connect-widget-secret-" + match.group(1).lower().replace("_", "-")


def _widgets(env: Mapping[str, str], vault: str, problems: list[str]) -> list[KeyValue]:
    """CONNECT_WIDGETS as written, then one Key Vault reference per widget key setting."""
    raw = env_value(env, WIDGETS_SETTING)
    if not raw:
        return []
    try:
        widgets = json.loads(raw)
    except ValueError:
        problems.append(f"{WIDGETS_SETTING} is not JSON: a JSON object keyed by widget id")
        return []
    if not isinstance(widgets, dict):
        problems.append(f"{WIDGETS_SETTING} must be a JSON object keyed by widget id")
        return []
    references: dict[str, KeyValue] = {}
    for widget_id, entry in widgets.items():
        setting = entry.get("secretSetting") if isinstance(entry, dict) else None
        if not isinstance(setting, str) or not _WIDGET_SECRET_NAME.match(setting):
            expected = f"{WIDGET_SECRET_SETTING}_<NAME>"
            problems.append(f"{WIDGETS_SETTING}: widget {widget_id}: secretSetting must be {expected}")
        elif setting in references:
            problems.append(f"{WIDGETS_SETTING}: widget {widget_id}: secretSetting {setting} is another widget's")
        else:
            uri = f"{vault}/secrets/{widget_secret_name(setting)}"
            references[setting] = KeyValue(setting, uri, key_vault_reference=True)
    return [KeyValue(WIDGETS_SETTING, json.dumps(widgets, separators=(",", ":"))), *references.values()]


def plan(env: Mapping[str, str], now: datetime) -> tuple[str, list[KeyValue]]:
    """(store endpoint, key-values in write order) or AppConfigHookError listing every problem at once."""
    problems: list[str] = []
    endpoint = env_value(env, "AZURE_APP_CONFIG_ENDPOINT")
    if not endpoint:
        problems.append("AZURE_APP_CONFIG_ENDPOINT is not set: run `azd provision` first (it is a deployment output)")
    elif not _https_host(endpoint):
        problems.append("AZURE_APP_CONFIG_ENDPOINT must be the store's https endpoint")
    secret_uri = env_value(env, "CONNECT_WIDGET_SECRET_URI")
    if not secret_uri:
        problems.append("CONNECT_WIDGET_SECRET_URI is not set: run `azd provision` first (it is a deployment output)")
    elif not (_https_host(secret_uri) and "/secrets/" in urlsplit(secret_uri).path):
        problems.append("CONNECT_WIDGET_SECRET_URI must be a Key Vault secret URI (https://<vault>/secrets/<name>)")
    sentinel = env_value(env, "APP_CONFIG_SENTINEL_KEY", DEFAULT_SENTINEL_KEY)
    if not _KEY.match(sentinel):
        problems.append(f"APP_CONFIG_SENTINEL_KEY {sentinel!r} is not a valid App Configuration key")
    settings = _settings(env, problems)
    if WIDGETS_SETTING in settings:
        problems.append(f"APP_CONFIG_SETTINGS must not hold {WIDGETS_SETTING}: it comes from the azd environment")
    vault = "https://" + urlsplit(secret_uri).netloc
    widgets = _widgets(env, vault, problems)
    if problems:
        raise AppConfigHookError(problems)
    writes = [KeyValue(name, value) for name, value in sorted(settings.items())]
    writes.append(KeyValue(WIDGET_SECRET_SETTING, secret_uri, key_vault_reference=True))
    writes.extend(widgets)
    writes.append(KeyValue(sentinel, now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return endpoint, writes


def _vault_secret(uri: str) -> tuple[str, str]:
    """(vault URL, secret name) of a versionless Key Vault secret URI."""
    parts = urlsplit(uri)
    return f"https://{parts.netloc}", parts.path.split("/secrets/", 1)[1].strip("/").split("/")[0]


def check_referenced_secrets(
    writes: Sequence[KeyValue], secret_names: Callable[[str], set[str]], log: Callable[[str], None]
) -> None:
    """Refuses to write a Key Vault reference to a secret that does not exist.

    One unresolvable reference fails the App Configuration provider's whole load, so a further widget's reference
    to a missing secret would take every new instance down for all widgets: store the key first (docs/deploy.md).
    The default widget's key is required anyway; when it is missing the hook says so and still writes the reference,
    so a first `azd up` can finish before a person sets the key.
    """
    names_by_vault: dict[str, set[str]] = {}
    problems = []
    for item in writes:
        if not item.key_vault_reference:
            continue
        vault, name = _vault_secret(item.value)
        if vault not in names_by_vault:
            names_by_vault[vault] = secret_names(vault)
        if name in names_by_vault[vault]:
            continue
        vault_name = (urlsplit(vault).hostname or "").split(".")[0]
        store_it = f"az keyvault secret set --vault-name {vault_name} --name {name}"
        if item.key == WIDGET_SECRET_SETTING:
            log(
                f"app config: the widget key {name} is not in the vault yet; the function answers 503 until a person "
                f"stores it: {store_it} --file <key file>"
            )
        else:
            problems.append(
                f"{item.key}: its Key Vault secret {name} does not exist; store the widget's key first "
                f"({store_it} --file <key file>), then run `azd hooks run postprovision`: a reference to a missing "
                "secret would fail the function's whole configuration load"
            )
    if problems:
        raise AppConfigHookError(problems)


def write_all(
    endpoint: str,
    writes: Sequence[KeyValue],
    *,
    tokens: AzdTokens,
    retries: Retries,
) -> None:
    """Writes each key-value in order, a Key Vault reference only when its secret exists, each write retried."""
    try:
        check_referenced_secrets(writes, lambda vault: key_vault_secret_names(tokens, vault, retries), retries.log)
        for item in writes:
            if item.key_vault_reference:
                value, content_type = json.dumps({"uri": item.value}), KEY_VAULT_REFERENCE_CONTENT_TYPE
            else:
                value, content_type = item.value, "text/plain"
            put_key_value(tokens, endpoint, item.key, value, content_type, retries)
            retries.log(f"app config: wrote {item.key}")
    except DataPlaneError as error:
        raise AppConfigHookError(error.problems) from error


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=DEFAULT_ATTEMPTS, help="tries per key (default %(default)s)")
    parser.add_argument(
        "--delay", type=float, default=DEFAULT_DELAY_SECONDS, help="seconds between tries (default %(default)s)"
    )
    args = parser.parse_args(argv)
    values = os.environ if env is None else env
    try:
        if args.attempts < 1 or args.delay < 0:
            raise AppConfigHookError(["--attempts must be at least 1 and --delay not negative"])
        endpoint, writes = plan(values, datetime.now(UTC))
        write_all(endpoint, writes, tokens=AzdTokens(), retries=Retries(attempts=args.attempts, delay=args.delay))
    except AppConfigHookError as error:
        for problem in error.problems:
            print(f"app config: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
