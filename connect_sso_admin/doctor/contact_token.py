"""With an access token: the contact JWT the function issues, checked the way Amazon Connect will check it.

Only claims are shown (never the JWT, its signature or the widget key), and only what identifies the deployment
(the widget id, attribute names), not the user's attribute values.
"""

from __future__ import annotations

import hashlib
import hmac

import requests

from connect_sso_admin.doctor.jwt_parts import JwtParts
from connect_sso_admin.doctor.report import Result, failed, passed, skipped
from connect_sso_admin.doctor.target import Target, unreachable
from shared.contact_token import MAX_CONTACT_TOKEN_BYTES, fits_in_connect
from shared.widget import MAX_CONTACT_TOKEN_TTL_SECONDS

NAMES = (
    "contact-token.issue",
    "contact-token.header",
    "contact-token.sub",
    "contact-token.lifetime",
    "contact-token.attributes",
    "contact-token.size",
    "contact-token.signature",
)


def check_contact_token(target: Target) -> list[Result]:
    if not target.token:
        return [skipped(name, "no --token given") for name in NAMES]
    if not target.function_url:
        return [skipped(name, "no function URL") for name in NAMES]
    headers = {"Authorization": f"Bearer {target.token}", "Accept": "application/json"}
    if target.page_origin:
        headers["Origin"] = target.page_origin
    try:
        response = target.get(target.function_url, headers=headers)
    except requests.RequestException as error:
        return [failed(NAMES[0], unreachable(target.function_url, error))]
    if response.status_code != 200:
        try:
            code = response.json().get("code", "?")
        except ValueError:
            code = "?"
        if response.status_code == 401 and code == "insufficient_claims":
            reason = "the widget requires step-up and the token does not satisfy it (see step-up)"
            return [skipped(name, reason) for name in NAMES]
        return [
            failed(
                NAMES[0],
                f"the token got HTTP {response.status_code} {code}",
                "see docs/errors.md for the code (a fresh token? the right tenant and scope?)",
            ),
            *(skipped(name, "no contact token") for name in NAMES[1:]),
        ]
    jwt = response.json().get("data", "")
    try:
        parts = JwtParts.parse(jwt)
    except ValueError as error:
        return [failed(NAMES[0], f"the answer's data is not a JWT: {error}")]
    return [passed(NAMES[0], "a contact token was issued"), *_claims(target, jwt, parts)]


def _claims(target: Target, jwt: str, parts: JwtParts) -> list[Result]:
    results = []
    alg = parts.header.get("alg")
    results.append(
        passed("contact-token.header", "alg HS256")
        if alg == "HS256"
        else failed("contact-token.header", f"alg is {alg!r}, Amazon Connect needs HS256")
    )
    expected = target.widget_id or (target.page_config or {}).get("widget", {}).get("widgetId")
    sub = parts.claims.get("sub")
    if expected is None:
        results.append(skipped("contact-token.sub", f"sub {sub}; no --widget-id or config.json to compare"))
    elif sub != expected:
        results.append(
            failed(
                "contact-token.sub",
                f"sub {sub} is not the page's widget id {expected}",
                "set CONNECT_WIDGET_ID (App Configuration) to the widget id of the snippet in config.json",
            )
        )
    else:
        results.append(passed("contact-token.sub", f"sub is the widget id {sub}"))
    iat, exp = parts.claims.get("iat"), parts.claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        results.append(failed("contact-token.lifetime", "iat and exp must be whole seconds"))
    elif exp - iat > MAX_CONTACT_TOKEN_TTL_SECONDS or exp <= iat:
        needs = f"Connect needs 1 to {MAX_CONTACT_TOKEN_TTL_SECONDS}"
        results.append(failed("contact-token.lifetime", f"exp - iat is {exp - iat} s: {needs}"))
    else:
        results.append(passed("contact-token.lifetime", f"exp - iat is {exp - iat} s"))
    attributes = parts.claims.get("attributes", {})
    not_strings = sorted(name for name, value in attributes.items() if not isinstance(value, str))
    results.append(
        failed("contact-token.attributes", f"not strings: {', '.join(not_strings)}")
        if not_strings or not isinstance(attributes, dict)
        else passed("contact-token.attributes", f"string attributes: {', '.join(sorted(attributes))}")
    )
    size = len(jwt.encode())
    results.append(
        passed("contact-token.size", f"{size:,} bytes (limit {MAX_CONTACT_TOKEN_BYTES:,})")
        if fits_in_connect(size)
        else failed(
            "contact-token.size",
            f"{size:,} bytes: Connect accepts at most {MAX_CONTACT_TOKEN_BYTES:,}",
            "fewer attributes",
        )
    )
    results.append(_signature(target, parts))
    return results


def _signature(target: Target, parts: JwtParts) -> Result:
    if not target.widget_secret:
        return skipped("contact-token.signature", "no widget key given (--widget-secret-env)")
    expected = hmac.new(target.widget_secret.encode(), parts.signing_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, parts.signature):
        return failed(
            "contact-token.signature",
            "does not verify with the widget key given",
            "store the widget's current security key in Key Vault (docs/deploy.md, Key rotation)",
        )
    return passed("contact-token.signature", "verifies with the widget key")
