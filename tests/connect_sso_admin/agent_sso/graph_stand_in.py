"""A stand-in for Microsoft Graph on 127.0.0.1 that keeps state and records every call.

Microsoft Graph is out of reach from tests, so this server implements just the v1.0 calls that
connect_sso_admin.agent_sso.entra_app makes, with the behaviours that matter: a bearer token is required, app roles that
are enabled cannot be dropped by a PATCH, app role values hold at most 120 characters, a signing certificate's
display name starts with CN=, collections are paged with @odata.nextLink. Real HTTP, real JSON.
"""

import base64
import hashlib
import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

FAKE_TOKEN = "fake-graph-token-for-tests"
TENANT_ID = "00000000-0000-0000-0000-000000000000"
AWS_TEMPLATE_ID = "8b1025e4-1dd2-430b-a150-2ef79cd700f5"
PAGE_SIZE = 2


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _odata_literal(expression: str, prefix: str) -> str:
    match = re.fullmatch(re.escape(prefix) + r"'((?:[^']|'')*)'\)?", expression)
    if not match:
        raise GraphError(400, "BadRequest", f"unsupported filter {expression!r}")
    return match.group(1).replace("''", "'")


@dataclass
class GraphState:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy_links: dict[str, list[str]] = field(default_factory=dict)  # sp id -> policy ids
    assignments: list[dict[str, Any]] = field(default_factory=list)

    def add_user(self, upn: str, mail: str | None = None) -> str:
        user_id = str(uuid.uuid4())
        self.users[user_id] = {"id": user_id, "userPrincipalName": upn, "mail": mail}
        return user_id

    def add_application(self, display_name: str, identifier_uris: list[str]) -> dict[str, Any]:
        app = {"id": str(uuid.uuid4()), "appId": str(uuid.uuid4()), "displayName": display_name}
        app |= {"identifierUris": identifier_uris, "web": {"redirectUris": []}}
        self.applications[app["id"]] = app
        return app

    def add_service_principal(self, app: dict[str, Any]) -> dict[str, Any]:
        sp = {
            "id": str(uuid.uuid4()),
            "appId": app["appId"],
            "displayName": app["displayName"],
            "preferredSingleSignOnMode": None,
            "preferredTokenSigningKeyThumbprint": None,
            "keyCredentials": [],
            # the AWS gallery application arrives with this default role
            "appRoles": [
                {
                    "id": "8774f594-1d59-4279-b9d9-59ef09a23530",
                    "allowedMemberTypes": ["User"],
                    "displayName": "msiam_access",
                    "description": "msiam_access",
                    "isEnabled": True,
                    "value": None,
                }
            ],
        }
        self.service_principals[sp["id"]] = sp
        return sp

    def add_policy(self, display_name: str, definition: list[str]) -> dict[str, Any]:
        policy = {"id": str(uuid.uuid4()), "displayName": display_name, "definition": definition}
        self.policies[policy["id"]] = policy
        return policy


class GraphStandIn:
    """Start with ``with GraphStandIn() as graph:``; ``graph.url`` is the v1.0 base, ``graph.calls`` the record."""

    def __init__(self) -> None:
        self.state = GraphState()
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:  # quiet test output
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                call = Call(self.command, unquote(parts.path), query, body, self.headers.get("Authorization"))
                with stand_in._lock:
                    stand_in.calls.append(call)
                    try:
                        if call.authorization != f"Bearer {FAKE_TOKEN}":
                            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
                        status, answer = stand_in.route(call)
                    except GraphError as error:
                        status, answer = error.status, {"error": {"code": error.code, "message": error.message}}
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1.0"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "GraphStandIn":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def writes(self) -> list[Call]:
        return [call for call in self.calls if call.method != "GET"]

    def clear_calls(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- routing ---------------------------------------------------------------------------------------------
    def _page(self, items: list[dict[str, Any]], call: Call) -> dict[str, Any]:
        skip = int(call.query.get("$skiptoken", "0"))
        page: dict[str, Any] = {"value": items[skip : skip + PAGE_SIZE]}
        if skip + PAGE_SIZE < len(items):
            rest = urlencode({k: v for k, v in call.query.items() if k != "$skiptoken"}, quote_via=quote)
            page["@odata.nextLink"] = (
                f"{self.url}{call.path.removeprefix('/v1.0')}?{rest}&$skiptoken={skip + PAGE_SIZE}"
            )
        return page

    def _sp(self, sp_id: str) -> dict[str, Any]:
        if sp_id not in self.state.service_principals:
            raise GraphError(404, "Request_ResourceNotFound", f"servicePrincipal {sp_id} does not exist")
        return self.state.service_principals[sp_id]

    def route(self, call: Call) -> tuple[int, Any]:
        s = self.state
        path = call.path.removeprefix("/v1.0")
        method = call.method
        if method == "GET" and path == "/organization":
            return 200, {"value": [{"id": TENANT_ID}]}
        if method == "GET" and (m := re.fullmatch(r"/users/(.+)", path)):
            key = m.group(1)
            for user in s.users.values():
                if key in (user["id"], user["userPrincipalName"]):
                    return 200, user
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist")
        if method == "GET" and path == "/applicationTemplates":
            name = _odata_literal(call.query.get("$filter", ""), "displayName eq ")
            found = [{"id": AWS_TEMPLATE_ID, "displayName": name}] if name == "Amazon Web Services (AWS)" else []
            return 200, {"value": found}
        if method == "POST" and (m := re.fullmatch(r"/applicationTemplates/([^/]+)/instantiate", path)):
            if m.group(1) != AWS_TEMPLATE_ID:
                raise GraphError(404, "Request_ResourceNotFound", "no such template")
            app = s.add_application(call.body["displayName"], [])
            sp = s.add_service_principal(app)
            return 201, {"application": app, "servicePrincipal": sp}
        if method == "GET" and path == "/servicePrincipals":
            name = _odata_literal(call.query.get("$filter", ""), "displayName eq ")
            return 200, self._page([sp for sp in s.service_principals.values() if sp["displayName"] == name], call)
        if (m := re.fullmatch(r"/servicePrincipals/([^/]+)", path)) and method in ("GET", "PATCH"):
            sp = self._sp(m.group(1))
            if method == "GET":
                return 200, sp
            return self._patch_sp(sp, call.body)
        if method == "GET" and path == "/applications":
            identifier = _odata_literal(call.query.get("$filter", ""), "identifierUris/any(x:x eq ")
            holders = [a for a in s.applications.values() if identifier in a["identifierUris"]]
            return 200, self._page(holders, call)
        if method == "GET" and (m := re.fullmatch(r"/applications\(appId='([^']+)'\)", path)):
            for app in s.applications.values():
                if app["appId"] == m.group(1):
                    return 200, app
            raise GraphError(404, "Request_ResourceNotFound", "no such application")
        if (m := re.fullmatch(r"/applications/([^/]+)", path)) and method in ("GET", "PATCH"):
            app = s.applications.get(m.group(1))
            if app is None:
                raise GraphError(404, "Request_ResourceNotFound", "no such application")
            if method == "GET":
                return 200, app
            for holder in s.applications.values():
                clash = set(holder["identifierUris"]) & set(call.body.get("identifierUris", []))
                if holder is not app and clash:
                    raise GraphError(400, "HostNameNotOnVerifiedDomain", "identifier already in use")
            app.update(call.body)
            return 204, None
        if method == "GET" and (m := re.fullmatch(r"/servicePrincipals/([^/]+)/claimsMappingPolicies", path)):
            self._sp(m.group(1))
            return 200, self._page([s.policies[p] for p in s.policy_links.get(m.group(1), [])], call)
        if method == "POST" and (m := re.fullmatch(r"/servicePrincipals/([^/]+)/claimsMappingPolicies/\$ref", path)):
            self._sp(m.group(1))
            policy_id = call.body["@odata.id"].rsplit("/", 1)[-1]
            if s.policy_links.get(m.group(1)):
                raise GraphError(400, "Request_BadRequest", "a claims-mapping policy is already assigned")
            s.policy_links[m.group(1)] = [policy_id]
            return 204, None
        if method == "GET" and path == "/policies/claimsMappingPolicies":
            return 200, self._page(list(s.policies.values()), call)
        if method == "POST" and path == "/policies/claimsMappingPolicies":
            json.loads(call.body["definition"][0])  # Graph refuses a definition that is not JSON
            return 201, s.add_policy(call.body["displayName"], call.body["definition"])
        if method == "PATCH" and (m := re.fullmatch(r"/policies/claimsMappingPolicies/([^/]+)", path)):
            s.policies[m.group(1)].update(call.body)
            return 204, None
        if method == "POST" and (m := re.fullmatch(r"/servicePrincipals/([^/]+)/addTokenSigningCertificate", path)):
            return 200, self._add_certificate(self._sp(m.group(1)), call.body)
        if (m := re.fullmatch(r"/servicePrincipals/([^/]+)/appRoleAssignedTo", path)) and method in ("GET", "POST"):
            sp = self._sp(m.group(1))
            if method == "GET":
                return 200, self._page([a for a in s.assignments if a["resourceId"] == sp["id"]], call)
            if call.body["appRoleId"] not in {role["id"] for role in sp["appRoles"] if role["isEnabled"]}:
                raise GraphError(400, "Request_BadRequest", "Permission being assigned was not found on application")
            assignment = {"id": secrets.token_urlsafe(16), **call.body}
            s.assignments.append(assignment)
            return 201, assignment
        raise GraphError(400, "BadRequest", f"stand-in does not implement {method} {path}")

    def _patch_sp(self, sp: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        if "appRoles" in body:
            new_ids = {role["id"] for role in body["appRoles"]}
            for role in sp["appRoles"]:
                if role["isEnabled"] and role["id"] not in new_ids:
                    raise GraphError(400, "CannotDeleteOrUpdateEnabledEntitlement", "disable the role first")
            for role in body["appRoles"]:
                if role.get("value") and len(role["value"]) > 120:
                    raise GraphError(400, "Request_BadRequest", "app role value longer than 120 characters")
        if "preferredTokenSigningKeyThumbprint" in body:
            known = {key["thumbprint"] for key in sp["keyCredentials"]}
            if body["preferredTokenSigningKeyThumbprint"] not in known:
                raise GraphError(400, "Request_BadRequest", "no certificate with this thumbprint")
        sp.update(body)
        return 204, None

    def _add_certificate(self, sp: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("displayName", "").startswith("CN="):
            raise GraphError(400, "Request_BadRequest", "displayName must start with CN=")
        digest = hashlib.sha1(secrets.token_bytes(32)).digest()  # noqa: S324 -- a thumbprint is SHA-1 by definition
        thumbprint = digest.hex().upper()
        identifier = base64.b64encode(digest).decode()
        for usage in ("Sign", "Verify"):
            sp["keyCredentials"].append(
                {
                    "customKeyIdentifier": identifier,
                    "endDateTime": body["endDateTime"],
                    "keyId": str(uuid.uuid4()),
                    "type": "AsymmetricX509Cert",
                    "usage": usage,
                    "thumbprint": thumbprint,  # not a Graph field: lets this stand-in validate the PATCH above
                }
            )
        return {"thumbprint": thumbprint, "customKeyIdentifier": identifier, "endDateTime": body["endDateTime"]}
