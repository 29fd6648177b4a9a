"""Security rules over parsed Bicep: each returns the problems it finds (an empty list means the rule holds).

Rules take parsed documents (bicep_model.parse_file / parse_text) so a test can run them on the real files and on
deliberately broken copies, which proves that each rule can fail.
"""

from __future__ import annotations

from typing import Any

from tests.infra.azure.bicep_model import (
    Declaration,
    app_settings,
    called_names,
    guids_in,
    references,
    resources,
    secure_parameters,
    strings_in,
)

# Built-in role definition ids (field notes, section 3; Azure built-in roles reference).
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
APP_CONFIGURATION_DATA_READER = "516239f1-63e1-4d78-a4de-a74fb236a071"
APP_CONFIGURATION_DATA_OWNER = "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b"
KEY_VAULT_READER = "21090545-7ca7-4776-b22c-e363652d74d2"

# Settings whose presence would mean a key or connection secret sits in app settings.
_SECRET_SETTING_MARKERS = ("AccountKey=", "SharedAccessSignature", "InstrumentationKey=", "Password", "Secret")


def _one(parsed: dict[str, Any], resource_type: str) -> Declaration | None:
    found = [d for d in resources(parsed).values() if d.type == resource_type and not d.existing]
    return found[0] if len(found) == 1 else None


def _expect(problems: list[str], actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        problems.append(f"{what} is {actual!r}, expected {expected!r}")


def _expect_properties(problems: list[str], declaration: Declaration, expected: dict[str, Any]) -> None:
    """Checks {dotted path: value} on a declaration; problems read "<symbol> <path> is ..., expected ..."."""
    for path, value in expected.items():
        _expect(problems, declaration.get(path), value, f"{declaration.symbol} {path}")


def function_app_problems(parsed: dict[str, Any]) -> list[str]:
    """Flex Consumption, Python 3.11 on Linux, HTTPS only, TLS 1.2, user-assigned identity, no secret in settings."""
    site = _one(parsed, "Microsoft.Web/sites")
    plan = _one(parsed, "Microsoft.Web/serverfarms")
    if site is None or plan is None:
        return ["expected exactly one function app and one plan"]
    problems: list[str] = []
    _expect_properties(problems, plan, {"sku.name": "FC1", "sku.tier": "FlexConsumption", "properties.reserved": True})
    _expect_properties(
        problems,
        site,
        {
            "kind": "functionapp,linux",
            "identity.type": "UserAssigned",
            "properties.httpsOnly": True,
            "properties.siteConfig.minTlsVersion": "1.2",
            "properties.siteConfig.scmMinTlsVersion": "1.2",
            "properties.siteConfig.ftpsState": "Disabled",
            "properties.functionAppConfig.runtime": {"name": "python", "version": "3.11"},
            "properties.functionAppConfig.deployment.storage.authentication.type": "UserAssignedIdentity",
            # The allowedOrigins parameter: main.bicep passes the Static Web App origin plus custom origins.
            "properties.siteConfig.cors.allowedOrigins": "allowedOrigins",
            "properties.siteConfig.cors.supportCredentials": False,
        },
    )
    cors = site.get("properties.siteConfig.cors", {})
    if any("*" in value for value in strings_in(cors)):
        problems.append("CORS must not contain a wildcard origin")

    settings = app_settings(site)
    _expect(problems, settings.get("AzureWebJobsStorage__credential"), "managedidentity", "host storage credential")
    for name in ("AzureWebJobsStorage__clientId", "AzureWebJobsStorage__blobServiceUri"):
        if name not in settings:
            problems.append(f"app setting {name} is missing (identity-based host storage)")
    if "AzureWebJobsStorage" in settings:
        problems.append("app setting AzureWebJobsStorage is a connection string: use the __credential form")
    _expect(problems, settings.get("AZURE_CLIENT_ID"), "identityClientId", "AZURE_CLIENT_ID")
    _expect(problems, settings.get("APP_CONFIG_ENDPOINT"), "appConfigEndpoint", "APP_CONFIG_ENDPOINT")
    _expect(
        problems,
        settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING"),
        "ClientId=${identityClientId};Authorization=AAD",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    )
    for name, value in settings.items():
        if any(marker.lower() in text.lower() for marker in _SECRET_SETTING_MARKERS for text in strings_in(value)):
            problems.append(f"app setting {name} looks like it holds a key or secret")
        if any(name.lower().startswith("list") for name in called_names(value)):
            problems.append(f"app setting {name} calls a list* function (keys)")

    publishing = {
        d.get("name"): d.get("properties.allow")
        for d in resources(parsed).values()
        if d.type == "Microsoft.Web/sites/basicPublishingCredentialsPolicies"
    }
    _expect(problems, publishing, {"ftp": False, "scm": False}, "basic publishing credentials")
    return problems


def storage_problems(parsed: dict[str, Any]) -> list[str]:
    account = _one(parsed, "Microsoft.Storage/storageAccounts")
    if account is None:
        return ["expected exactly one storage account"]
    problems: list[str] = []
    _expect_properties(
        problems,
        account,
        {
            "properties.allowSharedKeyAccess": False,
            "properties.allowBlobPublicAccess": False,
            "properties.minimumTlsVersion": "TLS1_2",
            "properties.supportsHttpsTrafficOnly": True,
        },
    )
    for container in resources(parsed).values():
        if container.type == "Microsoft.Storage/storageAccounts/blobServices/containers":
            _expect_properties(problems, container, {"properties.publicAccess": "None"})
    blob_services = [
        d for d in resources(parsed).values() if d.type == "Microsoft.Storage/storageAccounts/blobServices"
    ]
    if len(blob_services) != 1:
        problems.append("expected one blob service")
    else:
        problems += audit_log_problems(parsed, blob_services[0].symbol)
    return problems


def monitoring_problems(parsed: dict[str, Any]) -> list[str]:
    insights = _one(parsed, "Microsoft.Insights/components")
    workspace = _one(parsed, "Microsoft.OperationalInsights/workspaces")
    if insights is None or workspace is None:
        return ["expected one Application Insights component and one Log Analytics workspace"]
    problems: list[str] = []
    workspace_id = {
        "operator": {"type": "property_accessor", "operands": {"operand_1": workspace.symbol, "operand_2": "id"}}
    }
    _expect_properties(
        problems, insights, {"properties.DisableLocalAuth": True, "properties.WorkspaceResourceId": workspace_id}
    )
    _expect_properties(
        problems,
        workspace,
        {"properties.features.disableLocalAuth": True, "properties.workspaceCapping.dailyQuotaGb": "dailyCapGb"},
    )
    return problems


def app_configuration_problems(parsed: dict[str, Any]) -> list[str]:
    store = _one(parsed, "Microsoft.AppConfiguration/configurationStores")
    if store is None:
        return ["expected exactly one App Configuration store"]
    problems: list[str] = []
    _expect_properties(
        problems,
        store,
        {"properties.disableLocalAuth": True, "properties.dataPlaneProxy.authenticationMode": "Pass-through"},
    )
    # Key-values written by ARM race the deployer's role granted in the same deployment (403 on a first run):
    # the postprovision hook writes them, with retries.
    for declaration in resources(parsed).values():
        if declaration.type == "Microsoft.AppConfiguration/configurationStores/keyValues":
            problems.append(f"{declaration.symbol} writes a key-value from ARM: the postprovision hook writes them")
    problems += audit_log_problems(parsed, store.symbol)
    return problems


def key_vault_problems(parsed: dict[str, Any]) -> list[str]:
    vault = _one(parsed, "Microsoft.KeyVault/vaults")
    if vault is None:
        return ["expected exactly one Key Vault"]
    problems: list[str] = []
    _expect_properties(
        problems,
        vault,
        {
            "properties.enableRbacAuthorization": True,
            # On for production; when off, absent (Key Vault refuses `false`).
            "properties.enablePurgeProtection": {
                "operator": {
                    "type": "conditional",
                    "operands": {"condition": "enablePurgeProtection", "true_value": True, "false_value": None},
                }
            },
            "properties.enableSoftDelete": True,
        },
    )
    if (parsed.get("parameters") or {}).get("enablePurgeProtection", {}).get("default") is not True:
        problems.append("enablePurgeProtection must default to true")
    if vault.get("properties.accessPolicies"):
        problems.append("access policies are set: the vault must be RBAC-only")
    secure = secure_parameters(parsed)
    for secret in resources(parsed).values():
        if secret.type == "Microsoft.KeyVault/vaults/secrets":
            looped = _looped_secure_parameter(parsed, secret.symbol)
            value = secret.get("properties.value")
            if looped is not None:
                # [for entry in items(<secure object>): ...]: only the widgets given are written, none emptied.
                from_secure = looped in secure and value == _ENTRY_VALUE
            else:
                from_secure = isinstance(value, str) and value in secure
                if secret.condition is None:
                    problems.append(f"secret {secret.symbol} is unconditional: an empty value would overwrite the key")
            if not from_secure:
                problems.append(f"secret {secret.symbol} takes its value from something other than a @secure() param")
            if not secret.get("properties.contentType"):
                problems.append(f"secret {secret.symbol} has no contentType")
    problems += audit_log_problems(parsed, vault.symbol)
    return problems


_ENTRY_VALUE = {"operator": {"type": "property_accessor", "operands": {"operand_1": "entry", "operand_2": "value"}}}


def _looped_secure_parameter(parsed: dict[str, Any], symbol: str) -> str | None:
    """The parameter a `[for entry in items(<param>): ...]` resource iterates, or None for a plain resource."""
    loop = (parsed.get("resources") or {}).get(symbol, {}).get("config", {}).get("loop_type")
    if not isinstance(loop, dict):
        return None
    array = loop.get("detail", {}).get("array_name", {})
    function = array.get("function", {}) if isinstance(array, dict) else {}
    if function.get("type") != "items":
        return None
    argument = function.get("parameters", {}).get("arg_1")
    return argument if isinstance(argument, str) else None


def audit_log_problems(parsed: dict[str, Any], target: str) -> list[str]:
    """A diagnostic setting on ``target`` sends its audit category group to the workspace parameter."""
    settings = [
        d
        for d in resources(parsed).values()
        if d.type == "Microsoft.Insights/diagnosticSettings" and d.get("scope") == target
    ]
    if len(settings) != 1:
        return [f"expected one diagnostic setting on {target}, found {len(settings)}"]
    problems: list[str] = []
    _expect_properties(problems, settings[0], {"properties.workspaceId": "logAnalyticsWorkspaceId"})
    if {"categoryGroup": "audit", "enabled": True} not in (settings[0].get("properties.logs") or []):
        problems.append(f"{settings[0].symbol} does not send the audit category group")
    return problems


def output_problems(parsed: dict[str, Any]) -> list[str]:
    """No output carries a secure parameter, a list*() result, a secret value or a connection string."""
    problems: list[str] = []
    secure = secure_parameters(parsed)
    secret_symbols = {d.symbol for d in resources(parsed).values() if d.type == "Microsoft.KeyVault/vaults/secrets"}
    for name, output in (parsed.get("outputs") or {}).items():
        value = output["value"]
        for parameter in secure:
            if references(value, parameter):
                problems.append(f"output {name} exposes the @secure() parameter {parameter}")
        if any(
            name.lower().startswith("list") or name.lower() in {"getsecret", "get_secret"}
            for name in called_names(value)
        ):
            problems.append(f"output {name} calls a list*/getSecret function")
        if any("connectionstring" in text.lower() for text in strings_in(value)):
            problems.append(f"output {name} exposes a connection string")
        if "password" in name.lower():
            problems.append(f"output {name} is named like a password")
        for symbol in secret_symbols:
            if references(value, symbol):
                problems.append(f"output {name} reads the Key Vault secret resource {symbol}")
    return problems


def role_assignments(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """Role assignments as {role, principal, scope, principalType}, the role resolved through variables."""
    variables = {name: spec.get("value") for name, spec in (parsed.get("variables") or {}).items()}
    found = []
    for declaration in resources(parsed).values():
        if declaration.type != "Microsoft.Authorization/roleAssignments":
            continue
        role_expression = declaration.get("properties.roleDefinitionId")
        role_ids = guids_in(role_expression) or {
            guid for name, value in variables.items() if references(role_expression, name) for guid in guids_in(value)
        }
        found.append(
            {
                "symbol": declaration.symbol,
                "roles": role_ids,
                "principal": declaration.get("properties.principalId"),
                "scope": declaration.get("scope"),
                "principalType": declaration.get("properties.principalType"),
            }
        )
    return found
