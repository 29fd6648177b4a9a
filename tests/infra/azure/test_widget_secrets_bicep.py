"""Several widgets in the Bicep: their keys are a secure parameter that goes into Key Vault only, under the secret
names the postprovision hook's App Configuration references point at; never in a file or an output."""

from __future__ import annotations

import json
import re

import pytest

from shared.widget import key_vault_secret_name
from tests.infra.azure.bicep_model import MAIN_BICEP, parse_file
from tests.infra.azure.hook_modules import load_hook
from tests.support.iac_tools import REPO_ROOT

KEY_VAULT_BICEP = REPO_ROOT / "infra" / "azure" / "modules" / "key-vault.bicep"
PREFIX = "CONNECT_WIDGET_SECRET_"


def bicep_secret_name(template: str, setting: str) -> str:
    """Evaluates the module's name expression `...${toLower(replace(substring(entry.key, N), '_', '-'))}`."""
    match = re.fullmatch(r"(.*)\$\{toLower\(replace\(substring\(entry\.key, (\d+)\), '_', '-'\)\)\}", template)
    assert match, f"unexpected secret name expression {template!r}"
    return match.group(1) + setting[int(match.group(2)) :].replace("_", "-").lower()


def test_the_widget_keys_are_one_secure_parameter_passed_to_key_vault_only() -> None:
    main = parse_file(MAIN_BICEP)
    parameter = main["parameters"]["connectWidgetSecrets"]
    assert parameter["type"] == "object" and parameter["default"] == {}
    assert {"type": "secure"} in parameter["decorators"]
    text = MAIN_BICEP.read_text(encoding="utf-8")
    uses = [line.strip() for line in text.splitlines() if "connectWidgetSecrets" in line and "param " not in line]
    assert uses == ["additionalWidgetSecrets: connectWidgetSecrets"], uses
    assert "connectWidgetSecrets" not in json.dumps(main["outputs"])
    parameters_file = (REPO_ROOT / "infra" / "azure" / "main.parameters.json").read_text(encoding="utf-8")
    assert "connectWidgetSecrets" not in parameters_file  # never from a file


def test_each_widget_key_becomes_the_key_vault_secret_the_hook_references() -> None:
    module = parse_file(KEY_VAULT_BICEP)
    assert {"type": "secure"} in module["parameters"]["additionalWidgetSecrets"]["decorators"]
    secret = module["resources"]["additionalWidgetSecret"]
    assert secret["type"] == "Microsoft.KeyVault/vaults/secrets"
    loop = secret["config"]["loop_type"]["detail"]
    assert loop["array_name"] == {"function": {"type": "items", "parameters": {"arg_1": "additionalWidgetSecrets"}}}
    body = secret["config"]["config"]
    assert body["parent"] == "vault"
    assert load_hook("write_app_config").key_vault_secret_name is key_vault_secret_name, "the hook uses the rule"
    for setting in ("CONNECT_WIDGET_SECRET_SALES", "CONNECT_WIDGET_SECRET_SUPPORT_EU", "CONNECT_WIDGET_SECRET_B2"):
        assert bicep_secret_name(body["name"], setting) == key_vault_secret_name(setting)
    assert len(PREFIX) == 22
    assert "additionalWidgetSecrets" not in json.dumps(module.get("outputs", {}))


@pytest.mark.parametrize("setting", ["CONNECT_WIDGET_SECRET_SALES"])
def test_the_expression_evaluator_is_checked_against_a_hand_written_name(setting: str) -> None:
    template = "connect-widget-secret-${toLower(replace(substring(entry.key, 22), '_', '-'))}"
    assert bicep_secret_name(template, setting) == "connect-widget-secret-sales"
