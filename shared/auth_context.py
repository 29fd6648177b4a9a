"""Step-up: a widget may require a Conditional Access authentication context (`c1`..`c25`).

Entra names the contexts an access token satisfied in its `acrs` claim. When the widget's context is missing, the
function answers a claims challenge (RFC 6750 `insufficient_claims` with Entra's `claims` parameter) that the page
hands to MSAL to get a new token; docs/step-up.md explains the Entra side. The rule for an id, the `acrs` check and
the challenge's encoding live here, beside each other.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Any

from shared.errors import InsufficientClaims, InvalidToken

AUTH_CONTEXT_ID = re.compile(r"^c([1-9]|1[0-9]|2[0-5])$")  # what Entra allows: c1..c25
AUTH_CONTEXT_RULE = "must be an authentication context id from c1 to c25"
AUTH_CONTEXT_ATTRIBUTE = "authContext"  # the contact attribute naming the satisfied id, for flows to branch on


def auth_context_problem(value: object) -> str | None:
    """What is wrong with a configured id, or None when it is one ("" is not: callers decide what "" means)."""
    if isinstance(value, str) and AUTH_CONTEXT_ID.match(value):
        return None
    shown = repr(value) if isinstance(value, str) and len(value) <= 40 else f"a {type(value).__name__}"
    return f"{AUTH_CONTEXT_RULE}, got {shown}"


def claims_request(auth_context: str) -> str:
    """The compact JSON claims request Entra expects for `auth_context`."""
    request = {"access_token": {"acrs": {"essential": True, "value": auth_context}}}
    return json.dumps(request, separators=(",", ":"))


def claims_challenge(auth_context: str) -> str:
    """The challenge's `claims` value: standard, padded base64 (RFC 4648 section 4) of the claims request."""
    return base64.b64encode(claims_request(auth_context).encode("ascii")).decode("ascii")


def satisfied_auth_contexts(claims: Mapping[str, Any]) -> frozenset[str]:
    """The token's `acrs` (absent: none); any shape but an array of strings is a malformed token."""
    acrs = claims.get("acrs", [])
    if not isinstance(acrs, list) or not all(isinstance(item, str) for item in acrs):
        raise InvalidToken("the token's acrs claim is not an array of strings", code="invalid_claim")
    return frozenset(acrs)


def require_auth_context(claims: Mapping[str, Any], auth_context: str | None) -> None:
    """Passes when the widget requires no context or the verified token satisfied it; else the claims challenge."""
    if auth_context is None:
        return
    if auth_context not in satisfied_auth_contexts(claims):
        raise InsufficientClaims(
            f"this widget requires authentication context {auth_context}, which the token does not satisfy; "
            "get a new token with the claims of this challenge",
            claims=claims_challenge(auth_context),
            log_detail=f"the token does not satisfy authentication context {auth_context} (acrs)",
        )
