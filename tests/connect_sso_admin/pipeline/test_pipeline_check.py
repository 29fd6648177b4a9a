"""`python -m connect_sso_admin pipeline-check` (issue 22, item 3). Entra and Azure cannot be reached: a fake `az`
on PATH answers the three Azure CLI calls from JSON files, shaped as the CLI prints them. What `azd pipeline config`
leaves by default (pull_request and main credentials, User Access Administrator) must be reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connect_sso_admin.pipeline.roles import CONTRIBUTOR, GRANTED_ROLES, RBAC_ADMINISTRATOR, assignment_condition
from tests.infra.azure import bicep_rules as rules
from tests.infra.azure.bicep_model import bicep_files, parse_file

APP_ID = "00000000-0000-0000-0000-0000000000aa"
REPO = "contoso/connect-sso"
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000bb"
SCOPE = f"/subscriptions/{SUBSCRIPTION}"
ISSUER = "https://token.actions.githubusercontent.com"

FAKE_AZ = """#!{python}
import json, os, sys
args = sys.argv[1:]
folder = os.environ["FAKE_AZ_DIR"]
with open(os.path.join(folder, "calls.jsonl"), "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
if args[:4] == ["ad", "app", "federated-credential", "list"]:
    name = "credentials.json"
elif args[:3] == ["role", "assignment", "list"]:
    name = "assignments.json"
elif args[:2] == ["account", "show"]:
    print(json.dumps("{subscription}"))
    sys.exit(0)
else:
    sys.stderr.write("ERROR: unexpected command\\n")
    sys.exit(2)
print(open(os.path.join(folder, name), encoding="utf-8").read())
"""


def credential(name: str, subject: str) -> dict:
    return {"name": name, "issuer": ISSUER, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}


def assignment(role: str, name: str, condition: str | None = None) -> dict:
    return {
        "roleDefinitionId": f"{SCOPE}/providers/Microsoft.Authorization/roleDefinitions/{role}",
        "roleDefinitionName": name,
        "scope": SCOPE,
        "condition": condition,
    }


AZD_DEFAULT_CREDENTIALS = [
    credential("main", f"repo:{REPO}:ref:refs/heads/main"),
    credential("pull_request", f"repo:{REPO}:pull_request"),
    credential("environment", f"repo:{REPO}:environment:azure"),
]
AZD_DEFAULT_ROLES = [
    assignment(CONTRIBUTOR, "Contributor"),
    assignment("18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", "User Access Administrator"),
]
NARROW_CREDENTIALS = [credential("environment", f"repo:{REPO}:environment:azure")]
NARROW_ROLES = [
    assignment(CONTRIBUTOR, "Contributor"),
    assignment(RBAC_ADMINISTRATOR, "Role Based Access Control Administrator", assignment_condition()),
]


def run_check(tmp_path: Path, credentials: list, roles: list, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "az").write_text(FAKE_AZ.format(python=sys.executable, subscription=SUBSCRIPTION), encoding="utf-8")
    (bin_dir / "az").chmod(0o755)
    (tmp_path / "credentials.json").write_text(json.dumps(credentials), encoding="utf-8")
    (tmp_path / "assignments.json").write_text(json.dumps(roles), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "connect_sso_admin", "pipeline-check", "--app-id", APP_ID, "--repo", REPO, *args],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_AZ_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_what_azd_pipeline_config_leaves_is_reported_as_wider(tmp_path):
    completed = run_check(tmp_path, AZD_DEFAULT_CREDENTIALS, AZD_DEFAULT_ROLES)

    assert completed.returncode == 1
    out = completed.stdout
    assert f"'repo:{REPO}:ref:refs/heads/main'" in out
    assert f"'repo:{REPO}:pull_request'" in out
    assert "User Access Administrator at /subscriptions/" in out
    assert "environment:azure' (issuer" not in out, "the one wanted credential is not a finding"
    assert "3 finding(s)" in out


def test_the_narrowed_identity_passes(tmp_path):
    completed = run_check(tmp_path, NARROW_CREDENTIALS, NARROW_ROLES)
    assert completed.returncode == 0, completed.stdout
    assert completed.stdout.startswith("narrow:")


@pytest.mark.parametrize(
    ("roles", "finding"),
    [
        ([NARROW_ROLES[0], assignment(RBAC_ADMINISTRATOR, "RBAC Admin")], "has no condition"),
        (
            [
                NARROW_ROLES[0],
                assignment(
                    RBAC_ADMINISTRATOR,
                    "RBAC Admin",
                    assignment_condition(frozenset({"8e3af657-a8ff-4c67-a5d4-b8cdd86dc1d7"})),
                ),
            ],
            "may assign roles the template never grants: ['8e3af657-a8ff-4c67-a5d4-b8cdd86dc1d7']",
        ),
        ([*NARROW_ROLES, assignment("8e3af657-a8ff-4c67-a5d4-b8cdd86dc1d7", "Owner")], "Owner at /subscriptions/"),
        ([NARROW_ROLES[1]], "no Contributor role assignment"),
    ],
)
def test_each_kind_of_wider_role_is_named(tmp_path, roles, finding):
    completed = run_check(tmp_path, NARROW_CREDENTIALS, roles)
    assert completed.returncode == 1
    assert finding in completed.stdout


def test_a_missing_environment_credential_is_reported(tmp_path):
    (tmp_path / "credentials.json").write_text("[]", encoding="utf-8")
    completed = run_check(tmp_path, [], NARROW_ROLES)
    assert completed.returncode == 1
    assert "no federated credential for" in completed.stdout


def test_fix_prints_the_narrowing_commands(tmp_path):
    completed = run_check(tmp_path, AZD_DEFAULT_CREDENTIALS, AZD_DEFAULT_ROLES, "--fix")
    assert completed.returncode == 0, completed.stderr
    commands = completed.stdout.splitlines()
    assert f"az ad app federated-credential delete --id {APP_ID} --federated-credential-id main" in commands
    assert f"az ad app federated-credential delete --id {APP_ID} --federated-credential-id pull_request" in commands
    assert not any("federated-credential-id environment" in c for c in commands)
    rbac = next(c for c in commands if "Role Based Access Control Administrator" in c)
    assert f"--scope {SCOPE} --condition-version 2.0 --condition" in rbac
    assert all(role in rbac for role in GRANTED_ROLES)
    assert any("--role 'User Access Administrator'" in c and "delete" in c for c in commands)


def test_the_condition_names_exactly_the_roles_the_template_grants():
    """Derived from the Bicep: a role added to a module without updating roles.py fails here."""
    granted = {role for path in bicep_files() for a in rules.role_assignments(parse_file(path)) for role in a["roles"]}
    assert granted == set(GRANTED_ROLES)
    condition = assignment_condition()
    assert condition.count("ForAnyOfAnyValues:GuidEquals") == 2
    for role in granted:
        assert condition.count(role) == 2
