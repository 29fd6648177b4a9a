"""azd postprovision hook: writes the function's key-values into App Configuration with the deployer's identity.

Why a hook and not Bicep: ARM would write the key-values seconds after the same deployment grants the deployer
App Configuration Data Owner, and a new role assignment takes minutes to apply, so a first `azd up` would likely
get 403. Here every write is `az appconfig kv set --auth-mode login` (the signed-in Azure CLI identity), retried
a bounded number of times until the role is effective. What is written, label-less (the function reads those):

  - every non-empty setting of the APP_CONFIG_SETTINGS deployment output (a JSON object: name -> value), which
    holds only what the deployment derives from what it creates (the catalogue marks them, shared/catalogue.py);
  - every optional catalogue setting set in the azd environment (`azd env set CONNECT_SEGMENT_ATTRIBUTES '{...}'`):
    read here and never through main.parameters.json, where azd pastes values as raw text and JSON's quotes would
    break the file. The function's own parse checks them first (its import chain is standard library only);
  - CONNECT_WIDGET_SECRET as a Key Vault reference to CONNECT_WIDGET_SECRET_URI: the key itself stays in Key Vault;
  - when the azd environment sets CONNECT_WIDGETS (more widgets, a JSON object keyed by widget id): for each widget
    its `secretSetting` (CONNECT_WIDGET_SECRET_<NAME>) as a Key Vault reference to the secret
    `connect-widget-secret-<name>` in the same vault, which a person sets with `az keyvault secret set`
    (docs/deploy.md);
  - last, the sentinel key (APP_CONFIG_SENTINEL_KEY, default connect-sso:sentinel) set to this run's time, so a
    function that watches it reloads once, after every other key is in place.

Values are settings, not secrets; still, only key names are printed (and the function's own message for a value it
would refuse, which never holds a secret).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

# The function's catalogue and widget rules, imported from the repository (standard library only, so the bare
# `python3` azd runs suffices).
sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from shared.catalogue import OPTIONAL_SETTING_NAMES, default_of, is_secret_setting
from shared.setting_reader import ConfigurationError
from shared.settings import parse_settings
from shared.widget import (
    WIDGET_SECRET_PREFIX,
    WIDGET_SECRET_SETTING,
    WIDGETS_SETTING,
    is_widget_secret_setting,
    key_vault_secret_name,
)

DEFAULT_SENTINEL_KEY = default_of("APP_CONFIG_SENTINEL_KEY") or ""
# A first write waits for the deployer's new role: about six minutes in all before giving up.
DEFAULT_ATTEMPTS = 12
DEFAULT_DELAY_SECONDS = 30.0
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
    raw = env.get("APP_CONFIG_SETTINGS", "").strip()
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
        if name == WIDGET_SECRET_SETTING or is_widget_secret_setting(name):
            problems.append(f"APP_CONFIG_SETTINGS must not hold {name}: it is only a Key Vault reference")
        elif name in OPTIONAL_SETTING_NAMES:
            problems.append(f"APP_CONFIG_SETTINGS must not hold {name}: it comes from the azd environment")
    # Unset optional settings are left out, so the function applies its own defaults.
    return {name: value for name, value in settings.items() if value.strip()}


def optional_settings(env: Mapping[str, str]) -> dict[str, str]:
    """Every optional catalogue setting set (non-empty) in the azd environment."""
    return {name: env[name].strip() for name in OPTIONAL_SETTING_NAMES if env.get(name, "").strip()}


def function_problems(settings: Mapping[str, str]) -> list[str]:
    """What the function itself would refuse in these settings (widget keys are in Key Vault: not checked here)."""
    try:
        parse_settings(settings)
    except ConfigurationError as error:
        return [str(problem) for problem in error.problems if not is_secret_setting(problem.name)]
    return []


def _widget_references(env: Mapping[str, str], vault: str, problems: list[str]) -> list[KeyValue]:
    """One Key Vault reference per widget key setting of CONNECT_WIDGETS."""
    raw = env.get(WIDGETS_SETTING, "").strip()
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
        if not isinstance(setting, str) or not is_widget_secret_setting(setting):
            expected = f"{WIDGET_SECRET_PREFIX}<NAME>"
            problems.append(f"{WIDGETS_SETTING}: widget {widget_id}: secretSetting must be {expected}")
        elif setting in references:
            problems.append(f"{WIDGETS_SETTING}: widget {widget_id}: secretSetting {setting} is another widget's")
        else:
            uri = f"{vault}/secrets/{key_vault_secret_name(setting)}"
            references[setting] = KeyValue(setting, uri, key_vault_reference=True)
    return list(references.values())


def plan(env: Mapping[str, str], now: datetime) -> tuple[str, list[KeyValue]]:
    """(store endpoint, key-values in write order) or AppConfigHookError listing every problem at once."""
    problems: list[str] = []
    endpoint = env.get("AZURE_APP_CONFIG_ENDPOINT", "").strip()
    if not endpoint:
        problems.append("AZURE_APP_CONFIG_ENDPOINT is not set: run `azd provision` first (it is a deployment output)")
    elif not _https_host(endpoint):
        problems.append("AZURE_APP_CONFIG_ENDPOINT must be the store's https endpoint")
    secret_uri = env.get("CONNECT_WIDGET_SECRET_URI", "").strip()
    if not secret_uri:
        problems.append("CONNECT_WIDGET_SECRET_URI is not set: run `azd provision` first (it is a deployment output)")
    elif not (_https_host(secret_uri) and "/secrets/" in urlsplit(secret_uri).path):
        problems.append("CONNECT_WIDGET_SECRET_URI must be a Key Vault secret URI (https://<vault>/secrets/<name>)")
    sentinel = env.get("APP_CONFIG_SENTINEL_KEY", "").strip() or DEFAULT_SENTINEL_KEY
    if not _KEY.match(sentinel):
        problems.append(f"APP_CONFIG_SENTINEL_KEY {sentinel!r} is not a valid App Configuration key")
    derived = _settings(env, problems)
    optional = optional_settings(env)
    vault = "https://" + urlsplit(secret_uri).netloc
    references = _widget_references(env, vault, problems)
    if not problems:
        problems.extend(function_problems({**derived, **optional}))
    if problems:
        raise AppConfigHookError(problems)
    widgets = optional.pop(WIDGETS_SETTING, None)
    writes = [KeyValue(name, value) for name, value in sorted({**derived, **optional}.items())]
    writes.append(KeyValue(WIDGET_SECRET_SETTING, secret_uri, key_vault_reference=True))
    if widgets is not None:
        # As one compact line; then its keys' references, so the function never sees a widget without its key.
        writes.append(KeyValue(WIDGETS_SETTING, json.dumps(json.loads(widgets), separators=(",", ":"))))
    writes.extend(references)
    writes.append(KeyValue(sentinel, now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    return endpoint, writes


def az_arguments(endpoint: str, item: KeyValue) -> list[str]:
    """The Azure CLI arguments (after `az`) that write one key-value with the signed-in identity."""
    common = ["--endpoint", endpoint, "--auth-mode", "login", "--key", item.key, "--yes", "--only-show-errors"]
    if item.key_vault_reference:
        return ["appconfig", "kv", "set-keyvault", *common, "--secret-identifier", item.value, "--output", "none"]
    value = ["--value", item.value, "--content-type", "text/plain"]
    return ["appconfig", "kv", "set", *common, *value, "--output", "none"]


Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # The Azure CLI found on PATH, with arguments built above, never through a shell.
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


def write_all(
    az: str,
    endpoint: str,
    writes: Sequence[KeyValue],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
    delay: float = DEFAULT_DELAY_SECONDS,
    run: Runner = _run,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> None:
    """Writes each key-value in order, each with up to ``attempts`` tries ``delay`` seconds apart."""
    for item in writes:
        for attempt in range(1, attempts + 1):
            completed = run([az, *az_arguments(endpoint, item)])
            if completed.returncode == 0:
                log(f"app config: wrote {item.key}")
                break
            reason = (completed.stderr or completed.stdout or "").strip().splitlines()
            last = reason[-1][:300] if reason else f"exit status {completed.returncode}"
            if attempt == attempts:
                raise AppConfigHookError(
                    [
                        f"writing {item.key} failed {attempts} times; last: {last}",
                        "check that `az login` uses the identity that ran `azd provision` (it holds App "
                        "Configuration Data Owner on the store), then run `azd hooks run postprovision`",
                    ]
                )
            # Most likely the role granted a moment ago is not effective yet (403).
            log(f"app config: {item.key} not written yet (try {attempt} of {attempts}): {last}")
            sleep(delay)


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
        az = shutil.which("az")
        if az is None:
            raise AppConfigHookError(
                ["the Azure CLI (az) is not on PATH: install it, `az login`, then `azd hooks run postprovision`"]
            )
        write_all(az, endpoint, writes, attempts=args.attempts, delay=args.delay)
    except AppConfigHookError as error:
        for problem in error.problems:
            print(f"app config: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
