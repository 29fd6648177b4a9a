"""The postprovision hook that writes App Configuration (infra/azure/hooks/write_app_config.py).

Azure cannot be reached here, so a fake `az` on PATH stands in for the Azure CLI: a small script that records
each call's arguments and fails the first N calls the way `az appconfig kv set` does while the deployer's new
role is not effective yet (403). The hook itself runs as azd runs it: a separate process with the azd
environment as its environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.infra.azure.bicep_model import MAIN_BICEP, parse_file
from tests.infra.azure.hook_modules import HOOKS_DIR, load_hook

hook = load_hook("write_app_config")
HOOK_PATH = HOOKS_DIR / "write_app_config.py"
ENDPOINT = "https://appcs-abc123.azconfig.io"
SECRET_URI = "https://kv-abc123.vault.azure.net/secrets/connect-widget-secret"
# What the deployment derives (its APP_CONFIG_SETTINGS output) ...
DERIVED_SETTINGS = {
    "ENTRA_TENANT_ID": "00000000-0000-0000-0000-000000000000",
    "ENTRA_API_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
    "CONNECT_WIDGET_ID": "00000000-0000-0000-0000-000000000003",
    "REQUIRED_SCOPES": "JWT.Read",
    "ALLOWED_CLIENT_APP_IDS": "00000000-0000-0000-0000-000000000001",
}
# ... and what the operator set with `azd env set` (JSON included: it never passes through main.parameters.json).
OPTIONAL_SETTINGS = {
    "CONNECT_SEGMENT_ATTRIBUTES": '{"connect:Subtype": {"ValueString": "connect:Guide"}}',
    "VERBOSE_LOG": "",
}
SETTINGS = {**DERIVED_SETTINGS, **OPTIONAL_SETTINGS}
# What `azd provision` leaves in the azd environment (azd stores object outputs as JSON text).
AZD_ENV = {
    "AZURE_APP_CONFIG_ENDPOINT": ENDPOINT,
    "APP_CONFIG_SETTINGS": json.dumps(DERIVED_SETTINGS),
    "CONNECT_WIDGET_SECRET_URI": SECRET_URI,
    **OPTIONAL_SETTINGS,
}
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

FAKE_AZ = """#!{python}
import json, os, sys
log = os.environ["FAKE_AZ_LOG"]
with open(log, "a", encoding="utf-8") as handle:
    handle.write(json.dumps(sys.argv[1:]) + "\\n")
calls = sum(1 for _ in open(log, encoding="utf-8"))
if calls <= int(os.environ.get("FAKE_AZ_FAILURES", "0")):
    sys.stderr.write("ERROR: Operation returned an invalid status 'Forbidden'\\n")
    sys.exit(1)
"""


@pytest.fixture
def fake_az(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "az"
    script.write_text(FAKE_AZ.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)
    return folder


def run_hook(fake_az: Path, env: dict[str, str], failures: int = 0, *args: str) -> tuple[int, str, list[list[str]]]:
    log = fake_az.parent / "az-calls.jsonl"
    process_env = {
        "PATH": f"{fake_az}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZ_LOG": str(log),
        "FAKE_AZ_FAILURES": str(failures),
        **env,
    }
    completed = subprocess.run(
        [sys.executable, str(HOOK_PATH), "--delay", "0", *args],
        env=process_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return completed.returncode, completed.stderr, calls


def _option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


def test_writes_every_setting_then_the_key_vault_reference_then_the_sentinel(fake_az):
    code, err, calls = run_hook(fake_az, AZD_ENV)

    assert code == 0, err
    written = {_option(call, "--key"): call for call in calls}
    expected_settings = {name for name, value in SETTINGS.items() if value}
    assert [_option(call, "--key") for call in calls] == [
        *sorted(expected_settings),
        "CONNECT_WIDGET_SECRET",
        "connect-sso:sentinel",
    ]
    for name in expected_settings:
        call = written[name]
        assert call[:3] == ["appconfig", "kv", "set"]
        assert _option(call, "--value") == SETTINGS[name]
        assert _option(call, "--content-type") == "text/plain"
    reference = written["CONNECT_WIDGET_SECRET"]
    assert reference[:3] == ["appconfig", "kv", "set-keyvault"]
    assert _option(reference, "--secret-identifier") == SECRET_URI
    assert "--value" not in reference, "the widget key is never a plain value in App Configuration"
    for call in calls:
        assert (_option(call, "--endpoint"), _option(call, "--auth-mode")) == (ENDPOINT, "login")
        assert "--label" not in call, "the function reads label-less keys"
        assert "--yes" in call
    datetime.strptime(_option(written["connect-sso:sentinel"], "--value"), "%Y-%m-%dT%H:%M:%SZ")


def test_retries_while_the_role_is_not_effective_yet(fake_az):
    code, err, calls = run_hook(fake_az, AZD_ENV, failures=3)

    assert code == 0, err
    keys = [_option(call, "--key") for call in calls]
    assert keys[:4] == [keys[0]] * 4, "the first key is tried until the role applies"
    assert err.count("not written yet (try") == 3
    assert "Forbidden" in err


def test_gives_up_after_the_bounded_number_of_tries_and_says_what_to_do(fake_az):
    code, err, calls = run_hook(fake_az, AZD_ENV, 100, "--attempts", "4")

    assert code == 1
    assert len(calls) == 4
    assert "failed 4 times; last: ERROR: Operation returned an invalid status 'Forbidden'" in err
    assert "azd hooks run postprovision" in err


def test_the_sentinel_key_can_be_renamed(fake_az):
    code, err, calls = run_hook(fake_az, {**AZD_ENV, "APP_CONFIG_SENTINEL_KEY": "chat:sentinel"})
    assert code == 0, err
    assert _option(calls[-1], "--key") == "chat:sentinel"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AZURE_APP_CONFIG_ENDPOINT", "", "AZURE_APP_CONFIG_ENDPOINT is not set: run `azd provision` first"),
        ("AZURE_APP_CONFIG_ENDPOINT", "http://appcs.azconfig.io", "must be the store's https endpoint"),
        ("APP_CONFIG_SETTINGS", "", "APP_CONFIG_SETTINGS is not set"),
        ("APP_CONFIG_SETTINGS", "{not json", "APP_CONFIG_SETTINGS is not JSON"),
        ("APP_CONFIG_SETTINGS", '{"X": 1}', "JSON object of setting name -> text"),
        ("APP_CONFIG_SETTINGS", '{"CONNECT_WIDGET_SECRET": "k"}', "must not hold CONNECT_WIDGET_SECRET"),
        ("CONNECT_WIDGET_SECRET_URI", "https://kv.vault.azure.net/keys/x", "must be a Key Vault secret URI"),
        ("APP_CONFIG_SENTINEL_KEY", "50%", "is not a valid App Configuration key"),
    ],
)
def test_names_the_value_to_fix_and_writes_nothing(name, value, message):
    with pytest.raises(hook.AppConfigHookError) as raised:
        hook.plan({**AZD_ENV, name: value}, NOW)
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_without_the_azure_cli_it_says_so(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(HOOK_PATH)],
        env={"PATH": str(tmp_path), **AZD_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "the Azure CLI (az) is not on PATH" in completed.stderr


def test_reads_the_outputs_main_bicep_declares():
    outputs = parse_file(MAIN_BICEP)["outputs"]
    assert {"AZURE_APP_CONFIG_ENDPOINT", "APP_CONFIG_SETTINGS", "CONNECT_WIDGET_SECRET_URI"} <= set(outputs)
    assert outputs["APP_CONFIG_SETTINGS"]["type"] == "object"


# Several widgets (issue 11): CONNECT_WIDGETS from the azd environment, one Key Vault reference per widget key.
SALES_ID = "0f8e7d6c-0000-4000-8000-00000000e001"
SUPPORT_ID = "0f8e7d6c-0000-4000-8000-00000000e002"
TWO_WIDGETS = {
    SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": 300, "customAttributes": "department"},
    SUPPORT_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SUPPORT_EU"},
}


def test_two_widgets_become_app_configuration_keys_and_key_vault_references(fake_az):
    code, err, calls = run_hook(fake_az, {**AZD_ENV, "CONNECT_WIDGETS": json.dumps(TWO_WIDGETS)})

    assert code == 0, err
    keys = [_option(call, "--key") for call in calls]
    assert keys[-5:] == [
        "CONNECT_WIDGET_SECRET",
        "CONNECT_WIDGETS",
        "CONNECT_WIDGET_SECRET_SALES",
        "CONNECT_WIDGET_SECRET_SUPPORT_EU",
        "connect-sso:sentinel",
    ]
    written = {_option(call, "--key"): call for call in calls}
    widgets = written["CONNECT_WIDGETS"]
    assert widgets[:3] == ["appconfig", "kv", "set"]
    assert json.loads(_option(widgets, "--value")) == TWO_WIDGETS
    for setting, secret in [
        ("CONNECT_WIDGET_SECRET_SALES", "connect-widget-secret-sales"),
        ("CONNECT_WIDGET_SECRET_SUPPORT_EU", "connect-widget-secret-support-eu"),
    ]:
        reference = written[setting]
        assert reference[:3] == ["appconfig", "kv", "set-keyvault"]
        assert _option(reference, "--secret-identifier") == f"https://kv-abc123.vault.azure.net/secrets/{secret}"
        assert "--value" not in reference, "a widget key is never a plain value in App Configuration"


def test_the_references_written_for_two_widgets_are_ones_the_function_accepts_and_resolves_by_name():
    """The hook's plan, read back the way App Configuration serves it, parses into the function's settings."""
    from shared.app_configuration import parse_key_vault_reference
    from shared.catalogue import is_secret_setting

    _, writes = hook.plan({**AZD_ENV, "CONNECT_WIDGETS": json.dumps(TWO_WIDGETS)}, NOW)
    references = {item.key: item.value for item in writes if item.key_vault_reference}
    assert set(references) == {
        "CONNECT_WIDGET_SECRET",
        "CONNECT_WIDGET_SECRET_SALES",
        "CONNECT_WIDGET_SECRET_SUPPORT_EU",
    }
    for key, uri in references.items():
        assert is_secret_setting(key)
        vault, name, version = parse_key_vault_reference(key, json.dumps({"uri": uri}))
        assert (vault, version) == ("https://kv-abc123.vault.azure.net", None)
        assert name.startswith("connect-widget-secret")
    assert not any(item.key.startswith("CONNECT_WIDGET_SECRET_") for item in writes if not item.key_vault_reference)


@pytest.mark.parametrize(
    ("widgets", "expected"),
    [
        ("{not json", "CONNECT_WIDGETS is not JSON"),
        ("[]", "CONNECT_WIDGETS must be a JSON object"),
        (json.dumps({SALES_ID: {}}), f"widget {SALES_ID}: secretSetting must be CONNECT_WIDGET_SECRET_<NAME>"),
        (json.dumps({SALES_ID: {"secretSetting": "SALES_KEY"}}), "secretSetting must be CONNECT_WIDGET_SECRET_<NAME>"),
        (
            json.dumps(
                {
                    SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_X"},
                    SUPPORT_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_X"},
                }
            ),
            f"widget {SUPPORT_ID}: secretSetting CONNECT_WIDGET_SECRET_X is another widget's",
        ),
    ],
)
def test_a_bad_connect_widgets_stops_the_hook_before_any_write(fake_az, widgets, expected):
    code, err, calls = run_hook(fake_az, {**AZD_ENV, "CONNECT_WIDGETS": widgets})
    assert code == 1
    assert expected in err
    assert calls == []


@pytest.mark.parametrize("name", ["CONNECT_WIDGET_SECRET_SALES", "CONNECT_WIDGETS"])
def test_widget_settings_never_travel_in_the_deployment_output(fake_az, name):
    settings = json.dumps({**DERIVED_SETTINGS, name: "x"})
    code, err, calls = run_hook(fake_az, {**AZD_ENV, "APP_CONFIG_SETTINGS": settings})
    assert code == 1
    assert f"APP_CONFIG_SETTINGS must not hold {name}" in err
    assert calls == []


# One road for settings (issue 18, issue 22 item 6): every optional catalogue setting comes from the azd
# environment through this hook, JSON included; the function's own parse checks it before anything is written.
def test_every_optional_catalogue_setting_set_in_the_azd_environment_is_written(fake_az):
    from shared.catalogue import OPTIONAL_SETTING_NAMES

    chosen = {
        "ENTRA_ALLOWED_TENANT_IDS": "00000000-0000-0000-0000-000000000000",
        "ENTRA_API_AUDIENCES": "api://contoso/chat",
        "ENTRA_AUTHORITY": "https://login.microsoftonline.com/<tenant>/v2.0",
        "CLOCK_SKEW_SECONDS": "30",
        "CONNECT_WIDGETS": json.dumps(TWO_WIDGETS),
        "CONNECT_TOKEN_TTL_SECONDS": "300",
        "CONNECT_SEGMENT_ATTRIBUTES": json.dumps({"connect:Subtype": {"ValueString": 'say "hi" \\ bye'}}),
        "CONNECT_CUSTOMER_ID_CLAIM": "oid",
        "SSO_CUSTOM_ATTRIBUTES": "department, ctry:country",
        "VERBOSE_LOG": "false",
    }
    assert set(chosen) == set(OPTIONAL_SETTING_NAMES), "a new optional setting: add it here with a valid value"
    code, err, calls = run_hook(fake_az, {**AZD_ENV, **chosen})
    assert code == 0, err
    written = {_option(call, "--key"): _option(call, "--value") for call in calls if "--value" in call}
    for name, value in chosen.items():
        assert json.loads(written[name]) == json.loads(value) if name == "CONNECT_WIDGETS" else written[name] == value


def test_a_setting_the_function_would_refuse_stops_the_hook_before_any_write(fake_az):
    code, err, calls = run_hook(fake_az, {**AZD_ENV, "CONNECT_TOKEN_TTL_SECONDS": "900"})
    assert code == 1
    assert "CONNECT_TOKEN_TTL_SECONDS: must be a whole number from 1 to 600" in err
    assert calls == []


def test_an_empty_optional_setting_is_left_unset(fake_az):
    code, err, calls = run_hook(fake_az, {**AZD_ENV, "CONNECT_CUSTOMER_ID_CLAIM": "", "CLOCK_SKEW_SECONDS": " "})
    assert code == 0, err
    keys = {_option(call, "--key") for call in calls}
    assert {"CONNECT_CUSTOMER_ID_CLAIM", "CLOCK_SKEW_SECONDS"}.isdisjoint(keys)


def test_the_catalogue_the_hook_imports_needs_only_the_standard_library():
    """azd runs the hook with a bare python3: the function's catalogue and parse must import without packages."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import shared.catalogue, shared.settings; "
        "print(sorted({name.split('.')[0] for name in sys.modules} - set(sys.stdlib_module_names) - {'__main__'}))"
    )
    repo = str(HOOK_PATH.parents[3])
    completed = subprocess.run(
        [sys.executable, "-S", "-c", probe, repo], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.strip() == "['shared']"
    # And the hook itself runs without site-packages.
    completed = subprocess.run(
        [sys.executable, "-S", str(HOOK_PATH), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
