"""Creates or updates the Entra ID enterprise application that signs agents or administrators in to Amazon Connect.

Desired state, reconciled call by call (Microsoft Graph v1.0, the steps of Microsoft's "configure SAML-based
single sign-on using Microsoft Graph" tutorial): an instance of the AWS gallery application in SAML mode, the
identifier (``urn:amazon:webservices``, ``#N`` for further apps in one tenant) and reply URLs, one app role whose
value is the Role pair, a claims-mapping policy for Role and RoleSessionName, an active token signing
certificate, and the users assigned to the role. Each step reads first and writes only what differs, so a
second run makes no writes. Users are checked against the Connect user name rules before anything is written.
"""

import base64
import binascii
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from connect_sso_admin.agent_sso.graph import GraphClient, GraphError
from connect_sso_admin.agent_sso.usernames import user_name_problems

AWS_GALLERY_TEMPLATE = "Amazon Web Services (AWS)"
IDENTIFIER = "urn:amazon:webservices"
ROLE_CLAIM = "https://aws.amazon.com/SAML/Attributes/Role"
SESSION_NAME_CLAIM = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
SESSION_DURATION_CLAIM = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
# claim source flag -> (claims-mapping policy ID, Graph user property)
CLAIM_SOURCES = {"upn": ("userprincipalname", "userPrincipalName"), "mail": ("mail", "mail")}
_SP_FIELDS = "id,appId,displayName,preferredSingleSignOnMode,appRoles,keyCredentials,preferredTokenSigningKeyThumbprint"
_ROLE_NAMESPACE = uuid.UUID("6f0b7a56-3c1e-4f55-9a8e-6e0f1c2d3b4a")  # app role ids: stable per Role pair


class EntraAppError(RuntimeError):
    """The desired state cannot be reached safely; nothing after the check was written."""


def identifier_for(index: int) -> str:
    """Entra ID identifiers must be unique per tenant: the 2nd AWS app is ``urn:amazon:webservices#2``, etc."""
    if index < 1:
        raise ValueError("the application index starts at 1")
    return IDENTIFIER if index == 1 else f"{IDENTIFIER}#{index}"


@dataclass(frozen=True)
class EntraAppSpec:
    display_name: str
    identifier: str
    reply_urls: tuple[str, ...]
    role_claim: str  # "arn:...:role/NAME,arn:...:saml-provider/NAME"
    users: tuple[str, ...]  # UPNs or object ids
    claim_source: str = "upn"
    session_duration: int | None = None
    template_name: str = AWS_GALLERY_TEMPLATE
    template_id: str | None = None
    certificate_years: int = 3
    renew_within_days: int = 60
    roll_certificate: bool = False


@dataclass
class Outcome:
    app_id: str
    service_principal_id: str
    tenant_id: str
    metadata_url: str
    notes: list[str] = field(default_factory=list)


def _odata(value: str) -> str:
    """An OData string literal, URL-encoded for a query string."""
    return quote("'" + value.replace("'", "''") + "'", safe="")


def claims_policy_definition(claim_source: str, session_duration: int | None) -> dict[str, Any]:
    source_id = CLAIM_SOURCES[claim_source][0]
    schema: list[dict[str, str]] = [
        {"Source": "user", "ID": "assignedroles", "SamlClaimType": ROLE_CLAIM},
        {"Source": "user", "ID": source_id, "SamlClaimType": SESSION_NAME_CLAIM},
    ]
    if session_duration is not None:
        schema.append({"Value": str(session_duration), "SamlClaimType": SESSION_DURATION_CLAIM})
    return {"ClaimsMappingPolicy": {"Version": 1, "IncludeBasicClaimSet": "true", "ClaimsSchema": schema}}


def _resolve_users(graph: GraphClient, spec: EntraAppSpec) -> list[str]:
    """Object ids of the users, after checking what each will send as RoleSessionName; all problems at once."""
    prop = CLAIM_SOURCES[spec.claim_source][1]
    ids: list[str] = []
    problems: list[str] = []
    for user in spec.users:
        try:
            found = graph.get(f"/users/{quote(user, safe='@')}?$select=id,userPrincipalName,mail")
        except GraphError as error:
            if error.status != 404:
                raise
            problems.append(f"{user}: no such user in this tenant")
            continue
        session_name = found.get(prop) or ""
        if not session_name:
            problems.append(f"{user}: has no {prop}, so there is no RoleSessionName to send")
            continue
        problems += [f"{user}: RoleSessionName {session_name!r} {why}" for why in user_name_problems(session_name)]
        ids.append(found["id"])
    if problems:
        raise EntraAppError("users who could not sign in to Amazon Connect:\n  " + "\n  ".join(problems))
    return ids


class _Reconciler:
    def __init__(self, graph: GraphClient, spec: EntraAppSpec, now: datetime) -> None:
        self.graph, self.spec, self.now = graph, spec, now
        self.notes: list[str] = []
        self.new = False  # created in this run: in dry-run there is nothing to read back

    def find_or_create(self) -> tuple[dict[str, Any], dict[str, Any]]:
        found = self.graph.get_all(
            f"/servicePrincipals?$filter=displayName eq {_odata(self.spec.display_name)}&$select={_SP_FIELDS}"
        )
        if len(found) > 1:
            raise EntraAppError(f"{len(found)} enterprise applications are named {self.spec.display_name!r}")
        app_id = found[0]["appId"] if found else None
        self._check_identifier_free(app_id)
        if found:
            sp = found[0]
            app = self.graph.get(f"/applications(appId='{sp['appId']}')?$select=id,appId,identifierUris,web")
            return app, sp
        self.new = True
        created = self.graph.write(
            "POST",
            f"/applicationTemplates/{self._template_id()}/instantiate",
            {"displayName": self.spec.display_name},
            placeholder={
                "application": {"id": "{new-application-id}", "appId": "{new-app-id}", "identifierUris": []},
                "servicePrincipal": {"id": "{new-service-principal-id}", "appId": "{new-app-id}", "appRoles": []},
            },
        )
        app, sp = created["application"], created["servicePrincipal"]
        if not self.graph.dry_run:
            sp = self.graph.get_when_ready(f"/servicePrincipals/{sp['id']}?$select={_SP_FIELDS}")
            app = self.graph.get_when_ready(f"/applications/{app['id']}?$select=id,appId,identifierUris,web")
        return app, sp

    def _check_identifier_free(self, app_id: str | None) -> None:
        holders = self.graph.get_all(
            f"/applications?$filter=identifierUris/any(x:x eq {_odata(self.spec.identifier)})"
            "&$select=id,appId,displayName"
        )
        others = [holder for holder in holders if holder.get("appId") != app_id]
        if others:
            raise EntraAppError(
                f"identifier {self.spec.identifier} is already used by {others[0].get('displayName')!r} "
                f"(appId {others[0].get('appId')}): give this application another index (urn:amazon:webservices#N)"
            )

    def _template_id(self) -> str:
        if self.spec.template_id:
            return self.spec.template_id
        templates = self.graph.get_all(
            f"/applicationTemplates?$filter=displayName eq {_odata(self.spec.template_name)}"
        )
        if len(templates) != 1:
            raise EntraAppError(
                f"found {len(templates)} gallery templates named {self.spec.template_name!r}: pass --template-id"
            )
        return str(templates[0]["id"])

    def saml_mode(self, sp: dict[str, Any]) -> None:
        if sp.get("preferredSingleSignOnMode") != "saml":
            self.graph.write("PATCH", f"/servicePrincipals/{sp['id']}", {"preferredSingleSignOnMode": "saml"})

    def urls(self, app: dict[str, Any]) -> None:
        current_ids = app.get("identifierUris") or []
        current_replies = set((app.get("web") or {}).get("redirectUris") or [])
        if current_ids != [self.spec.identifier] or current_replies != set(self.spec.reply_urls):
            body = {"identifierUris": [self.spec.identifier], "web": {"redirectUris": list(self.spec.reply_urls)}}
            self.graph.write("PATCH", f"/applications/{app['id']}", body)

    def app_role(self, sp: dict[str, Any]) -> str:
        roles = [dict(role) for role in sp.get("appRoles") or []]
        for role in roles:
            if role.get("value") == self.spec.role_claim:
                if role.get("isEnabled"):
                    return str(role["id"])
                role["isEnabled"] = True
                self.graph.write("PATCH", f"/servicePrincipals/{sp['id']}", {"appRoles": roles})
                return str(role["id"])
        role_name, provider_name = (arn.rsplit("/", 1)[-1] for arn in self.spec.role_claim.split(",", 1))
        new_role = {
            "id": str(uuid.uuid5(_ROLE_NAMESPACE, self.spec.role_claim)),
            "allowedMemberTypes": ["User"],
            "displayName": f"{role_name} via {provider_name}",
            "description": "Amazon Connect sign-in: this value is sent as the SAML Role attribute",
            "isEnabled": True,
            "value": self.spec.role_claim,
        }
        self.graph.write("PATCH", f"/servicePrincipals/{sp['id']}", {"appRoles": [*roles, new_role]})
        return str(new_role["id"])

    def claims_policy(self, sp: dict[str, Any]) -> None:
        desired = claims_policy_definition(self.spec.claim_source, self.spec.session_duration)
        definition = [json.dumps(desired, separators=(",", ":"))]
        name = f"{self.spec.display_name} - Amazon Connect claims"
        assigned = [] if self.new else self.graph.get_all(f"/servicePrincipals/{sp['id']}/claimsMappingPolicies")
        if assigned and assigned[0].get("displayName") != name:
            raise EntraAppError(
                f"the application already has the claims-mapping policy {assigned[0].get('displayName')!r}, "
                "which this tool did not create; an application holds only one: remove it first"
            )
        policy = assigned[0] if assigned else self._own_unassigned_policy(name)
        if policy is None:
            policy = self.graph.write(
                "POST",
                "/policies/claimsMappingPolicies",
                {"definition": definition, "displayName": name},
                placeholder={"id": "{new-claims-mapping-policy-id}"},
            )
        elif [json.loads(text) for text in policy.get("definition", [])] != [desired]:
            self.graph.write("PATCH", f"/policies/claimsMappingPolicies/{policy['id']}", {"definition": definition})
        if not assigned:
            reference = {"@odata.id": f"{self.graph.base_url}/policies/claimsMappingPolicies/{policy['id']}"}
            self.graph.write("POST", f"/servicePrincipals/{sp['id']}/claimsMappingPolicies/$ref", reference)

    def _own_unassigned_policy(self, name: str) -> dict[str, Any] | None:
        """A policy this tool created before (same name), e.g. when an earlier run stopped half-way."""
        mine = [p for p in self.graph.get_all("/policies/claimsMappingPolicies") if p.get("displayName") == name]
        return mine[0] if mine else None

    def signing_certificate(self, sp: dict[str, Any]) -> None:
        preferred = (sp.get("preferredTokenSigningKeyThumbprint") or "").upper()
        active = [
            key
            for key in sp.get("keyCredentials") or []
            if key.get("usage") == "Verify" and preferred and _thumbprint(key) == preferred
        ]
        if active and not self.spec.roll_certificate:
            expires = datetime.fromisoformat(active[0]["endDateTime"].replace("Z", "+00:00"))
            if expires > self.now + timedelta(days=self.spec.renew_within_days):
                return
            self.notes.append(
                f"the signing certificate expires on {expires:%Y-%m-%d}: roll it with --roll-certificate, then "
                "render and deploy the new metadata at once (docs/agent-sso.md, certificate rolls)"
            )
            return
        end = self.now + timedelta(days=365 * self.spec.certificate_years)
        added = self.graph.write(
            "POST",
            f"/servicePrincipals/{sp['id']}/addTokenSigningCertificate",
            {"displayName": f"CN={self.spec.display_name}", "endDateTime": f"{end:%Y-%m-%dT%H:%M:%SZ}"},
            placeholder={"thumbprint": "{new-certificate-thumbprint}"},
        )
        self.graph.write(
            "PATCH", f"/servicePrincipals/{sp['id']}", {"preferredTokenSigningKeyThumbprint": added["thumbprint"]}
        )
        if active:
            self.notes.append(
                "a new signing certificate is active: IAM rejects sign-ins until the SAML provider has the new "
                "metadata: download it, render and deploy now"
            )

    def assignments(self, sp: dict[str, Any], role_id: str, user_ids: list[str]) -> None:
        existing = (
            []
            if self.new
            else self.graph.get_all(f"/servicePrincipals/{sp['id']}/appRoleAssignedTo?$select=principalId,appRoleId")
        )
        have = {(a.get("principalId"), a.get("appRoleId")) for a in existing}
        for user_id in user_ids:
            if (user_id, role_id) not in have:
                body = {"principalId": user_id, "resourceId": sp["id"], "appRoleId": role_id}
                self.graph.write("POST", f"/servicePrincipals/{sp['id']}/appRoleAssignedTo", body)
        extra = {a.get("principalId") for a in existing if a.get("appRoleId") == role_id} - set(user_ids)
        if extra:
            self.notes.append(f"{len(extra)} other principal(s) also hold this role; they were left as they are")


def _thumbprint(key_credential: dict[str, Any]) -> str:
    """Hex SHA-1 thumbprint of a signing key credential (Graph gives it base64 in customKeyIdentifier)."""
    try:
        return base64.b64decode(key_credential.get("customKeyIdentifier") or "", validate=True).hex().upper()
    except (binascii.Error, ValueError):
        return ""


def configure_enterprise_app(
    graph: GraphClient, spec: EntraAppSpec, now: datetime, login_url: str = "https://login.microsoftonline.com"
) -> Outcome:
    """Brings the enterprise application to ``spec``; in dry-run the graph client prints the writes instead."""
    if spec.claim_source not in CLAIM_SOURCES:
        raise EntraAppError(f"claim source must be one of {sorted(CLAIM_SOURCES)}")
    organizations = graph.get_all("/organization?$select=id")
    if len(organizations) != 1:
        raise EntraAppError("could not read the tenant id (GET /organization)")
    tenant_id = organizations[0]["id"]
    user_ids = _resolve_users(graph, spec)
    step = _Reconciler(graph, spec, now)
    app, sp = step.find_or_create()
    step.saml_mode(sp)
    step.urls(app)
    role_id = step.app_role(sp)
    step.claims_policy(sp)
    step.signing_certificate(sp)
    step.assignments(sp, role_id, user_ids)
    metadata_url = (
        f"{login_url.rstrip('/')}/{tenant_id}/federationmetadata/2007-06/federationmetadata.xml?appid={app['appId']}"
    )
    return Outcome(app["appId"], sp["id"], tenant_id, metadata_url, step.notes)
