"""Security properties of infra/azure, asserted on the Bicep files parsed with pycep-parser.

The Bicep CLI cannot run here (.github/workflows/infra.yml runs `az bicep build` / `bicep lint` for users), so
these tests read the parsed resources. Each rule also runs on a deliberately broken copy to show it can fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.azure import bicep_rules as rules
from tests.infra.azure.bicep_model import (
    INFRA_DIR,
    MAIN_BICEP,
    MODULES_DIR,
    bicep_files,
    modules,
    parse_file,
    parse_text,
    references,
    resources,
    strings_in,
)

FUNCTION_APP = MODULES_DIR / "function-app.bicep"
STORAGE = MODULES_DIR / "storage.bicep"
MONITORING = MODULES_DIR / "monitoring.bicep"
APP_CONFIGURATION = MODULES_DIR / "app-configuration.bicep"
KEY_VAULT = MODULES_DIR / "key-vault.bicep"


def mutated(path: Path, old: str, new: str) -> dict:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not found in {path.name}: update the mutation"
    return parse_text(text.replace(old, new, 1))


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA_DIR)))
def test_every_bicep_file_parses_and_declares_something(path):
    parsed = parse_file(path)
    assert parsed.get("resources") or parsed.get("modules"), f"{path.name} declares nothing"


def test_there_is_one_bicep_file_per_module_and_all_are_used():
    used = {INFRA_DIR / declaration.type for declaration in modules(parse_file(MAIN_BICEP)).values()}
    assert set(bicep_files()) - {MAIN_BICEP} == {path.resolve() for path in used}


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        (FUNCTION_APP, rules.function_app_problems),
        (STORAGE, rules.storage_problems),
        (MONITORING, rules.monitoring_problems),
        (APP_CONFIGURATION, rules.app_configuration_problems),
        (KEY_VAULT, rules.key_vault_problems),
    ],
    ids=lambda value: getattr(value, "name", getattr(value, "__name__", "")),
)
def test_module_meets_its_security_rule(path, rule):
    assert rule(parse_file(path)) == []


@pytest.mark.parametrize(
    ("path", "rule", "old", "new", "expected"),
    [
        (FUNCTION_APP, rules.function_app_problems, "httpsOnly: true", "httpsOnly: false", "httpsOnly"),
        (FUNCTION_APP, rules.function_app_problems, "minTlsVersion: '1.2'", "minTlsVersion: '1.0'", "minTlsVersion"),
        (
            FUNCTION_APP,
            rules.function_app_problems,
            "type: 'UserAssigned'\n",
            "type: 'SystemAssigned'\n",
            "identity.type",
        ),
        (
            FUNCTION_APP,
            rules.function_app_problems,
            "allowedOrigins: allowedOrigins",
            "allowedOrigins: [ '*' ]",
            "wildcard",
        ),
        (
            FUNCTION_APP,
            rules.function_app_problems,
            "value: 'managedidentity'",
            "value: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=y'",
            "holds a key",
        ),
        (FUNCTION_APP, rules.function_app_problems, "version: '3.11'", "version: '3.9'", "runtime"),
        (
            STORAGE,
            rules.storage_problems,
            "allowSharedKeyAccess: false",
            "allowSharedKeyAccess: true",
            "allowSharedKeyAccess",
        ),
        (STORAGE, rules.storage_problems, "publicAccess: 'None'", "publicAccess: 'Blob'", "publicAccess"),
        (
            MONITORING,
            rules.monitoring_problems,
            "DisableLocalAuth: true",
            "DisableLocalAuth: false",
            "applicationInsights properties.DisableLocalAuth",
        ),
        (
            MONITORING,
            rules.monitoring_problems,
            "disableLocalAuth: true",
            "disableLocalAuth: false",
            "logAnalytics properties.features.disableLocalAuth",
        ),
        (
            APP_CONFIGURATION,
            rules.app_configuration_problems,
            "disableLocalAuth: true",
            "disableLocalAuth: false",
            "store properties.disableLocalAuth",
        ),
        (
            APP_CONFIGURATION,
            rules.app_configuration_problems,
            "output name string",
            "resource kv 'Microsoft.AppConfiguration/configurationStores/keyValues@2024-05-01' = {\n"
            "  parent: store\n  name: 'X'\n  properties: {\n    value: 'y'\n  }\n}\n\noutput name string",
            "writes a key-value from ARM",
        ),
        (
            APP_CONFIGURATION,
            rules.app_configuration_problems,
            "categoryGroup: 'audit'",
            "categoryGroup: 'allMetrics'",
            "audit category group",
        ),
        (
            KEY_VAULT,
            rules.key_vault_problems,
            "enablePurgeProtection: enablePurgeProtection ? true : null",
            "enablePurgeProtection: false",
            "enablePurgeProtection",
        ),
        (
            KEY_VAULT,
            rules.key_vault_problems,
            "param enablePurgeProtection bool = true",
            "param enablePurgeProtection bool = false",
            "default to true",
        ),
        (
            KEY_VAULT,
            rules.key_vault_problems,
            "workspaceId: logAnalyticsWorkspaceId",
            "workspaceId: 'x'",
            "workspaceId",
        ),
        (STORAGE, rules.storage_problems, "scope: blobService", "scope: storage", "diagnostic setting on blobService"),
        (MONITORING, rules.monitoring_problems, "dailyQuotaGb: dailyCapGb", "dailyQuotaGb: -1", "dailyQuotaGb"),
        (
            KEY_VAULT,
            rules.key_vault_problems,
            "enableRbacAuthorization: true",
            "enableRbacAuthorization: false",
            "enableRbacAuthorization",
        ),
        (KEY_VAULT, rules.key_vault_problems, "= if (!empty(widgetSecretValue)) {", "= {", "unconditional"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_security_rule_catches_a_broken_copy(path, rule, old, new, expected):
    problems = rule(mutated(path, old, new))
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("path", bicep_files(), ids=lambda p: str(p.relative_to(INFRA_DIR)))
def test_no_output_carries_a_secret(path):
    assert rules.output_problems(parse_file(path)) == []


@pytest.mark.parametrize(
    ("path", "extra_output", "expected"),
    [
        (KEY_VAULT, "output leaked string = widgetSecretValue\n", "@secure() parameter"),
        (KEY_VAULT, "output leaked string = 'key: ${widgetSecretValue}'\n", "@secure() parameter"),
        (KEY_VAULT, "output leaked string = widgetSecret.properties.value\n", "secret resource"),
        (STORAGE, "output keys object = storage.listKeys()\n", "list*"),
        (MONITORING, "output cs string = applicationInsights.properties.ConnectionString\n", "connection string"),
    ],
)
def test_output_rule_catches_a_leak(path, extra_output, expected):
    text = path.read_text(encoding="utf-8") + extra_output
    problems = rules.output_problems(parse_text(text))
    assert any(expected in problem for problem in problems), problems


def _all_role_assignments() -> dict[str, list[dict]]:
    return {path.name: rules.role_assignments(parse_file(path)) for path in bicep_files()}


def test_role_assignments_are_exactly_the_documented_ones():
    """Function identity: blob owner (host storage), metrics publisher, secrets user, config reader; nothing broader."""
    found = {
        (module, frozenset(assignment["roles"]), assignment["principal"], assignment["scope"])
        for module, assignments in _all_role_assignments().items()
        for assignment in assignments
    }
    assert found == {
        ("storage.bicep", frozenset({rules.STORAGE_BLOB_DATA_OWNER}), "functionPrincipalId", "storage"),
        # persistent chat: entities of the one chat history table, not the account's other tables
        (
            "storage.bicep",
            frozenset({rules.STORAGE_TABLE_DATA_CONTRIBUTOR}),
            "functionPrincipalId",
            "chatHistoryTable",
        ),
        (
            "function-app.bicep",
            frozenset({rules.MONITORING_METRICS_PUBLISHER}),
            "identityPrincipalId",
            "applicationInsights",
        ),
        ("key-vault.bicep", frozenset({rules.KEY_VAULT_SECRETS_USER}), "functionPrincipalId", "vault"),
        # set/rotate rights for a person or an admin group (a parameter), never the deployer (the CI identity)
        ("key-vault.bicep", frozenset({rules.KEY_VAULT_SECRETS_OFFICER}), "secretsOfficerPrincipalId", "vault"),
        ("app-configuration.bicep", frozenset({rules.APP_CONFIGURATION_DATA_READER}), "functionPrincipalId", "store"),
        ("app-configuration.bicep", frozenset({rules.APP_CONFIGURATION_DATA_OWNER}), "deployerPrincipalId", "store"),
        # secret names only (no value): the postprovision hook refuses a reference to a missing secret
        ("key-vault.bicep", frozenset({rules.KEY_VAULT_READER}), "deployerPrincipalId", "vault"),
    }


def test_function_role_assignments_name_a_service_principal():
    # principalType avoids a replication race: the identity is brand new when its roles are assigned.
    for assignments in _all_role_assignments().values():
        for assignment in assignments:
            if assignment["principal"] in {"functionPrincipalId", "identityPrincipalId"}:
                assert assignment["principalType"] == "ServicePrincipal", assignment["symbol"]


def test_every_role_assignment_states_its_principal_type():
    """A literal or a parameter whose allowed values are real principal types (ARM refuses a mismatch)."""
    for path in bicep_files():
        parsed = parse_file(path)
        for assignment in rules.role_assignments(parsed):
            principal_type = assignment["principalType"]
            assert principal_type, f"{path.name}: {assignment['symbol']} has no principalType"
            if principal_type != "ServicePrincipal":
                allowed = _allowed(parsed, principal_type)
                assert allowed and allowed <= {"User", "Group", "ServicePrincipal"}, (path.name, principal_type)


def _allowed(parsed: dict, parameter: str) -> set:
    decorators = parsed["parameters"][parameter]["decorators"]
    return {value for d in decorators if d["type"] == "allowed" for value in d["argument"]}


def test_the_widget_key_officer_can_never_be_a_service_principal():
    """Secrets Officer reads secret values: in CI the deployer is the GitHub identity, so it never gets the role."""
    vault = parse_file(KEY_VAULT)
    [officer] = [a for a in rules.role_assignments(vault) if rules.KEY_VAULT_SECRETS_OFFICER in a["roles"]]
    assert officer["principal"] == "secretsOfficerPrincipalId"
    assert _allowed(vault, officer["principalType"]) == {"User", "Group"}
    main = parse_file(MAIN_BICEP)
    key_vault = modules(main)["keyVault"]
    assert key_vault.get("params.secretsOfficerPrincipalId") == "keyVaultSecretsOfficerId"
    assert not references(key_vault.get("params.secretsOfficerPrincipalId"), "deployerObjectId")
    # The deployer gets Key Vault Reader only (secret names, never values), for the postprovision hook's check.
    assert key_vault.get("params.deployerPrincipalId") == "deployerObjectId"
    [reader] = [a for a in rules.role_assignments(vault) if a["principal"] == "deployerPrincipalId"]
    assert reader["roles"] == [rules.KEY_VAULT_READER] or set(reader["roles"]) == {rules.KEY_VAULT_READER}
    assert main["parameters"]["keyVaultSecretsOfficerId"]["default"] == ""


def test_role_resolution_sees_a_broader_role():
    owner = "8e3af657-a8ff-4c67-a5d4-b8cdd86dc1d7"
    parsed = mutated(
        KEY_VAULT,
        "var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'",
        f"var keyVaultSecretsUserRoleId = '{owner}'",
    )
    assert owner in {role for assignment in rules.role_assignments(parsed) for role in assignment["roles"]}


def test_main_passes_the_widget_secret_only_to_key_vault():
    main = parse_file(MAIN_BICEP)
    assert "connectWidgetSecret" in rules.secure_parameters(main)
    holders = [symbol for symbol, module in modules(main).items() if references(module.body, "connectWidgetSecret")]
    assert holders == ["keyVault"]
    assert modules(main)["keyVault"].get("params.widgetSecretValue") == "connectWidgetSecret"
    assert not references(main.get("variables"), "connectWidgetSecret")
    assert "widgetSecretValue" in rules.secure_parameters(parse_file(KEY_VAULT))


def test_key_vault_reference_is_what_the_function_reads_as_the_widget_secret():
    # main.bicep outputs it as CONNECT_WIDGET_SECRET_URI; the postprovision hook stores it as the reference.
    vault_outputs = parse_file(KEY_VAULT)["outputs"]
    assert vault_outputs["widgetSecretUri"]["value"] == "${vault.properties.vaultUri}secrets/${widgetSecretName}"


def test_cors_and_redirect_uris_come_from_the_static_web_app_and_custom_origins():
    main = parse_file(MAIN_BICEP)
    variables = main["variables"]
    web_origins = variables["webOrigins"]["value"]["function"]
    assert web_origins["type"] == "concat"
    assert web_origins["parameters"] == {
        "arg_1": ["https://${staticWebApp.outputs.defaultHostname}"],
        "arg_2": "customOrigins",
    }
    assert references(variables["customOrigins"]["value"], "customWebOrigins")
    assert modules(main)["functionApp"].get("params.allowedOrigins") == "webOrigins"
    redirect = variables["spaRedirectUris"]["value"]["function"]["parameters"]
    assert [
        redirect["arg_1"]["function"]["parameters"]["arg_2"]["detail"]["expression"],
        redirect["arg_2"]["function"]["parameters"]["arg_2"]["detail"]["expression"],
        redirect["arg_3"],
    ] == ["${origin}/", "${origin}/redirect.html", "localRedirectUris"]


def test_local_redirect_uris_default_to_none_and_only_development_registers_them():
    main = parse_file(MAIN_BICEP)
    parameters, variables = main["parameters"], main["variables"]
    assert parameters["localSpaRedirectUris"]["default"] == ""
    assert parameters["customWebOrigins"]["default"] == ""
    assert parameters["environmentType"]["default"] == "production"
    assert variables["isProduction"]["value"] == {
        "operator": {"type": "equals", "operands": {"operand_1": "environmentType", "operand_2": "production"}}
    }
    assert variables["localRedirectUris"]["value"] == {
        "operator": {
            "type": "conditional",
            "operands": {"condition": "isProduction", "true_value": [], "false_value": "requestedLocalRedirectUris"},
        }
    }
    built_in = [main["variables"], [spec.get("default") for spec in parameters.values()]]
    assert not any("localhost" in value for value in strings_in(built_in)), "no local URI is built into the template"


def test_only_purge_protection_follows_the_environment_type_and_retention_is_always_90_days():
    """Key Vault's retention is immutable once set: a varying retention would make ENVIRONMENT_TYPE unchangeable."""
    key_vault = modules(parse_file(MAIN_BICEP))["keyVault"]
    assert key_vault.get("params.enablePurgeProtection") == "isProduction"
    assert key_vault.get("params.softDeleteRetentionInDays") == 90


def test_audit_logs_and_the_daily_cap_are_wired_to_the_workspace():
    main_modules = modules(parse_file(MAIN_BICEP))
    workspace_id = {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": "monitoring",
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "logAnalyticsWorkspaceId"},
                    }
                },
            },
        }
    }
    for symbol in ("keyVault", "appConfiguration", "storage"):
        assert main_modules[symbol].get("params.logAnalyticsWorkspaceId") == workspace_id, symbol
    assert parse_file(MONITORING)["outputs"]["logAnalyticsWorkspaceId"]["value"] == {
        "operator": {"type": "property_accessor", "operands": {"operand_1": "logAnalytics", "operand_2": "id"}}
    }
    assert main_modules["monitoring"].get("params.dailyCapGb") == {
        "function": {"type": "int", "parameters": {"value_to_convert": "logAnalyticsDailyCapGb"}}
    }


def test_every_azure_resource_is_tagged():
    for path in bicep_files():
        for declaration in resources(parse_file(path)).values():
            if declaration.existing or declaration.type.startswith("Microsoft.Graph/"):
                continue
            # Tracked (top-level) resources take tags; child resources (an App Configuration replica) do not.
            if "location" in declaration.body and "parent" not in declaration.body:
                assert declaration.get("tags"), f"{path.name}: {declaration.symbol} has no tags"


def test_tags_carry_the_azd_environment_and_service_names():
    main = parse_file(MAIN_BICEP)
    assert main["variables"]["tags"]["value"] == {"'azd-env-name'": "environmentName"}
    assert modules(main)["staticWebApp"].get("params.tags") == {
        "function": {"type": "union", "parameters": {"arg_1": "tags", "arg_2": {"'azd-service-name'": "web"}}}
    }
    site = rules._one(parse_file(FUNCTION_APP), "Microsoft.Web/sites")
    assert site.get("tags") == {
        "function": {"type": "union", "parameters": {"arg_1": "tags", "arg_2": {"'azd-service-name'": "serviceName"}}}
    }
    assert parse_file(FUNCTION_APP)["parameters"]["serviceName"]["default"] == "api"
