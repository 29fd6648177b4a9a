"""Every setting the function reads (shared/settings.py) is provided by the deployment, under its exact name.

Required settings must be set (App Configuration key-values or app settings); secret settings exist only as Key
Vault references; every other name written is one the function knows; the optional settings parameter offers
exactly the optional names, and main.parameters.json maps each of them from an azd environment value. The
key-values are written by the postprovision hook (infra/azure/hooks/write_app_config.py) from main.bicep's
APP_CONFIG_SETTINGS and CONNECT_WIDGET_SECRET_URI outputs.
"""

from __future__ import annotations

import json

from shared.settings import REQUIRED_SETTING_NAMES, SECRET_SETTING_NAMES, SETTING_NAMES
from tests.infra.azure.bicep_model import (
    INFRA_DIR,
    MAIN_BICEP,
    MODULES_DIR,
    app_settings,
    modules,
    parse_file,
    resources,
    unquote,
)
from tests.infra.azure.hook_modules import load_hook

app_config_hook = load_hook("write_app_config")

# Functions host and platform settings on the app itself (not read by function_app.py's settings parser).
RUNTIME_SETTING_NAMES = {
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "AzureWebJobsStorage__blobServiceUri",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY",
    "AZURE_CLIENT_ID",
    "PYTHON_THREADPOOL_THREAD_COUNT",  # the worker's threads, matched to the HTTP per-instance concurrency
}
# Derived by main.bicep from what it creates; not offered as optional overrides.
DERIVED_SETTING_NAMES = {
    "ENTRA_TENANT_ID",
    "ENTRA_API_CLIENT_ID",
    "CONNECT_WIDGET_ID",
    "REQUIRED_SCOPES",
    "ALLOWED_CLIENT_APP_IDS",
}
# APP_CONFIG_ENDPOINT points at the store (an app setting); keys carry no label, so APP_CONFIG_LABEL stays unset;
# how the store is read (sentinel key, refresh intervals) comes from the environment only and keeps its defaults.
STORE_SETTING_NAMES = {
    "APP_CONFIG_ENDPOINT",
    "APP_CONFIG_LABEL",
    "APP_CONFIG_SENTINEL_KEY",
    "APP_CONFIG_REFRESH_SECONDS",
    "APP_CONFIG_SECRET_REFRESH_SECONDS",
}


def _main_settings() -> tuple[dict, dict]:
    """(derived settings object, optional settings type) from main.bicep's functionSettings = union(...)."""
    main = parse_file(MAIN_BICEP)
    union = main["variables"]["functionSettings"]["value"]["function"]
    assert union["type"] == "union"
    assert union["parameters"]["arg_2"] == "optionalFunctionSettings"
    optional_type = main["types"][main["parameters"]["optionalFunctionSettings"]["type"]]
    return union["parameters"]["arg_1"], optional_type


def _function_app_settings() -> dict:
    site = next(
        d for d in resources(parse_file(MODULES_DIR / "function-app.bicep")).values() if d.type == "Microsoft.Web/sites"
    )
    return app_settings(site)


def _key_vault_reference_names() -> set[str]:
    return {app_config_hook.WIDGET_SECRET_SETTING}


def test_every_required_setting_is_provided():
    derived, _ = _main_settings()
    provided = set(derived) | set(_function_app_settings()) | _key_vault_reference_names()
    assert set(REQUIRED_SETTING_NAMES) <= provided, set(REQUIRED_SETTING_NAMES) - provided


def test_main_hands_the_settings_and_the_secret_uri_to_the_postprovision_hook():
    main = parse_file(MAIN_BICEP)
    outputs = main["outputs"]
    assert outputs["APP_CONFIG_SETTINGS"] == {"decorators": [], "type": "object", "value": "functionSettings"}
    assert outputs["CONNECT_WIDGET_SECRET_URI"]["value"] == {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": "keyVault",
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "widgetSecretUri"},
                    }
                },
            },
        }
    }
    assert {"AZURE_APP_CONFIG_ENDPOINT", "APP_CONFIG_SETTINGS", "CONNECT_WIDGET_SECRET_URI"} <= set(outputs)
    main_modules = modules(main)
    assert main_modules["functionApp"].get("params.appConfigEndpoint") == {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": "appConfiguration",
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "endpoint"},
                    }
                },
            },
        }
    }


def test_secret_settings_are_only_key_vault_references():
    derived, optional_type = _main_settings()
    plain = set(derived) | set(optional_type["value"]) | set(_function_app_settings())
    assert SECRET_SETTING_NAMES.isdisjoint(plain)
    assert _key_vault_reference_names() == set(SECRET_SETTING_NAMES)


def test_no_unknown_setting_name_is_written():
    derived, optional_type = _main_settings()
    known = set(SETTING_NAMES) | RUNTIME_SETTING_NAMES
    written = set(derived) | set(optional_type["value"]) | set(_function_app_settings())
    assert written <= known, written - known


def test_function_app_needs_only_the_store_endpoint_and_its_identity():
    settings = set(_function_app_settings())
    assert settings - RUNTIME_SETTING_NAMES == {"APP_CONFIG_ENDPOINT"}
    assert "AZURE_CLIENT_ID" in settings


def test_optional_settings_type_offers_exactly_the_optional_names():
    derived, optional_type = _main_settings()
    assert set(derived) == DERIVED_SETTING_NAMES
    expected = set(SETTING_NAMES) - DERIVED_SETTING_NAMES - SECRET_SETTING_NAMES - STORE_SETTING_NAMES
    # JSON with quotes cannot pass through azd's text substitution into main.parameters.json: the postprovision
    # hook reads CONNECT_WIDGETS from the azd environment itself (tests/infra/azure/test_app_config_hook.py).
    expected -= {"CONNECT_WIDGETS"}
    assert set(optional_type["value"]) == expected
    assert {"type": "sealed"} in optional_type["decorators"], "a misspelt optional setting must fail to compile"


def test_parameters_file_maps_every_optional_setting_from_the_azd_environment():
    parameters = json.loads((INFRA_DIR / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    mapped = parameters["optionalFunctionSettings"]["value"]
    _, optional_type = _main_settings()
    assert set(mapped) == set(optional_type["value"])
    assert mapped == {name: f"${{{name}=}}" for name in mapped}


def test_derived_settings_match_what_the_deployment_creates():
    derived, _ = _main_settings()
    assert derived["ENTRA_API_CLIENT_ID"] == "apiClientId"
    # The page's client, plus the operator client only when operatorClient registered one (empty ids dropped).
    allowed = derived["ALLOWED_CLIENT_APP_IDS"]["function"]
    assert allowed["type"] == "join" and allowed["parameters"]["delimiter"] == ","
    assert allowed["parameters"]["input_array"]["function"]["parameters"]["input_array"] == [
        "spaClientId",
        "operatorClientId",
    ]
    assert derived["CONNECT_WIDGET_ID"] == "connectWidgetId"
    assert derived["REQUIRED_SCOPES"] == "apiScopeName"
    assert parse_file(MAIN_BICEP)["variables"]["apiScopeName"]["value"] == "JWT.Read"
    # Multi-tenant sign-in makes the function accept `organizations` (then ENTRA_ALLOWED_TENANT_IDS applies).
    assert "organizations" in json.dumps(derived["ENTRA_TENANT_ID"])
    assert all(unquote(name) == name for name in derived)


def test_the_function_resolves_the_reference_this_deployment_writes():
    """The Key Vault reference the hook writes for CONNECT_WIDGET_SECRET_URI is one the function's loader accepts."""
    from shared.app_configuration import parse_key_vault_reference

    # `az appconfig kv set-keyvault` (the hook) stores {"uri": <secret identifier>} with the Key Vault reference
    # content type. Key Vault's vaultUri ends with "/"; the module appends secrets/<name> (no version: rotation
    # needs none).
    value = json.dumps({"uri": "https://kv-abc123.vault.azure.net/secrets/connect-widget-secret"})
    assert parse_key_vault_reference("CONNECT_WIDGET_SECRET", value) == (
        "https://kv-abc123.vault.azure.net",
        "connect-widget-secret",
        None,
    )
    main = parse_file(MAIN_BICEP)
    assert main["variables"]["widgetSecretName"]["value"] == "connect-widget-secret"
