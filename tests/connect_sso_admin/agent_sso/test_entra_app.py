"""The Entra ID enterprise application reconciler against a local stand-in for Microsoft Graph.

Microsoft Graph (and Entra ID behind it) cannot be reached from tests: GraphStandIn is a real HTTP server on
127.0.0.1 that keeps state and records every call, and the credential is a fake that hands out a fake token.
"""

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from connect_sso_admin.agent_sso.cli import main
from connect_sso_admin.agent_sso.entra_app import EntraAppError, EntraAppSpec, configure_enterprise_app, identifier_for
from connect_sso_admin.agent_sso.graph import GraphClient, GraphError
from tests.connect_sso_admin.agent_sso.graph_stand_in import FAKE_TOKEN, TENANT_ID, GraphStandIn

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ROLE_CLAIM = "arn:aws:iam::111122223333:role/AmazonConnectSSO,arn:aws:iam::111122223333:saml-provider/EntraAgents"


class FakeCredential:
    """Stands in for azure-identity: Entra ID is out of reach, the stand-in accepts this token only."""

    def __init__(self, token: str = FAKE_TOKEN) -> None:
        self.token = token
        self.scopes: list[str] = []

    def get_token(self, *scopes: str):
        self.scopes += scopes
        return type("AccessToken", (), {"token": self.token})()


def spec(**changes) -> EntraAppSpec:
    base = {
        "display_name": "Amazon Connect agents",
        "identifier": identifier_for(2),
        "reply_urls": ("https://signin.aws.amazon.com/saml",),
        "role_claim": ROLE_CLAIM,
        "users": ("jane.doe@contoso.com", "raj.patel@contoso.com", "li.wei@contoso.com"),
    }
    return EntraAppSpec(**(base | changes))


@pytest.fixture
def graph():
    with GraphStandIn() as stand_in:
        for upn in ("jane.doe@contoso.com", "raj.patel@contoso.com", "li.wei@contoso.com"):
            stand_in.state.add_user(upn, mail=upn.replace("@contoso.com", "@mail.contoso.com"))
        yield stand_in


def run(stand_in: GraphStandIn, wanted: EntraAppSpec, dry_run: bool = False, now: datetime = NOW):
    client = GraphClient(FakeCredential(), stand_in.url, dry_run=dry_run, out=io.StringIO(), sleep=lambda _s: None)
    return configure_enterprise_app(client, wanted, now), client


def test_first_run_builds_the_whole_application(graph):
    outcome, _ = run(graph, spec())

    state = graph.state
    (sp,) = state.service_principals.values()
    (app,) = state.applications.values()
    assert sp["preferredSingleSignOnMode"] == "saml"
    assert app["identifierUris"] == ["urn:amazon:webservices#2"]
    assert app["web"]["redirectUris"] == ["https://signin.aws.amazon.com/saml"]
    role = next(r for r in sp["appRoles"] if r["value"] == ROLE_CLAIM)
    assert role["isEnabled"] and role["allowedMemberTypes"] == ["User"]
    assert any(r["displayName"] == "msiam_access" for r in sp["appRoles"]), "the gallery role must survive"
    (policy_id,) = state.policy_links[sp["id"]]
    schema = json.loads(state.policies[policy_id]["definition"][0])["ClaimsMappingPolicy"]["ClaimsSchema"]
    assert {
        "Source": "user",
        "ID": "assignedroles",
        "SamlClaimType": "https://aws.amazon.com/SAML/Attributes/Role",
    } in schema
    assert {
        "Source": "user",
        "ID": "userprincipalname",
        "SamlClaimType": "https://aws.amazon.com/SAML/Attributes/RoleSessionName",
    } in schema
    assert sp["preferredTokenSigningKeyThumbprint"] in {k["thumbprint"] for k in sp["keyCredentials"]}
    assert {a["principalId"] for a in state.assignments} == set(state.users)
    assert {a["appRoleId"] for a in state.assignments} == {role["id"]}
    assert outcome.metadata_url == (
        f"https://login.microsoftonline.com/{TENANT_ID}/federationmetadata/2007-06/federationmetadata.xml"
        f"?appid={app['appId']}"
    )
    assert all(call.authorization == f"Bearer {FAKE_TOKEN}" for call in graph.calls)


def test_second_run_makes_no_writes(graph):
    run(graph, spec())
    graph.clear_calls()

    outcome, client = run(graph, spec())

    assert graph.calls, "the second run must still read the state"
    assert graph.writes == []
    assert client.writes == []
    assert outcome.notes == []


def test_dry_run_on_an_empty_tenant_writes_nothing_and_prints_the_plan(graph):
    client = GraphClient(FakeCredential(), graph.url, dry_run=True, out=(printed := io.StringIO()))

    configure_enterprise_app(client, spec(), NOW)

    assert graph.writes == []
    plan = printed.getvalue().splitlines()
    assert plan[0].startswith("would POST /applicationTemplates/8b1025e4-1dd2-430b-a150-2ef79cd700f5/instantiate")
    assert any("preferredSingleSignOnMode" in line for line in plan)
    assert any("/addTokenSigningCertificate" in line for line in plan)
    assert sum("/appRoleAssignedTo" in line for line in plan) == 3
    assert len(plan) == len(client.writes)


def test_dry_run_after_apply_plans_nothing(graph):
    run(graph, spec())
    graph.clear_calls()

    _, client = run(graph, spec(), dry_run=True)

    assert client.writes == [] and graph.writes == []


def test_new_role_pair_and_new_user_change_only_what_differs(graph):
    run(graph, spec())
    graph.state.add_user("amy.chen@contoso.com")
    graph.clear_calls()
    other = ROLE_CLAIM.replace("EntraAgents", "EntraAgentsEU")

    run(graph, spec(role_claim=other, users=("amy.chen@contoso.com",)))

    assert [(c.method, c.path.rsplit("/", 1)[-1]) for c in graph.writes] == [
        ("PATCH", next(iter(graph.state.service_principals))),
        ("POST", "appRoleAssignedTo"),
    ]
    values = {r["value"] for r in next(iter(graph.state.service_principals.values()))["appRoles"]}
    assert {ROLE_CLAIM, other} <= values


def test_switching_the_claim_source_to_mail_updates_the_policy_in_place(graph):
    run(graph, spec())
    graph.clear_calls()

    run(graph, spec(claim_source="mail", session_duration=43200))

    (write,) = graph.writes
    assert write.method == "PATCH" and write.path.startswith("/v1.0/policies/claimsMappingPolicies/")
    schema = json.loads(write.body["definition"][0])["ClaimsMappingPolicy"]["ClaimsSchema"]
    assert {
        "Source": "user",
        "ID": "mail",
        "SamlClaimType": "https://aws.amazon.com/SAML/Attributes/RoleSessionName",
    } in schema
    assert {"Value": "43200", "SamlClaimType": "https://aws.amazon.com/SAML/Attributes/SessionDuration"} in schema


def test_users_who_cannot_sign_in_stop_the_run_before_any_write(graph):
    graph.state.add_user("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com")
    graph.state.add_user("sam+ops@contoso.com")

    with pytest.raises(EntraAppError) as raised:
        run(
            graph,
            spec(
                users=("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", "sam+ops@contoso.com", "nobody@contoso.com")
            ),
        )

    message = str(raised.value)
    assert "#EXT#" in message and "'+'" in message and "nobody@contoso.com: no such user" in message
    assert graph.writes == []


def test_mail_claim_source_checks_the_mail_not_the_upn(graph):
    graph.state.add_user("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", mail="guest@fabrikam.com")

    run(graph, spec(users=("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",), claim_source="mail"))

    assert len(graph.state.assignments) == 1


def test_identifier_used_by_another_application_is_refused(graph):
    graph.state.add_application("Some other AWS app", ["urn:amazon:webservices#2"])

    with pytest.raises(EntraAppError, match=r"already used by 'Some other AWS app'.*#N"):
        run(graph, spec())
    assert graph.writes == []


def test_a_foreign_claims_mapping_policy_is_not_overwritten(graph):
    run(graph, spec())
    sp_id = next(iter(graph.state.service_principals))
    foreign = graph.state.add_policy("Hand-made policy", ['{"ClaimsMappingPolicy":{"Version":1}}'])
    graph.state.policy_links[sp_id] = [foreign["id"]]
    graph.clear_calls()

    with pytest.raises(EntraAppError, match="Hand-made policy"):
        run(graph, spec())
    assert graph.writes == []


def test_expiring_certificate_is_reported_and_rolled_only_when_asked(graph):
    run(graph, spec())
    graph.clear_calls()
    near_expiry = NOW + timedelta(days=3 * 365 - 30)

    outcome, _ = run(graph, spec(), now=near_expiry)
    assert graph.writes == []
    assert any("--roll-certificate" in note for note in outcome.notes)

    outcome, _ = run(graph, spec(roll_certificate=True), now=near_expiry)
    assert [c.path.rsplit("/", 1)[-1] for c in graph.writes][-2:] == [
        "addTokenSigningCertificate",
        next(iter(graph.state.service_principals)),
    ]
    assert any("new metadata" in note for note in outcome.notes)


def test_paged_collections_are_followed(graph):
    for n in range(5):
        graph.state.add_user(f"user{n}@contoso.com")
    users = tuple(u["userPrincipalName"] for u in graph.state.users.values())
    run(graph, spec(users=users))
    graph.clear_calls()

    run(graph, spec(users=users))

    assert graph.writes == [], "assignments on later pages must be seen, or they would be added twice"
    assert any("$skiptoken" in call.query for call in graph.calls)


def test_graph_errors_name_the_call_and_never_the_token(graph):
    client = GraphClient(FakeCredential("wrong-secret-token"), graph.url)

    with pytest.raises(GraphError) as raised:
        client.get("/organization")

    assert raised.value.status == 401
    assert "InvalidAuthenticationToken" in str(raised.value)
    assert "wrong-secret-token" not in str(raised.value)


@pytest.mark.parametrize("url", ["http://graph.example.com/v1.0", "ftp://127.0.0.1/v1.0", "graph.microsoft.com"])
def test_token_is_only_sent_over_https_or_to_loopback(url):
    with pytest.raises(ValueError, match="https"):
        GraphClient(FakeCredential(), url)


def test_next_link_to_another_host_is_refused(graph):
    client = GraphClient(FakeCredential(), graph.url)
    graph.state.add_user("x@contoso.com")
    client._send = lambda method, url, body=None: {"value": [], "@odata.nextLink": "https://evil.example/steal"}

    with pytest.raises(GraphError, match="outside the Graph endpoint"):
        client.get_all("/users")


def test_command_line_dry_run_then_apply_then_idempotent(graph, tmp_path):
    users = tmp_path / "agents.txt"
    users.write_text("jane.doe@contoso.com\n\nraj.patel@contoso.com\n")
    argv = [
        "entra-app", "--name", "Amazon Connect agents", "--app-index", "2", "--account-id", "111122223333",
        "--provider-name", "EntraAgents", "--region", "eu-west-2", "--users-file", str(users),
        "--graph-url", graph.url,
    ]  # fmt: skip

    def cli(*extra: str) -> str:
        out = io.StringIO()
        assert main([*argv, *extra], out=out, err=out, credential=FakeCredential(), now=NOW) == 0, out.getvalue()
        return out.getvalue()

    planned = cli("--dry-run")
    assert "would make" in planned and graph.writes == []
    applied = cli()
    assert f"Role claim value         {ROLE_CLAIM}" in applied
    assert "federationmetadata.xml?appid=" in applied
    graph.clear_calls()
    assert "no changes" in cli()
    assert graph.writes == []
    # Amazon Connect's SAML guide: the instance region's sign-in endpoint is the (default) reply URL.
    (app,) = graph.state.applications.values()
    assert app["web"]["redirectUris"] == ["https://eu-west-2.signin.aws.amazon.com/saml"]
