"""The postprovision hook that writes App Configuration (infra/azure/hooks/write_app_config.py).

Azure cannot be reached here. The hook runs as azd runs it (a separate process with the azd environment as its
environment) against the loopback App Configuration and Key Vault stand-ins (tests/support/azure_stand_ins.py),
over HTTPS with the test certificate (SSL_CERT_FILE). Entra cannot be reached either, so a fake `azd` on PATH
stands in for `azd auth token`: it records the scopes asked for and hands out the stand-ins' fake tokens, or fails
the way azd does when its federated assertion is refused.
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
from tests.support.azure_stand_ins import KEY_VAULT_REFERENCE_CONTENT_TYPE

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
    "CHAT_HISTORY_ENDPOINT": "https://stexample.table.core.windows.net/",
    "CHAT_HISTORY_TABLE": "chathistory",
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

FAKE_AZD = """#!{python}
import hashlib, json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AZD_LOG"], "a", encoding="utf-8") as handle:
    handle.write(json.dumps(args) + "\\n")
if args[:2] != ["auth", "token"] or "--output" not in args or args[args.index("--output") + 1] != "json":
    sys.exit(2)
if os.environ.get("FAKE_AZD_FAILURE"):
    sys.stderr.write(os.environ["FAKE_AZD_FAILURE"] + "\\n")
    sys.exit(1)
scope = args[args.index("--scope") + 1]
token = "fake-access-token-" + hashlib.sha256(scope.encode()).hexdigest()[:12]
print(json.dumps({{"token": token, "expiresOn": "2099-01-01T00:00:00Z"}}))
"""


def install_fake_azd(folder: Path) -> Path:
    """A folder holding the fake `azd`, to put first on PATH."""
    folder.mkdir()
    script = folder / "azd"
    script.write_text(FAKE_AZD.format(python=sys.executable), encoding="utf-8")
    script.chmod(0o755)
    return folder


@pytest.fixture
def fake_azd(tmp_path: Path) -> Path:
    return install_fake_azd(tmp_path / "bin")


def stand_in_env(azure) -> dict[str, str]:
    """The azd environment of a deployment whose store and vault are the stand-ins; the default key is stored."""
    azure.vault.secrets["connect-widget-secret"] = "obviously-fake-widget-key"
    return {
        **AZD_ENV,
        "AZURE_APP_CONFIG_ENDPOINT": azure.store.url,
        "CONNECT_WIDGET_SECRET_URI": azure.vault.secret_uri("connect-widget-secret"),
        "SSL_CERT_FILE": azure.store.ca_file,
    }


def run_hook(fake_azd: Path, env: dict[str, str], *args: str, azd_failure: str = "") -> tuple[int, str, list]:
    log = fake_azd.parent / "azd-calls.jsonl"
    process_env = {
        "PATH": f"{fake_azd}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZD_LOG": str(log),
        "FAKE_AZD_FAILURE": azd_failure,
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


def writes(azure) -> list[str]:
    """Keys written (PUT /kv/{key}) in order, refused writes included."""
    return [r.path.removeprefix("/kv/") for r in azure.store.requests if r.method == "PUT"]


def stored(azure, key: str):
    return azure.store.values[(key, None)]


def test_writes_every_setting_then_the_key_vault_reference_then_the_sentinel(fake_azd, azure):
    code, err, azd_calls = run_hook(fake_azd, stand_in_env(azure))

    assert code == 0, err
    expected_settings = {name for name, value in SETTINGS.items() if value}
    assert writes(azure) == [*sorted(expected_settings), "CONNECT_WIDGET_SECRET", "connect-sso%3Asentinel"]
    for name in expected_settings:
        assert (stored(azure, name).value, stored(azure, name).content_type) == (SETTINGS[name], "text/plain")
    reference = stored(azure, "CONNECT_WIDGET_SECRET")
    assert reference.content_type == KEY_VAULT_REFERENCE_CONTENT_TYPE
    assert json.loads(reference.value) == {"uri": azure.vault.secret_uri("connect-widget-secret")}
    assert all(r.query == {"api-version": ["2023-11-01"]} for r in azure.store.requests), "label-less keys only"
    datetime.strptime(stored(azure, "connect-sso:sentinel").value, "%Y-%m-%dT%H:%M:%SZ")
    # Tokens come from azd, one per audience (cached), never from `az login`.
    assert [call[call.index("--scope") + 1] for call in azd_calls] == [
        "https://vault.azure.net/.default",
        "https://appconfig.azure.com/.default",
    ]
    assert azure.vault.count("/secrets/connect-widget-secret") == 0, "the hook never reads a secret's value"


@pytest.mark.parametrize("status", [403, 401, 429, 500, 503])
def test_retries_while_waiting_can_help(fake_azd, azure, status):
    azure.store.write_refusals = [status] * 3

    code, err, _ = run_hook(fake_azd, stand_in_env(azure))

    assert code == 0, err
    keys = writes(azure)
    assert keys[:4] == [keys[0]] * 4, "the first key is tried until it is accepted"
    assert err.count("not yet (try") == 3
    assert f"{status}" in err


def test_gives_up_after_the_bounded_number_of_tries_naming_the_real_cause(fake_azd, azure):
    azure.store.write_refusals = [403] * 100

    code, err, _ = run_hook(fake_azd, stand_in_env(azure), "--attempts", "4")

    assert code == 1
    assert len(writes(azure)) == 4
    assert "failed 4 times; last: 403 Forbidden" in err
    assert "does not hold App Configuration Data Owner" in err
    assert "azd hooks run postprovision" in err
    assert "az login" not in err


def test_a_refusal_waiting_cannot_cure_stops_at_once(fake_azd, azure):
    azure.store.write_refusals = [400]

    code, err, _ = run_hook(fake_azd, stand_in_env(azure))

    assert code == 1
    assert len(writes(azure)) == 1
    assert "failed: 400 from" in err


def test_a_token_azd_cannot_issue_is_named_and_nothing_is_retried(fake_azd, azure):
    aadsts = "ERROR: AADSTS700024: Client assertion is not within its valid time range."

    code, err, azd_calls = run_hook(fake_azd, stand_in_env(azure), azd_failure=aadsts)

    assert code == 1
    assert aadsts in err
    assert "azd auth login" in err
    assert len(azd_calls) == 1
    assert writes(azure) == []


def test_without_azd_on_path_it_says_so(tmp_path, azure):
    completed = subprocess.run(
        [sys.executable, str(HOOK_PATH)],
        env={"PATH": str(tmp_path), **stand_in_env(azure)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "the Azure Developer CLI (azd) is not on PATH" in completed.stderr


def test_the_sentinel_key_can_be_renamed(fake_azd, azure):
    code, err, _ = run_hook(fake_azd, {**stand_in_env(azure), "APP_CONFIG_SENTINEL_KEY": "chat:sentinel"})
    assert code == 0, err
    assert writes(azure)[-1] == "chat%3Asentinel"


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


def test_two_widgets_become_app_configuration_keys_and_key_vault_references(fake_azd, azure):
    env = stand_in_env(azure)
    for secret in ("connect-widget-secret-sales", "connect-widget-secret-support-eu"):
        azure.vault.secrets[secret] = "obviously-fake-" + secret

    code, err, _ = run_hook(fake_azd, {**env, "CONNECT_WIDGETS": json.dumps(TWO_WIDGETS)})

    assert code == 0, err
    assert writes(azure)[-5:] == [
        "CONNECT_WIDGET_SECRET",
        "CONNECT_WIDGETS",
        "CONNECT_WIDGET_SECRET_SALES",
        "CONNECT_WIDGET_SECRET_SUPPORT_EU",
        "connect-sso%3Asentinel",
    ]
    assert json.loads(stored(azure, "CONNECT_WIDGETS").value) == TWO_WIDGETS
    for setting, secret in [
        ("CONNECT_WIDGET_SECRET_SALES", "connect-widget-secret-sales"),
        ("CONNECT_WIDGET_SECRET_SUPPORT_EU", "connect-widget-secret-support-eu"),
    ]:
        reference = stored(azure, setting)
        assert reference.content_type == KEY_VAULT_REFERENCE_CONTENT_TYPE, "a widget key is never a plain value"
        assert json.loads(reference.value) == {"uri": azure.vault.secret_uri(secret)}


def test_refuses_a_reference_to_a_widget_key_not_stored_yet_and_writes_nothing(fake_azd, azure):
    """A reference to a missing secret fails the provider's whole load: every widget would be down (issue 22, 5)."""
    env = stand_in_env(azure)
    azure.vault.secrets["connect-widget-secret-sales"] = "obviously-fake-sales-key"

    code, err, _ = run_hook(fake_azd, {**env, "CONNECT_WIDGETS": json.dumps(TWO_WIDGETS)})

    assert code == 1
    assert (
        "CONNECT_WIDGET_SECRET_SUPPORT_EU: its Key Vault secret connect-widget-secret-support-eu does not exist" in err
    )
    assert "az keyvault secret set --vault-name localhost --name connect-widget-secret-support-eu" in err
    assert "SALES" not in err.replace("CONNECT_WIDGETS", "")
    assert writes(azure) == []


def test_a_missing_default_widget_key_is_reported_but_does_not_stop_a_first_deployment(fake_azd, azure):
    env = stand_in_env(azure)
    del azure.vault.secrets["connect-widget-secret"]

    code, err, _ = run_hook(fake_azd, env)

    assert code == 0, err
    assert "the widget key connect-widget-secret is not in the vault yet" in err
    assert "CONNECT_WIDGET_SECRET" in {key for key, _ in azure.store.values}


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
def test_a_bad_connect_widgets_stops_the_hook_before_any_write(fake_azd, azure, widgets, expected):
    code, err, azd_calls = run_hook(fake_azd, {**stand_in_env(azure), "CONNECT_WIDGETS": widgets})
    assert code == 1
    assert expected in err
    assert (azd_calls, azure.store.requests) == ([], [])


@pytest.mark.parametrize("name", ["CONNECT_WIDGET_SECRET_SALES", "CONNECT_WIDGETS"])
def test_widget_settings_never_travel_in_the_deployment_output(fake_azd, azure, name):
    settings = json.dumps({**DERIVED_SETTINGS, name: "x"})
    code, err, azd_calls = run_hook(fake_azd, {**stand_in_env(azure), "APP_CONFIG_SETTINGS": settings})
    assert code == 1
    assert f"APP_CONFIG_SETTINGS must not hold {name}" in err
    assert (azd_calls, azure.store.requests) == ([], [])


# One road for settings (issue 18, issue 22 item 6): every optional catalogue setting comes from the azd
# environment through this hook, JSON included; the function's own parse checks it before anything is written.
def test_every_optional_catalogue_setting_set_in_the_azd_environment_is_written(fake_azd, azure):
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
        "CONNECT_REQUIRED_AUTH_CONTEXT": "c1",
        "SSO_CUSTOM_ATTRIBUTES": "department, ctry:country",
        "VERBOSE_LOG": "false",
        "CONNECT_PERSISTENT_CHAT": "true",
        "CHAT_HISTORY_RETENTION_DAYS": "14",
    }
    assert set(chosen) == set(OPTIONAL_SETTING_NAMES), "a new optional setting: add it here with a valid value"
    for secret in ("connect-widget-secret-sales", "connect-widget-secret-support-eu"):
        azure.vault.secrets[secret] = "obviously-fake-" + secret
    code, err, _ = run_hook(fake_azd, {**stand_in_env(azure), **chosen})
    assert code == 0, err
    for name, value in chosen.items():
        written = stored(azure, name).value
        assert json.loads(written) == json.loads(value) if name == "CONNECT_WIDGETS" else written == value


def test_a_setting_the_function_would_refuse_stops_the_hook_before_any_write(fake_azd, azure):
    code, err, _ = run_hook(fake_azd, {**stand_in_env(azure), "CONNECT_TOKEN_TTL_SECONDS": "900"})
    assert code == 1
    assert "CONNECT_TOKEN_TTL_SECONDS: must be a whole number from 1 to 600" in err
    assert writes(azure) == []


def test_an_empty_optional_setting_is_left_unset(fake_azd, azure):
    env = {**stand_in_env(azure), "CONNECT_CUSTOMER_ID_CLAIM": "", "CLOCK_SKEW_SECONDS": " "}
    code, err, _ = run_hook(fake_azd, env)
    assert code == 0, err
    assert {"CONNECT_CUSTOMER_ID_CLAIM", "CLOCK_SKEW_SECONDS"}.isdisjoint(writes(azure))


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
