"""Template rendering from synthetic metadata, and the command line around the checks."""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from connect_sso_admin.agent_sso.cli import main
from connect_sso_admin.agent_sso.metadata import check_metadata
from connect_sso_admin.agent_sso.relay_state import relay_states
from connect_sso_admin.agent_sso.render import (
    BASE_TEMPLATE,
    ExistingProvider,
    NewProvider,
    RenderError,
    StackSettings,
    render,
)
from tests.connect_sso_admin.agent_sso.saml_fixtures import certificate_b64, metadata_xml, weak_rsa_key

NOW = datetime.now(UTC)
INSTANCE = "0a1b2c3d-0000-4000-8000-00000000abcd"
OKTA = "arn:aws:iam::111122223333:saml-provider/Okta"


def provider(name: str, data: bytes | None = None) -> NewProvider:
    return NewProvider(name, check_metadata(data or metadata_xml(), f"{name}.xml", NOW))


def rendered(providers, settings: StackSettings | None = None) -> dict:
    settings = settings or StackSettings(instance_id=INSTANCE)
    return yaml.safe_load(render(BASE_TEMPLATE.read_text(), providers, settings).text)


def test_render_embeds_metadata_exactly_and_trusts_every_provider():
    pretty = metadata_xml().decode().replace("><", ">\n  <").encode()  # a multi-line, indented document
    admins, agents = provider("EntraAdmins"), provider("Entra-Agents", pretty)

    template = rendered([admins, agents, ExistingProvider("Okta", OKTA)])

    resources = template["Resources"]
    assert resources["SamlProviderEntraAdmins"]["Properties"]["SamlMetadataDocument"] == admins.metadata.document
    assert resources["SamlProviderEntraAgents"]["Properties"]["SamlMetadataDocument"] == pretty.decode()
    assert resources["SamlProviderEntraAgents"]["Properties"]["Name"] == "Entra-Agents"
    statement = resources["ConnectFederationRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"]["Federated"] == [
        {"Ref": "SamlProviderEntraAdmins"},
        {"Ref": "SamlProviderEntraAgents"},
        OKTA,
    ]
    outputs = template["Outputs"]
    assert outputs["RoleClaimEntraAdmins"]["Value"] == {
        "Fn::Sub": "${ConnectFederationRole.Arn},${SamlProviderEntraAdmins}"
    }
    assert outputs["RoleClaimOkta"]["Value"] == {"Fn::Sub": "${ConnectFederationRole.Arn}," + OKTA}
    assert "SamlProviderArns" not in template["Parameters"] and "Rules" not in template
    assert template["Parameters"]["ConnectInstanceId"]["Default"] == INSTANCE
    policy = resources["ConnectFederationPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Action"] == "connect:GetFederationToken"
    assert policy["Resource"]["Fn::Sub"].endswith(":instance/${ConnectInstanceId}/user/${!aws:userid}")
    summary = template["Metadata"]["ConnectSsoProviders"]
    assert summary[0]["SigningCertificates"][0]["Sha256"] == admins.metadata.certificates[0].sha256_fingerprint


def test_render_is_deterministic():
    admins = provider("EntraAdmins")
    first = render(BASE_TEMPLATE.read_text(), [admins], StackSettings()).text
    assert render(BASE_TEMPLATE.read_text(), [admins], StackSettings()).text == first


def test_render_refuses_unusable_metadata_and_clashing_names():
    expired = certificate_b64(not_before=NOW - timedelta(days=30), not_after=NOW - timedelta(days=1))
    with pytest.raises(RenderError, match="has errors"):
        rendered([provider("Stale", metadata_xml([expired]))])
    with pytest.raises(RenderError, match="too alike"):
        rendered([provider("Entra-Agents"), provider("EntraAgents")])
    with pytest.raises(RenderError, match="at least one provider"):
        rendered([])


def test_relay_state_outputs_match_the_tool():
    outputs = rendered([provider("EntraAgents")])["Outputs"]
    expected = relay_states("eu-west-2", INSTANCE)
    pairs = [
        ("AdminRelayState", "admin"),
        ("AgentCcpRelayState", "agent-ccp"),
        ("AgentWorkspaceRelayState", "agent-workspace"),
    ]
    for output, audience in pairs:
        commercial = outputs[output]["Value"]["Fn::If"][2]["Fn::Sub"]
        url = commercial.replace("${AWS::Region}", "eu-west-2").replace("${ConnectInstanceId}", INSTANCE)
        assert url == expected[audience]
        gov = outputs[output]["Value"]["Fn::If"][1]["Fn::Sub"].replace("${ConnectInstanceId}", INSTANCE)
        assert gov == relay_states("us-gov-west-1", INSTANCE)[audience]


def _saml_aud(template: dict, regions: bool) -> list:
    statement = template["Resources"]["ConnectFederationRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    condition = statement["Condition"]["StringEquals"]["SAML:aud"]["Fn::If"]
    assert condition[0] == "HasRegionalSignIn"
    branch = condition[1] if regions else condition[2]
    if regions:
        return branch["Fn::Split"][1]["Fn::If"][2]["Fn::Sub"][0].split("|")
    return branch["Fn::If"][2]


def test_the_role_accepts_the_regional_sign_in_endpoint_by_default_and_keeps_the_global_one():
    template = rendered([provider("EntraAgents")])
    assert _saml_aud(template, regions=False) == [
        {"Fn::Sub": "https://${AWS::Region}.signin.aws.amazon.com/saml"},
        "https://signin.aws.amazon.com/saml",
    ]
    assert _saml_aud(template, regions=True) == [
        "https://${AWS::Region}.signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com/saml",
        "https://${Regions}.signin.aws.amazon.com/saml",
    ]


def test_session_tags_are_opt_in():
    def actions(template: dict, allowed: bool):
        role = template["Resources"]["ConnectFederationRole"]["Properties"]
        branches = role["AssumeRolePolicyDocument"]["Statement"][0]["Action"]["Fn::If"]
        assert branches[0] == "HasSessionTags"
        return branches[1] if allowed else branches[2]

    default = rendered([provider("EntraAgents")])
    assert default["Parameters"]["AllowSessionTags"]["Default"] == "false"
    assert actions(default, False) == "sts:AssumeRoleWithSAML"
    assert actions(default, True) == ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"]
    tagged = rendered([provider("EntraAgents")], StackSettings(instance_id=INSTANCE, allow_session_tags=True))
    assert tagged["Parameters"]["AllowSessionTags"]["Default"] == "true"


def test_an_existing_provider_must_be_in_the_instances_account():
    other = "arn:aws:iam::444455556666:saml-provider/Okta"
    with pytest.raises(RenderError, match="not in the Connect instance's account 111122223333"):
        render(BASE_TEMPLATE.read_text(), [ExistingProvider("Okta", other)], StackSettings(account_id="111122223333"))
    same = render(BASE_TEMPLATE.read_text(), [ExistingProvider("Okta", OKTA)], StackSettings(account_id="111122223333"))
    assert same.findings == ()
    unknown = render(BASE_TEMPLATE.read_text(), [ExistingProvider("Okta", OKTA)], StackSettings())
    assert [finding.message for finding in unknown.findings] == [
        "cannot check that Okta is in the Connect instance's account: give --instance-arn"
    ]
    code, _, err = cli(
        "render", "--existing-provider", f"Okta={other}",
        "--instance-arn", f"arn:aws:connect:eu-west-2:111122223333:instance/{INSTANCE}",
    )  # fmt: skip
    assert code == 1 and "is in account 444455556666" in err


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err, now=NOW)
    return code, out.getvalue(), err.getvalue()


def test_cli_check_metadata(tmp_path):
    good, small = tmp_path / "good.xml", tmp_path / "small.xml"
    good.write_bytes(metadata_xml())
    code, out, _ = cli("check-metadata", str(good))
    assert code == 0 and "RSA 2048 bits" in out
    small.write_bytes(metadata_xml([certificate_b64(weak_rsa_key())]))
    code, out, _ = cli("check-metadata", "--json", str(good), str(small))
    assert code == 1
    assert [entry["ok"] for entry in json.loads(out)] == [True, False]


def test_cli_render_writes_a_template(tmp_path):
    agents = tmp_path / "agents.xml"
    agents.write_bytes(metadata_xml())
    target = tmp_path / "out.yaml"
    code, _, err = cli(
        "render", "--provider", f"EntraAgents={agents}", "--existing-provider", f"Okta={OKTA}",
        "--instance-arn", f"arn:aws:connect:eu-west-2:111122223333:instance/{INSTANCE}",
        "--signin-region", "eu-west-2", "--max-session-duration", "43200", "--allow-session-tags",
        "-o", str(target),
    )  # fmt: skip
    assert code == 0, err
    template = yaml.safe_load(target.read_text())
    assert template["Parameters"]["AllowSessionTags"]["Default"] == "true"
    assert template["Parameters"]["RegionalSignInEndpoints"]["Default"] == "eu-west-2"
    assert template["Parameters"]["MaxSessionDuration"]["Default"] == 43200
    assert cli("render", "--provider", "no-equals-sign")[0] == 1
    assert cli("render", "--provider", f"X={tmp_path / 'missing.xml'}")[0] == 1


def test_cli_check_users_and_relay_state(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("jane.doe@contoso.com\nsam+ops@contoso.com\n")
    code, out, _ = cli("check-users", "--file", str(names), "x" * 65)
    assert code == 1
    assert "1 of 3 can sign in" in out
    assert cli("check-users", "jane.doe@contoso.com")[0] == 0
    code, out, _ = cli(
        "relay-state", "--region", "eu-west-2", "--instance-id", INSTANCE, "--audience", "agent-workspace"
    )
    assert (code, out) == (0, relay_states("eu-west-2", INSTANCE)["agent-workspace"] + "\n")
    assert cli("relay-state", "--region", "eu-west-2")[0] == 1


@pytest.mark.parametrize("command", ["check-metadata", "render", "relay-state", "check-users", "entra-app"])
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    assert "example:" in capsys.readouterr().out
