"""Every setting the function reads (shared/catalogue.py) is provided by the deployment, under its exact name.

Required settings must be set (App Configuration key-values or app settings); secret settings exist only as Key
Vault references; every other name written is one the function knows; main.bicep derives exactly the settings the
catalogue marks as derived, and the optional ones never pass through main.bicep or main.parameters.json (the
postprovision hook reads them from the azd environment). The key-values are written by the postprovision hook
(infra/azure/hooks/write_app_config.py) from main.bicep's APP_CONFIG_SETTINGS and CONNECT_WIDGET_SECRET_URI outputs.
"""

from __future__ import annotations

import json

from shared.catalogue import (
    DERIVED_SETTING_NAMES,
    DEVELOPMENT_ONLY_SETTING_NAMES,
    OPTIONAL_SETTING_NAMES,
    REQUIRED_SETTING_NAMES,
    SECRET_SETTING_NAMES,
    SETTING_NAMES,
)
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


def _main_settings() -> dict:
    """The derived settings object: main.bicep's functionSettings."""
    return parse_file(MAIN_BICEP)["variables"]["functionSettings"]["value"]


def _function_app_settings() -> dict:
    site = next(
        d for d in resources(parse_file(MODULES_DIR / "function-app.bicep")).values() if d.type == "Microsoft.Web/sites"
    )
    return app_settings(site)


def _key_vault_reference_names() -> set[str]:
    return {app_config_hook.WIDGET_SECRET_SETTING}


def test_every_required_setting_is_provided():
    derived = _main_settings()
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
    derived = _main_settings()
    plain = set(derived) | set(OPTIONAL_SETTING_NAMES) | set(_function_app_settings())
    assert SECRET_SETTING_NAMES.isdisjoint(plain)
    # A development-only secret (Azurite's connection string) is never deployed: the identity reaches the table.
    assert _key_vault_reference_names() == set(SECRET_SETTING_NAMES) - DEVELOPMENT_ONLY_SETTING_NAMES


def test_no_unknown_setting_name_is_written():
    derived = _main_settings()
    known = set(SETTING_NAMES) | RUNTIME_SETTING_NAMES
    written = set(derived) | set(_function_app_settings())
    assert written <= known, written - known


def test_function_app_needs_only_the_store_endpoint_and_its_identity():
    settings = set(_function_app_settings())
    assert settings - RUNTIME_SETTING_NAMES == {"APP_CONFIG_ENDPOINT"}
    assert "AZURE_CLIENT_ID" in settings


def test_the_deployment_derives_exactly_what_the_catalogue_marks_as_derived():
    assert set(_main_settings()) == set(DERIVED_SETTING_NAMES)


def test_optional_settings_never_pass_through_the_parameters_file_or_main_bicep():
    """azd pastes parameters-file values as text inside JSON: JSON settings would break provisioning there. Every
    optional setting goes through the postprovision hook, which reads the catalogue (test_app_config_hook.py)."""
    parameters_text = (INFRA_DIR / "main.parameters.json").read_text(encoding="utf-8")
    main_text = MAIN_BICEP.read_text(encoding="utf-8")
    for name in OPTIONAL_SETTING_NAMES:
        assert name not in parameters_text, name
    assert "OptionalFunctionSettings" not in main_text
    assert "optionalFunctionSettings" not in parse_file(MAIN_BICEP)["parameters"]


def test_derived_settings_match_what_the_deployment_creates():
    derived = _main_settings()
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
