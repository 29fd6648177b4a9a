"""Verified Entra claims -> Amazon Connect contact attributes (string to string, as Connect requires)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.settings import CustomAttribute

EMAIL_CLAIMS = ("email", "preferred_username", "upn", "unique_name")
MAX_CUSTOMER_ID_LENGTH = 128  # StartChatContact's limit
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MappedClaims:
    attributes: dict[str, str]
    display_name: str
    customer_id: str | None
    missing_claims: tuple[str, ...]


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


def first_string(claims: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def map_claims(
    claims: Mapping[str, Any],
    custom: tuple[CustomAttribute, ...] = (),
    customer_id_claim: str | None = None,
) -> MappedClaims:
    defaults = {
        "name": first_string(claims, ("name",)),
        "email": first_string(claims, EMAIL_CLAIMS),
        "userId": first_string(claims, ("oid",)),
        "tenantId": first_string(claims, ("tid",)),
    }
    attributes = {name: value for name, value in defaults.items() if value is not None}
    missing = []
    for entry in custom:
        value = attribute_value(claims.get(entry.claim))
        if value is None:
            missing.append(entry.claim)
            continue
        attributes[entry.attribute] = value
    customer_id = attribute_value(claims.get(customer_id_claim)) if customer_id_claim else None
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
