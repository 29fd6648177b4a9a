"""cfn-lint and checkov on infra/aws/agent-sso.yaml and on templates rendered from synthetic metadata.

The linters run from .venv-iac and must not reach the network: checkov gets --skip-download and a proxy that
points at a closed loopback port, so any attempt fails at once instead of leaving the machine.
"""

import json
import os
import subprocess
from datetime import UTC, datetime

import pytest

from connect_sso_admin.agent_sso.metadata import check_metadata
from connect_sso_admin.agent_sso.render import BASE_TEMPLATE, ExistingProvider, NewProvider, StackSettings, render
from tests.connect_sso_admin.agent_sso.saml_fixtures import certificate_b64, metadata_xml, rsa_key
from tests.support.iac_tools import iac_tool

# Reviewed checkov skip list: check id -> why it does not apply. Empty: every check passes as is.
CHECKOV_SKIPS: dict[str, str] = {}
INSTANCE = "00000000-0000-0000-0000-000000000000"
OKTA = "arn:aws:iam::111122223333:saml-provider/Okta"

pytestmark = pytest.mark.iac


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The base template and three renderings: Entra admins + agents + Okta ARN; one provider; Identity Center."""
    folder = tmp_path_factory.mktemp("rendered")
    now = datetime.now(UTC)

    def new(name: str, bits: int = 2048) -> NewProvider:
        return NewProvider(name, check_metadata(metadata_xml([certificate_b64(rsa_key(bits))]), name, now))

    cases = {
        "several-idps.yaml": (
            [new("EntraAdmins"), new("EntraAgents"), ExistingProvider("Okta", OKTA)],
            StackSettings(INSTANCE, "AmazonConnectSSO", ("eu-west-2", "us-east-1"), 43200),
        ),
        "one-idp.yaml": ([new("EntraAgents", 1024)], StackSettings()),
        "identity-center.yaml": (
            [ExistingProvider("IdentityCenter", "arn:aws:iam::111122223333:saml-provider/IdentityCenter")],
            StackSettings(role_name="ConnectFromIdentityCenter"),
        ),
    }  # fmt: skip
    paths = [BASE_TEMPLATE]
    for file_name, (providers, settings) in cases.items():
        path = folder / file_name
        path.write_text(render(BASE_TEMPLATE.read_text(), providers, settings).text)
        paths.append(path)
    return paths


def _offline_env() -> dict[str, str]:
    closed = "http://127.0.0.1:9"
    return os.environ | {"HTTPS_PROXY": closed, "HTTP_PROXY": closed, "https_proxy": closed, "http_proxy": closed}


def run_cfn_lint(paths: list) -> subprocess.CompletedProcess:
    command = [iac_tool("cfn-lint"), "--format", "parseable", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=_offline_env(), check=False)


def run_checkov(paths: list) -> tuple[list[str], int, subprocess.CompletedProcess]:
    """Failed checks ("CHECK_ID resource"), passed count, and the process."""
    command = [iac_tool("checkov"), "--framework", "cloudformation", "--skip-download", "--quiet", "-o", "json"]
    for path in paths:
        command += ["-f", str(path)]
    if CHECKOV_SKIPS:
        command += ["--skip-check", ",".join(CHECKOV_SKIPS)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, env=_offline_env(), check=False)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [check["check_id"] + " " + check["resource"] for r in reports for check in r["results"]["failed_checks"]]
    return failed, sum(r["summary"]["passed"] for r in reports), result


def test_cfn_lint_passes(templates):
    result = run_cfn_lint(templates)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes(templates):
    failed, passed, result = run_checkov(templates)
    assert failed == [], result.stdout[-3000:]
    assert result.returncode == 0, result.stderr[-3000:]
    assert passed > 0, "checkov checked nothing"


def test_the_linters_catch_a_broken_template(tmp_path):
    """The two linters can fail: a misspelt property for cfn-lint, a wildcard policy for checkov."""
    broken = BASE_TEMPLATE.read_text()
    broken = broken.replace("Action: connect:GetFederationToken", 'Action: "*"')
    broken = broken.replace(
        'Resource: !Sub "arn:${AWS::Partition}:connect:${AWS::Region}:${AWS::AccountId}:instance/'
        '${ConnectInstanceId}/user/${!aws:userid}"',
        'Resource: "*"',
    )
    broken = broken.replace("MaxSessionDuration: !Ref MaxSessionDuration", "MaxSessionDurations: 3600")
    path = tmp_path / "broken.yaml"
    path.write_text(broken)

    assert "MaxSessionDurations" in run_cfn_lint([path]).stdout
    failed, _, _ = run_checkov([path])
    assert any("ConnectFederationPolicy" in check for check in failed), failed


def test_every_named_iam_resource_takes_its_name_from_role_name_so_two_connect_instances_share_an_account():
    """Issue 22, item 12: a second stack (another Connect instance) with another RoleName collides on no IAM name."""
    from connect_sso_admin.agent_sso.cfn_yaml import load_template

    template = load_template(BASE_TEMPLATE.read_text(encoding="utf-8"))
    named = {
        (logical, key): value
        for logical, resource in template["Resources"].items()
        for key, value in (resource.get("Properties") or {}).items()
        if key.endswith("Name") and key != "PolicyName"
    }
    assert named, "the template names its role and policy"
    for (logical, key), value in named.items():
        assert "RoleName" in json.dumps(value), f"{logical}.{key} = {value!r} is fixed: two stacks would collide"
