"""Step-up (docs/step-up.md): which authentication context each widget requires, and whether --token satisfies it.

The function reveals a widget's requirement only to a valid token (the claims challenge comes after verification),
so these checks need --token. Shown: widget ids and context ids (`c1`..`c25`), never the token or a contact JWT.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import requests

from connect_sso_admin.doctor.jwt_parts import JwtParts
from connect_sso_admin.doctor.report import Result, failed, passed, skipped
from connect_sso_admin.doctor.target import Target, unreachable

STEP_UP_CODE = "insufficient_claims"


def widgets_to_check(target: Target) -> list[str]:
    """The page's widget (or --widget-id), then every --step-up-widget, each once."""
    page_widget = target.widget_id or (target.page_config or {}).get("widget", {}).get("widgetId")
    ids = [page_widget, *target.step_up_widgets] if page_widget else list(target.step_up_widgets)
    return list(dict.fromkeys(ids))


def check_step_up(target: Target) -> list[Result]:
    widgets = widgets_to_check(target)
    if not widgets:
        return [skipped("step-up", "no widget id (config.json, --widget-id or --step-up-widget)")]
    return [_check_widget(target, widget_id, named=widget_id in target.step_up_widgets) for widget_id in widgets]


def token_auth_contexts(token: str) -> str:
    """The token's `acrs`, for the report (context ids are configuration, not personal data)."""
    try:
        acrs = JwtParts.parse(token).claims.get("acrs", [])
    except ValueError:
        return "unreadable"
    return ", ".join(str(item) for item in acrs) if isinstance(acrs, list) and acrs else "none"


def challenged_context(challenge: object) -> str | None:
    """The context id a claims challenge asks for (None: not a well-formed challenge)."""
    try:
        request = json.loads(base64.b64decode(str(challenge), validate=True))
        value = request["access_token"]["acrs"]["value"]
    except (ValueError, TypeError, KeyError):
        return None
    return value if isinstance(value, str) else None


def _check_widget(target: Target, widget_id: str, *, named: bool) -> Result:
    """`named`: given with --step-up-widget (the page's own widget id is compared by contact-token.sub)."""
    result = _probe(target, widget_id, named=named)
    return replace(result, reason=f"widget {widget_id}: {result.reason}")


def _probe(target: Target, widget_id: str, *, named: bool) -> Result:
    name = "step-up"  # one line per widget, the reason naming it (a UUID would widen the whole table)
    if not target.token:
        return skipped(name, "no --token given: the function shows a widget's requirement only to a valid token")
    if not target.function_url:
        return skipped(name, "no function URL")
    headers = {"Authorization": f"Bearer {target.token}", "Accept": "application/json"}
    try:
        response = target.get(target.function_url, headers=headers, params={"widgetId": widget_id})
    except requests.RequestException as error:
        return failed(name, unreachable(target.function_url, error))
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200:
        try:
            attributes = JwtParts.parse(str(body.get("data", ""))).claims.get("attributes", {})
        except ValueError as error:
            return failed(name, f"the answer's data is not a JWT: {error}")
        context = attributes.get("authContext") if isinstance(attributes, dict) else None
        if context:
            return passed(name, f"requires authentication context {context}; the token satisfies it")
        return passed(name, "requires no authentication context")
    code = body.get("code", "?") if isinstance(body, dict) else "?"
    if code == "unknown_widget" and not named:
        return skipped(name, "the function does not sign for the page's widget (400 unknown_widget)")
    if response.status_code != 401 or code != STEP_UP_CODE:
        return failed(name, f"the token got HTTP {response.status_code} {code}", "see docs/errors.md for the code")
    return _challenge(name, response, body, target.token)


def _challenge(name: str, response: requests.Response, body: dict[str, object], token: str) -> Result:
    context = challenged_context(body.get("claims"))
    header = response.headers.get("WWW-Authenticate", "")
    if context is None or f'claims="{body.get("claims")}"' not in header:
        return failed(
            name,
            "a 401 insufficient_claims without a well-formed claims challenge in both the header and the body",
            "the function is not this version of connect-sso, or something in front of it rewrites the answer",
        )
    if "no-store" not in response.headers.get("Cache-Control", ""):
        return failed(name, "the claims challenge may be cached (no Cache-Control: no-store)")
    return passed(
        name,
        f"requires authentication context {context}; the token does not satisfy it (its acrs: "
        f"{token_auth_contexts(token)}), so the page steps up. For the contact-token checks, give a token with it",
    )
