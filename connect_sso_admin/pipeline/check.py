"""`python -m connect_sso_admin pipeline-check`: reads the pipeline identity's federated credentials and role
assignments through the Azure CLI and reports anything wider than docs/deploy.md's narrowing; `--fix` prints the
Azure CLI commands of that narrowing instead (review them, then run them: nothing is changed by this command).

Narrowed means: exactly one federated credential, the GitHub subject `repo:<owner>/<repo>:environment:azure`
(the deploy job's environment, whose protection rules allow branch main and need a reviewer); Contributor; and
Role Based Access Control Administrator with a condition naming only roles the template grants (roles.py).
Exit status: 0 narrow, 1 something wider (or a call failed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from connect_sso_admin.pipeline.roles import (
    CONTRIBUTOR,
    GRANTED_ROLES,
    RBAC_ADMINISTRATOR,
    assignment_condition,
)

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
ENVIRONMENT = "azure"  # .github/workflows/deploy.yml: `environment: azure`
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

AzRunner = Callable[[list[str]], Any]


class AzError(Exception):
    pass


def run_az(arguments: list[str]) -> Any:
    az = shutil.which("az")
    if az is None:
        raise AzError("the Azure CLI (az) is not on PATH: install it and `az login` as someone who can read the app")
    # The Azure CLI found on PATH, with arguments built here, never through a shell.
    completed = subprocess.run(  # noqa: S603
        [az, *arguments, "--output", "json", "--only-show-errors"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        lines = (completed.stderr or completed.stdout).strip().splitlines()
        raise AzError(f"az {' '.join(arguments[:3])} failed: {lines[-1] if lines else completed.returncode}")
    return json.loads(completed.stdout or "null")


def expected_subject(repo: str) -> str:
    return f"repo:{repo}:environment:{ENVIRONMENT}"


def credential_findings(credentials: list[dict[str, Any]], repo: str) -> list[str]:
    findings = []
    wanted = expected_subject(repo)
    for credential in credentials:
        subject, issuer = credential.get("subject", ""), credential.get("issuer", "")
        if subject != wanted or issuer != GITHUB_ISSUER:
            findings.append(
                f"federated credential {credential.get('name')!r} trusts {subject!r} (issuer {issuer}): only "
                f"{wanted!r} may sign in as the pipeline; any branch or pull request matching it can act as the app"
            )
    if not any(c.get("subject") == wanted and c.get("issuer") == GITHUB_ISSUER for c in credentials):
        findings.append(f"no federated credential for {wanted!r}: the deploy job cannot sign in")
    return findings


def _role_id(assignment: dict[str, Any]) -> str:
    match = _GUID.findall(assignment.get("roleDefinitionId", ""))
    return match[-1].lower() if match else ""


def _condition_roles(condition: str) -> set[str]:
    return {guid.lower() for guid in _GUID.findall(condition)}


def assignment_findings(assignments: list[dict[str, Any]]) -> list[str]:
    findings = []
    for assignment in assignments:
        role, name = _role_id(assignment), assignment.get("roleDefinitionName") or _role_id(assignment)
        scope = assignment.get("scope", "?")
        if role == CONTRIBUTOR:
            continue
        if role == RBAC_ADMINISTRATOR:
            condition = assignment.get("condition") or ""
            extra = _condition_roles(condition) - set(GRANTED_ROLES)
            limits_both = "roleAssignments/write" in condition and "roleAssignments/delete" in condition
            if not condition or not limits_both:
                findings.append(f"{name} at {scope} has no condition limiting which roles it may assign or delete")
            elif extra:
                findings.append(f"{name} at {scope} may assign roles the template never grants: {sorted(extra)}")
            continue
        findings.append(f"{name} at {scope}: wider than Contributor + conditioned RBAC Administrator; remove it")
    if not any(_role_id(a) == CONTRIBUTOR for a in assignments):
        findings.append("no Contributor role assignment: `azd up` cannot provision")
    return findings


def fix_commands(app_id: str, repo: str, subscription: str, credentials: list[dict[str, Any]]) -> list[str]:
    """The narrowing, as Azure CLI commands (also in docs/deploy.md)."""
    scope = f"/subscriptions/{subscription}"
    commands = [
        f"az ad app federated-credential delete --id {app_id} --federated-credential-id {shlex.quote(c['name'])}"
        for c in credentials
        if c.get("subject") != expected_subject(repo)
    ]
    if not any(c.get("subject") == expected_subject(repo) for c in credentials):
        parameters = json.dumps(
            {
                "name": "github-environment-azure",
                "issuer": GITHUB_ISSUER,
                "subject": expected_subject(repo),
                "audiences": ["api://AzureADTokenExchange"],
            }
        )
        commands.append(f"az ad app federated-credential create --id {app_id} --parameters {shlex.quote(parameters)}")
    commands += [
        f"az role assignment delete --assignee {app_id} --role 'User Access Administrator' --scope {scope}",
        f"az role assignment delete --assignee {app_id} --role Owner --scope {scope}",
        f"az role assignment create --assignee {app_id} --role Contributor --scope {scope}",
        f"az role assignment create --assignee {app_id} --role 'Role Based Access Control Administrator' "
        f"--scope {scope} --condition-version 2.0 --condition {shlex.quote(assignment_condition())}",
    ]
    return commands


def main(argv: Sequence[str] | None = None, run: AzRunner = run_az) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m connect_sso_admin pipeline-check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--app-id", required=True, help="client id of the pipeline's app registration (AZURE_CLIENT_ID)"
    )
    parser.add_argument("--repo", required=True, help="the GitHub repository, owner/name")
    parser.add_argument("--subscription", help="subscription id (default: the Azure CLI's current one)")
    parser.add_argument("--fix", action="store_true", help="print the narrowing commands instead of checking")
    args = parser.parse_args(argv)
    if not _GUID.fullmatch(args.app_id) or not _REPO.match(args.repo):
        parser.error("--app-id must be a GUID and --repo owner/name")
    try:
        credentials = run(["ad", "app", "federated-credential", "list", "--id", args.app_id]) or []
        subscription = args.subscription or run(["account", "show", "--query", "id"])
        if args.fix:
            sys.stdout.write("\n".join(fix_commands(args.app_id, args.repo, subscription, credentials)) + "\n")
            return 0
        assignments = (
            run(["role", "assignment", "list", "--assignee", args.app_id, "--all", "--include-inherited"]) or []
        )
    except AzError as error:
        sys.stderr.write(f"pipeline-check: {error}\n")
        return 1
    findings = credential_findings(credentials, args.repo) + assignment_findings(assignments)
    for finding in findings:
        sys.stdout.write(f"WIDER: {finding}\n")
    if findings:
        sys.stdout.write(f"{len(findings)} finding(s): narrow with --fix (docs/deploy.md, Deploy from GitHub)\n")
        return 1
    sys.stdout.write(
        f"narrow: one federated credential ({expected_subject(args.repo)}), Contributor, and RBAC Administrator "
        "limited to the template's roles\n"
    )
    return 0
