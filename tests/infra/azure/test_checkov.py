"""checkov's Bicep policies over infra/azure, with a reviewed list of accepted findings.

The run is offline (--skip-download). The accepted findings must be exactly what checkov reports: a new finding
fails the test, and so does a stale entry here (a finding that no longer fires must leave this list).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infra.azure.bicep_model import INFRA_DIR
from tests.support.iac_tools import iac_tool

pytestmark = pytest.mark.iac

# Reviewed findings, keyed by (check id, resource). Each says why the design accepts it.
ACCEPTED_FINDINGS: dict[tuple[str, str], str] = {
    # The page calls the function from users' browsers on the internet: it must be reachable publicly.
    # Protection is the Entra access-token check, CORS and HTTPS, not the network.
    ("CKV_AZURE_222", "Microsoft.Web/sites.functionApp"): "public endpoint by design (browser clients)",
    # Browsers do not present client certificates; callers authenticate with an Entra bearer token.
    ("CKV_AZURE_17", "Microsoft.Web/sites.functionApp"): "auth is the Entra bearer token",
    # Flex Consumption scales out on demand and has no App Service health-check or minimum-instance setting
    # (always-ready instances are an optional cost); the function holds no state to fail over.
    ("CKV_AZURE_212", "Microsoft.Web/sites.functionApp"): "Flex Consumption scales on demand",
    ("CKV_AZURE_213", "Microsoft.Web/sites.functionApp"): "no health-check setting on Flex Consumption",
    ("CKV_AZURE_225", "Microsoft.Web/serverfarms.plan"): "zone redundancy is optional and region-limited on FC1",
    # Without virtual network integration the function reaches storage and Key Vault over their public endpoints.
    # Every call is Entra-authenticated: shared keys are off and the vault is RBAC-only.
    ("CKV_AZURE_35", "Microsoft.Storage/storageAccounts.storage"): "no VNet; shared key access off",
    ("CKV_AZURE_59", "Microsoft.Storage/storageAccounts.storage"): "no VNet; anonymous blob access off",
    ("CKV_AZURE_109", "Microsoft.KeyVault/vaults.vault"): "no VNet; RBAC-only vault",
    ("CKV_AZURE_189", "Microsoft.KeyVault/vaults.vault"): "no VNet; RBAC-only vault",
    # The account holds host leases and the deployment package, both re-created by `azd deploy`: LRS suffices.
    ("CKV_AZURE_206", "Microsoft.Storage/storageAccounts.storage"): "re-creatable content",
    # An expiry date would stop every chat on that date; the key rotates on Amazon Connect's schedule instead
    # (docs/deploy.md, key rotation).
    ("CKV_AZURE_41", "Microsoft.KeyVault/vaults/secrets.widgetSecret"): "rotation, not expiry",
    (
        "CKV_AZURE_41",
        "Microsoft.KeyVault/vaults/secrets.additionalWidgetSecret",
    ): "rotation, not expiry",
    # False positive: checkov does not look inside conditional resources (`= if (...) {...}`); the secret does
    # set contentType, which test_bicep_security asserts on the parsed file.
    ("CKV_AZURE_114", "Microsoft.KeyVault/vaults/secrets.widgetSecret"): "checkov misses conditional bodies",
    # False positives: purge protection is `enablePurgeProtection ? true : null` (on for production, absent for
    # development: Key Vault refuses `false`), and checkov does not evaluate a conditional expression. The
    # parsed-file rule (bicep_rules.key_vault_problems, test_purge_protection_and_retention_follow_the_environment_type)
    # asserts that exact expression, its default (on) and the production default of environmentType.
    ("CKV_AZURE_110", "Microsoft.KeyVault/vaults.vault"): "checkov does not evaluate `? true : null`",
    ("CKV_AZURE_42", "Microsoft.KeyVault/vaults.vault"): "checkov does not evaluate `? true : null`",
}


def run_checkov(directory: Path) -> dict[str, set[tuple[str, str]]]:
    """{"passed": {...}, "failed": {...}} as (check id, resource) pairs, from checkov's JSON report."""
    completed = subprocess.run(
        [
            iac_tool("checkov"),
            "--framework",
            "bicep",
            "--directory",
            str(directory),
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    report = json.loads(completed.stdout)
    results = report["results"]
    return {
        kind: {(check["check_id"], check["resource"]) for check in results[f"{kind}_checks"]}
        for kind in ("passed", "failed")
    }


@pytest.fixture(scope="module")
def checkov_report() -> dict[str, set[tuple[str, str]]]:
    return run_checkov(INFRA_DIR)


def test_checkov_finds_only_the_reviewed_findings(checkov_report):
    assert checkov_report["failed"] == set(ACCEPTED_FINDINGS)


def test_checkov_passes_the_core_protections(checkov_report):
    expected = {
        ("CKV_AZURE_70", "Microsoft.Web/sites.functionApp"),  # HTTPS only
        ("CKV_AZURE_145", "Microsoft.Web/sites.functionApp"),  # TLS 1.2
        ("CKV_AZURE_57", "Microsoft.Web/sites.functionApp"),  # CORS is not "*"
        ("CKV_AZURE_78", "Microsoft.Web/sites.functionApp"),  # no FTP
        ("CKV_AZURE_71", "Microsoft.Web/sites.functionApp"),  # managed identity
        ("CKV_AZURE_44", "Microsoft.Storage/storageAccounts.storage"),  # TLS 1.2
        ("CKV_AZURE_131", "string.connectWidgetSecret"),  # no default value for the secure parameter
    }
    assert expected <= checkov_report["passed"], expected - checkov_report["passed"]


def test_checkov_fires_on_a_weakened_copy(tmp_path):
    copy = tmp_path / "azure"
    shutil.copytree(INFRA_DIR, copy, ignore=shutil.ignore_patterns("hooks"))
    function_app = copy / "modules" / "function-app.bicep"
    function_app.write_text(
        function_app.read_text(encoding="utf-8")
        .replace("httpsOnly: true", "httpsOnly: false")
        .replace("allowedOrigins: allowedOrigins", "allowedOrigins: [\n          '*'\n        ]"),
        encoding="utf-8",
    )
    storage = copy / "modules" / "storage.bicep"
    storage.write_text(
        storage.read_text(encoding="utf-8").replace("minimumTlsVersion: 'TLS1_2'", "minimumTlsVersion: 'TLS1_0'"),
        encoding="utf-8",
    )
    new_findings = run_checkov(copy)["failed"] - set(ACCEPTED_FINDINGS)
    # Related checks fire too (CKV_AZURE_14/153 for HTTPS).
    assert new_findings >= {
        ("CKV_AZURE_70", "Microsoft.Web/sites.functionApp"),
        ("CKV_AZURE_57", "Microsoft.Web/sites.functionApp"),
        ("CKV_AZURE_44", "Microsoft.Storage/storageAccounts.storage"),
    }
