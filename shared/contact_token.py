"""The Amazon Connect contact JWT: HS256 over the widget's security key, at most 10 minutes long.

Plain hmac and json from the standard library: the format is fixed and small, and signing must be cheap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from shared.errors import ContactTokenTooLarge
from shared.widget import MAX_CONTACT_TOKEN_TTL_SECONDS, Widget

MAX_CONTACT_TOKEN_BYTES = 6144  # Amazon Connect refuses longer tokens
MAX_ATTRIBUTE_BYTES = 32768  # StartChatContact: all attribute keys and values together
_HEADER_SEGMENT = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def fits_in_connect(token_bytes: int) -> bool:
    """Whether Amazon Connect takes an encoded contact JWT of this size (the function and the doctor ask here)."""
    return token_bytes <= MAX_CONTACT_TOKEN_BYTES


@dataclass(frozen=True)
class ContactToken:
    jwt: str
    expires_in: int


def _segment(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _largest(attributes: Mapping[str, str], count: int = 3) -> str:
    sizes = sorted(((len(k.encode()) + len(v.encode()), k) for k, v in attributes.items()), reverse=True)
    return ", ".join(f"{name} ({size} bytes)" for size, name in sizes[:count])


def mint_contact_token(
    widget: Widget,
    *,
    attributes: Mapping[str, str],
    now: float,
    customer_id: str | None = None,
) -> ContactToken:
    """The contact JWT for `widget`: its id as `sub`, its TTL, its segment attributes, signed with its key."""
    ttl_seconds = widget.ttl_seconds
    segment_attributes = widget.segment_attributes
    if not 1 <= ttl_seconds <= MAX_CONTACT_TOKEN_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be 1..{MAX_CONTACT_TOKEN_TTL_SECONDS}")
    issued_at = int(now)
    claims: dict[str, object] = {
        "sub": widget.widget_id,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "attributes": dict(attributes),
    }
    if segment_attributes:
        claims["segmentAttributes"] = segment_attributes
    if customer_id:
        claims["customerId"] = customer_id
    attribute_bytes = sum(len(k.encode()) + len(v.encode()) for k, v in attributes.items())
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    signing_input = _HEADER_SEGMENT + b"." + _segment(payload)
    signature = hmac.new(widget.secret.reveal().encode("utf-8"), signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + _segment(signature)).decode("ascii")
    if not fits_in_connect(len(token)) or attribute_bytes > MAX_ATTRIBUTE_BYTES:
        raise ContactTokenTooLarge(
            "the user's contact attributes are too large for Amazon Connect; the log names the largest",
            log_detail=f"the contact attributes make a token of {len(token)} bytes ({attribute_bytes} bytes "
            f"of attributes); Amazon Connect accepts {MAX_CONTACT_TOKEN_BYTES}. "
            f"Largest attributes: {_largest(attributes)}",
        )
    return ContactToken(jwt=token, expires_in=ttl_seconds)
