"""Strict, crypto-free reading of a compact JWT: structure, base64url and JSON checks before any key is touched.

Stricter than the JSON and base64 the libraries accept: duplicate members (which parsers resolve differently,
RFC 8725 section 3.11 / RFC 7515 section 5.2) and non-canonical base64url are refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from shared.errors import InvalidToken

MAX_TOKEN_BYTES = 16 * 1024
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Low bits the last character of a segment leaves unused, by segment length modulo 4 (RFC 4648 section 3.5).
_UNUSED_BITS_MASK = {0: 0, 2: 0b1111, 3: 0b11}
# A JSON escape of a UTF-16 surrogate: valid only as half of a pair, which json.loads joins into one character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _malformed(detail: str) -> InvalidToken:
    return InvalidToken(detail, code="malformed_token")


def split_compact(token: str) -> tuple[str, str, str]:
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken(f"the token is larger than {MAX_TOKEN_BYTES} bytes", code="token_too_large")
    parts = token.split(".")
    if len(parts) == 5:
        raise _malformed("encrypted tokens (JWE) are not accepted")
    if len(parts) != 3:
        raise _malformed("the token is not a JWT (expected three dot-separated parts)")
    for part in parts:
        if not _BASE64URL.match(part) or len(part) % 4 == 1:
            raise _malformed("the token is not valid base64url")
        # Every part, not only the header: the libraries decode payload and signature leniently, and a
        # token must have one spelling (RFC 8725 section 2.6: several encodings of one token are a hazard).
        if part and _BASE64URL_ALPHABET.index(part[-1]) & _UNUSED_BITS_MASK[len(part) % 4]:
            raise _malformed("the token is not canonical base64url")
    return parts[0], parts[1], parts[2]


def decode_segment(segment: str) -> bytes:
    """Decodes a segment that split_compact() has already checked (alphabet, length, canonical last character)."""
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as error:
        raise _malformed("the token is not valid base64url") from error


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _holds_lone_surrogate(value: Any) -> bool:
    """Iterative: a value nested as deep as the JSON parser allows must not exhaust the stack here."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def read_header(token: str) -> tuple[str, str, str, dict[str, Any]]:
    """The three segments and the parsed header: everything read before any key is touched. Whatever fails in
    here is the token's fault, so it is a 401 malformed_token (never a 500 an anonymous caller could trigger)."""
    try:
        header_segment, payload_segment, signature_segment = split_compact(token)
        header = parse_json_object(decode_segment(header_segment), "header")
    except InvalidToken:
        raise
    except Exception as error:
        raise _malformed("the token could not be read") from error
    return header_segment, payload_segment, signature_segment, header


def parse_json_object(data: bytes, what: str) -> dict[str, Any]:
    """A token part as a JSON object. Every failure here, whatever raised it, is a malformed token (401), never
    an internal error: this is the first thing that reads what an anonymous caller sent."""
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
        # "\ud800" alone is valid JSON but not text (RFC 8259 section 8.2): refused here, it would otherwise fail
        # as a 500 when the claim is written into the UTF-8 contact token.
        lone_surrogate = _SURROGATE_ESCAPE.search(data) is not None and _holds_lone_surrogate(value)
    except Exception as error:
        reason = str(error) if str(error).startswith("duplicate member") else "is not valid JSON"
        raise _malformed(f"the token {what} {reason}") from error
    if not isinstance(value, dict):
        raise _malformed(f"the token {what} is not a JSON object")
    if lone_surrogate:
        raise _malformed(f"the token {what} holds an unpaired UTF-16 surrogate")
    return value
