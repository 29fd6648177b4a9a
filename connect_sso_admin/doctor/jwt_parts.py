"""Reads a compact JWT's header and claims (no verification) for checks; never returns or prints the token."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


def _decode(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError) as error:
        raise ValueError("a segment is not base64url JSON") from error
    if not isinstance(value, dict):
        raise ValueError("a segment is not a JSON object")
    return value


@dataclass(frozen=True)
class JwtParts:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @classmethod
    def parse(cls, token: str) -> JwtParts:
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError(f"{len(parts)} segments, not 3")
        signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        return cls(_decode(parts[0]), _decode(parts[1]), f"{parts[0]}.{parts[1]}".encode(), signature)
