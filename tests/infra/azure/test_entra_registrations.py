"""The Entra app registrations declared with the Microsoft Graph Bicep extension, and the azd naming rules.

Microsoft Graph and Azure are not reachable here: these tests read the parsed declarations.
"""

from __future__ import annotations

import json
import re

from tests.infra.azure.bicep_model import (
    INFRA_DIR,
    MAIN_BICEP,
    MODULES_DIR,
    bicep_files,
    modules,
    parse_file,
    parse_text,
    resources,
    strings_in,
)

ENTRA_DIR = MODULES_DIR / "entra"
GRAPH_EXTENSION = "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0"


def _application(path):
    found = [d for d in resources(parse_file(path)).values() if d.type == "Microsoft.Graph/applications"]
    assert len(found) == 1
    return found[0]


def _service_principal_apps(path) -> list:
    return [
        d.get("appId") for d in resources(parse_file(path)).values() if d.type == "Microsoft.Graph/servicePrincipals"
    ]


def test_graph_extension_is_declared_where_graph_resources_are_and_configured():
    config = json.loads((INFRA_DIR / "bicepconfig.json").read_text(encoding="utf-8"))
    assert config["extensions"] == {"microsoftGraphV1": GRAPH_EXTENSION}
    for path in bicep_files():
        parsed = parse_file(path)
        uses_graph = any(d.type.startswith("Microsoft.Graph/") for d in resources(parsed).values())
        if uses_graph:
            assert "microsoftGraphV1" in (parsed.get("extensions") or {}), path.name
            assert all(
                d.get("uniqueName") or d.type == "Microsoft.Graph/servicePrincipals" for d in resources(parsed).values()
            ), path.name


def _module_output(module: str, output: str, fallback: str = "") -> dict:
    """The parsed form of `<module>.?outputs.<output> ?? <fallback>` (pycep drops the `?` of `.?`)."""
    return {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": module,
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {
                            "operand_1": "outputs",
                            "operand_2": {
                                "operator": {
                                    "type": "coalesce",
                                    "operands": {"operand_1": output, "operand_2": fallback},
                                }
                            },
                        },
                    }
                },
            },
        }
    }


def scope_and_pre_authorization_problems(parsed: dict) -> list[str]:
    """Graph refuses a pre-authorization naming a scope created in the same request (microsoft-graph-docs#20177)."""
    return [
        f"{d.symbol} defines oauth2PermissionScopes and preAuthorizedApplications in one Graph request"
        for d in resources(parsed).values()
        if d.type == "Microsoft.Graph/applications"
        and d.get("api.oauth2PermissionScopes")
        and d.get("api.preAuthorizedApplications")
    ]


def test_no_graph_request_both_creates_the_scope_and_pre_authorizes_it():
    for path in bicep_files():
        assert scope_and_pre_authorization_problems(parse_file(path)) == [], path.name


def test_the_scope_rule_catches_the_single_request_form():
    text = (ENTRA_DIR / "api-app.bicep").read_text(encoding="utf-8")
    old = "    oauth2PermissionScopes: ["
    assert old in text
    broken = text.replace(
        old, "    preAuthorizedApplications: [\n      {\n        appId: appId\n      }\n    ]\n" + old, 1
    )
    assert scope_and_pre_authorization_problems(parse_text(broken)) == [
        "apiApplication defines oauth2PermissionScopes and preAuthorizedApplications in one Graph request"
    ]


def test_api_app_exposes_jwt_read_with_v2_tokens():
    api = _application(ENTRA_DIR / "api-app.bicep")
    parsed = parse_file(ENTRA_DIR / "api-app.bicep")
    assert parsed["variables"]["scopeName"]["value"] == "JWT.Read"
    assert api.get("identifierUris") == ["api://${appId}"]
    assert api.get("api.requestedAccessTokenVersion") == 2
    [scope] = api.get("api.oauth2PermissionScopes")
    assert (scope["id"], scope["value"], scope["type"], scope["isEnabled"]) == ("scopeId", "scopeName", "User", True)
    assert api.get("api.preAuthorizedApplications") is None, "step 3 pre-authorizes, in a separate request"
    assert "passwordCredentials" not in api.body and "keyCredentials" not in api.body
    assert _service_principal_apps(ENTRA_DIR / "api-app.bicep") == [
        {"operator": {"type": "property_accessor", "operands": {"operand_1": "apiApplication", "operand_2": "appId"}}}
    ]
    outputs = parsed["outputs"]
    assert outputs["scope"]["value"] == "api://${apiApplication.appId}/${scopeName}"
    assert outputs["scopeId"]["value"] == "scopeId"


def test_step_three_pre_authorizes_the_page_and_lists_it_as_a_known_client():
    authorization = _application(ENTRA_DIR / "api-app-authorization.bicep")
    pre_authorized = authorization.get("api.preAuthorizedApplications")
    # The page and, when registered, the operator client (empty ids filtered out).
    assert pre_authorized["loop_type"]["detail"]["array_name"] == "preAuthorizedClientIds"
    assert pre_authorized["config"] == {"appId": "clientId", "delegatedPermissionIds": ["scopeId"]}
    parsed = parse_file(ENTRA_DIR / "api-app-authorization.bicep")
    ids = parsed["variables"]["preAuthorizedClientIds"]["value"]["function"]["parameters"]["input_array"]
    assert ids == ["spaClientId", "operatorClientId"]
    # Multi-tenant: consent to the page's app in another tenant provisions the API there too (AADSTS650052).
    assert authorization.get("api.knownClientApplications") == ["spaClientId"]
    assert authorization.get("api.oauth2PermissionScopes") is None
    assert "identifierUris" not in authorization.body
    assert _service_principal_apps(ENTRA_DIR / "api-app-authorization.bicep") == []


def test_api_app_reservation_sets_only_names_so_a_rerun_resets_nothing():
    reservation = _application(ENTRA_DIR / "api-app-reservation.bicep")
    assert set(reservation.body) == {"uniqueName", "displayName", "signInAudience", "owners"}


def test_the_three_api_declarations_share_one_unique_name_and_run_in_order():
    main_modules = modules(parse_file(MAIN_BICEP))
    for symbol in ("apiAppReservation", "apiApp", "apiAppAuthorization"):
        assert main_modules[symbol].get("params.uniqueName") == "apiAppUniqueName", symbol
    assert main_modules["apiApp"].get("params.appId") == _module_output("apiAppReservation", "appId")
    # Reading step 2's scopeId output is what makes step 3 wait for step 2.
    assert main_modules["apiAppAuthorization"].get("params.scopeId") == _module_output("apiApp", "scopeId")
    assert main_modules["apiAppAuthorization"].get("params.spaClientId") == "spaClientId"
    assert main_modules["apiApp"].get("params.spaClientId") is None


def test_spa_app_is_a_public_spa_client_that_requires_the_api_scope():
    spa = _application(ENTRA_DIR / "spa-app.bicep")
    assert spa.get("spa.redirectUris") == "redirectUris"
    assert "web" not in spa.body, "no web platform: no implicit grant, no client secret flow"
    assert "passwordCredentials" not in spa.body
    assert "isFallbackPublicClient" not in spa.body
    assert spa.get("requiredResourceAccess") == {
        "function": {"type": "concat", "parameters": {"arg_1": ["microsoftGraphAccess"], "arg_2": "apiAccess"}}
    }
    variables = parse_file(ENTRA_DIR / "spa-app.bicep")["variables"]
    graph = variables["microsoftGraphAccess"]["value"]
    assert graph["resourceAppId"] == "microsoftGraphAppId"
    assert variables["microsoftGraphAppId"]["value"] == "00000003-0000-0000-c000-000000000000"
    assert {variables[access["id"]]["value"] for access in graph["resourceAccess"]} == {
        "37f7f235-527c-4136-accd-4a02d197296e",  # openid
        "14dad69e-099b-42c9-810b-d002981feec1",  # profile
        "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",  # offline_access
    }
    api_access = variables["apiAccess"]["value"]["operator"]["operands"]
    assert api_access["false_value"] == [
        {"resourceAppId": "apiClientId", "resourceAccess": [{"id": "apiScopeId", "type": "Scope"}]}
    ]
    main_spa = modules(parse_file(MAIN_BICEP))["spaApp"]
    assert main_spa.get("params.redirectUris") == "spaRedirectUris"
    assert main_spa.get("params.apiScopeId") == _module_output("apiApp", "scopeId")
    assert main_spa.get("params.apiClientId") == {
        "operator": {
            "type": "conditional",
            "operands": {"condition": "createApiApp", "true_value": "apiClientId", "false_value": ""},
        }
    }


def test_existing_client_ids_skip_every_graph_module():
    main = parse_file(MAIN_BICEP)
    variables = main["variables"]
    graph_modules = {symbol: module for symbol, module in modules(main).items() if "/entra/" in module.type}
    assert set(graph_modules) == {"spaApp", "apiAppReservation", "apiApp", "apiAppAuthorization", "operatorApp"}
    assert graph_modules["spaApp"].condition == "createSpaApp"
    assert graph_modules["operatorApp"].condition == "createOperatorClient"
    assert variables["createOperatorClient"]["value"] == {
        "operator": {"type": "and", "operands": {"operand_1": "operatorClient", "operand_2": "createApiApp"}}
    }
    for symbol in ("apiAppReservation", "apiApp", "apiAppAuthorization"):
        assert graph_modules[symbol].condition == "createApiApp", symbol
    for flag, parameter in (("createSpaApp", "existingSpaClientId"), ("createApiApp", "existingApiClientId")):
        assert variables[flag]["value"] == {"function": {"type": "empty", "parameters": {"item_to_test": parameter}}}
        assert main["parameters"][parameter]["default"] == ""
    for symbol, module, existing in (
        ("spaClientId", "spaApp", "existingSpaClientId"),
        ("apiClientId", "apiApp", "existingApiClientId"),
    ):
        conditional = variables[symbol]["value"]["operator"]
        assert conditional["type"] == "conditional"
        assert conditional["operands"]["true_value"] == _module_output(module, "clientId")
        assert conditional["operands"]["false_value"] == existing


def test_conditional_module_outputs_are_read_with_safe_dereference():
    """`<module>.outputs` of a conditional module is BCP318 ("may be null"); `.?outputs` is the documented form."""
    conditional = [symbol for symbol, module in modules(parse_file(MAIN_BICEP)).items() if module.condition]
    assert len(conditional) == 5
    text = MAIN_BICEP.read_text(encoding="utf-8")
    for symbol in conditional:
        assert not re.search(rf"\b{symbol}\.outputs\b", text), f"{symbol}.outputs: use {symbol}.?outputs"
        assert re.search(rf"\b{symbol}\.\?outputs\b", text) or symbol == "apiAppAuthorization", symbol


def test_resource_names_use_abbreviations_and_the_resource_token():
    abbreviations = json.loads((INFRA_DIR / "abbreviations.json").read_text(encoding="utf-8"))
    main = parse_file(MAIN_BICEP)
    assert main["variables"]["resourceToken"]["value"] == {
        "function": {
            "type": "to_lower",
            "parameters": {
                "string_to_change": {
                    "function": {
                        "type": "unique_string",
                        "parameters": {
                            "base_string": {
                                "operator": {
                                    "type": "property_accessor",
                                    "operands": {
                                        "operand_1": {
                                            "function": {
                                                "type": "subscription",
                                                "parameters": {"subscription_id": None},
                                            }
                                        },
                                        "operand_2": "id",
                                    },
                                }
                            },
                            "extra_string_1": "environmentName",
                            "extra_string_2": "location",
                        },
                    }
                }
            },
        }
    }
    variables = {name: spec["value"] for name, spec in main["variables"].items()}
    azure_modules = [module for module in modules(main).values() if "/entra/" not in module.type]
    for module in azure_modules:
        for key, value in module.get("params").items():
            if key == "name" or (key.endswith("Name") and key.removesuffix("Name") in {"plan", "logAnalytics"}):
                assert str(variables.get(value, value)).startswith("${abbrs."), f"{module.symbol}.{key}"
    names = [variables.get(value, value) for module in azure_modules for value in strings_in(module.get("params"))]
    names = [name for name in names if isinstance(name, str) and "${abbrs." in name]
    used = set()
    for name in names:
        assert name.startswith("${abbrs.") and name.endswith("${resourceToken}"), name
        used.add(name.removeprefix("${abbrs.").split("}", 1)[0])
    assert used <= set(abbreviations), used - set(abbreviations)
    assert len(used) == 9, "every Azure resource module names its resource this way"
    group = resources(main)["rg"]
    assert group.get("name") == "${abbrs.resourcesResourceGroups}${environmentName}"
