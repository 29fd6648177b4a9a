"""Verified Entra claims -> Amazon Connect contact attributes (string to string, as Connect requires).

Every attribute comes from a rule: the default attributes are rules like any other (adding one is one line of
DEFAULT_ATTRIBUTES), and SSO_CUSTOM_ATTRIBUTES entries parse into rules here, so what a rule means and how it is
written live in one file.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.auth_context import AUTH_CONTEXT_ATTRIBUTE

EMAIL_CLAIMS = ("email", "preferred_username", "upn", "unique_name")
MAX_CUSTOMER_ID_LENGTH = 128  # StartChatContact's limit
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32767}$")  # Amazon Connect attribute keys
# Set only by persistent chat, from the person's own stored contact (shared/last_contact.py): never from a claim,
# or a claim could name a contact the flow would then try to rehydrate.
PREVIOUS_CONTACT_ATTRIBUTE = "previousContactId"
# Attributes only the function sets, from what it checked: a claim mapped to one could stand in for that check.
RESERVED_ATTRIBUTES = {PREVIOUS_CONTACT_ATTRIBUTE: "persistent chat", AUTH_CONTEXT_ATTRIBUTE: "step-up"}
_log = logging.getLogger(__name__)


def attribute_value(value: Any) -> str | None:
    """Connect refuses any non-string attribute, so every claim shape gets one string form (None: leave out)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list):
        parts = (attribute_value(item) for item in value)
        return ",".join(part for part in parts if part is not None)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def claim_attribute_value(claims: Mapping[str, Any], claim: str) -> str | None:
    """The string form of one claim, or None (left out) when the claim has none: absent, or a shape that cannot be
    turned into text (a list nested deeper than the stack allows). Logged by the claim's name, never its value."""
    try:
        return attribute_value(claims.get(claim))
    except (RecursionError, ValueError) as error:
        _log.warning("claim %s cannot become a contact attribute (%s); left out", claim, type(error).__name__)
        return None


def first_string(claims: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class FirstStringClaim:
    """A default attribute: the first non-empty string among `claims` (left out silently when there is none)."""

    attribute: str
    claims: tuple[str, ...]

    def value(self, claims: Mapping[str, Any]) -> str | None:
        return first_string(claims, self.claims)


@dataclass(frozen=True)
class ClaimAttribute:
    """A custom attribute (`claim` or `claim:attribute`): the claim in its string form; reported when absent."""

    claim: str
    attribute: str

    def value(self, claims: Mapping[str, Any]) -> str | None:
        return claim_attribute_value(claims, self.claim)


DEFAULT_ATTRIBUTES: tuple[FirstStringClaim, ...] = (
    FirstStringClaim("name", ("name",)),
    FirstStringClaim("email", EMAIL_CLAIMS),
    FirstStringClaim("userId", ("oid",)),
    FirstStringClaim("tenantId", ("tid",)),
)


@dataclass(frozen=True)
class AttributeRules:
    """What one widget adds to the default attributes."""

    custom: tuple[ClaimAttribute, ...] = ()
    customer_id_claim: str | None = None


def parse_custom_attributes(raw: str | None) -> tuple[tuple[ClaimAttribute, ...], list[str]]:
    """The rules of an SSO_CUSTOM_ATTRIBUTES value, and a message per bad entry (all of them, not the first)."""
    rules: list[ClaimAttribute] = []
    problems: list[str] = []
    for entry in (part.strip() for part in (raw or "").split(",")):
        if not entry:
            continue
        claim, _, attribute = entry.rpartition(":") if ":" in entry else (entry, "", entry)
        claim, attribute = claim.strip(), attribute.strip()
        if not claim:
            problems.append(f"entry {entry!r} names no claim")
        elif not ATTRIBUTE_NAME.match(attribute):
            suggestion = re.sub(r"[^A-Za-z0-9_-]+", "_", claim.rsplit(".", 1)[-1]).strip("_") or "name"
            problems.append(
                f"{attribute!r} is not a valid Amazon Connect attribute name (letters, digits, '-' and '_' "
                f"only); map the claim to one with claim:attributeName, for example {claim}:{suggestion}"
            )
        elif attribute in RESERVED_ATTRIBUTES:
            problems.append(
                f"{attribute!r} is reserved for {RESERVED_ATTRIBUTES[attribute]}; map the claim {claim} to another name"
            )
        else:
            rules.append(ClaimAttribute(claim=claim, attribute=attribute))
    return tuple(rules), problems


@dataclass(frozen=True)
class MappedClaims:
    attributes: dict[str, str]
    display_name: str
    customer_id: str | None
    missing_claims: tuple[str, ...]


def map_claims(claims: Mapping[str, Any], rules: AttributeRules = AttributeRules()) -> MappedClaims:
    defaults = {rule.attribute: rule.value(claims) for rule in DEFAULT_ATTRIBUTES}
    attributes = {name: value for name, value in defaults.items() if value is not None}
    missing = []
    for rule in rules.custom:
        value = rule.value(claims)
        if value is None:
            missing.append(rule.claim)
            continue
        attributes[rule.attribute] = value
    customer_id_claim = rules.customer_id_claim
    customer_id = claim_attribute_value(claims, customer_id_claim) if customer_id_claim else None
    if customer_id is not None and len(customer_id) > MAX_CUSTOMER_ID_LENGTH:
        _log.warning(
            "claim %s is too long for customerId (%d characters); left out",
            customer_id_claim,
            len(customer_id),
        )
        customer_id = None
    if customer_id_claim and not customer_id:
        missing.append(customer_id_claim)
    return MappedClaims(
        attributes=attributes,
        display_name=defaults["name"] or defaults["email"] or "Customer",
        customer_id=customer_id or None,
        missing_claims=tuple(missing),
    )
