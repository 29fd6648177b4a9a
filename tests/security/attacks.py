"""Forging tools for the attack catalogue: tokens signed any way an attacker would sign them.

Everything is generated at test time. Each token starts from the same valid Entra v2 token and changes one
thing, so a refusal can only be due to that one thing.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from cryptography.x509.oid import NameOID

from tools.testkit.leak_registry import REGISTRY
from tools.testkit.tokens import SigningKey, b64url, entra_v2_claims, json_bytes

Signer = Callable[[bytes], bytes]


def forge(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, sign: Signer | None) -> str:
    """A compact JWS from raw parts with any signing function (None: empty signature)."""
    header_bytes = header if isinstance(header, bytes) else json_bytes(header)
    payload_bytes = payload if isinstance(payload, bytes) else json_bytes(payload)
    signing_input = f"{b64url(header_bytes)}.{b64url(payload_bytes)}".encode()
    token = f"{signing_input.decode()}.{b64url(sign(signing_input) if sign else b'')}"
    REGISTRY.register_token(token)
    return token


def rs256(key: SigningKey) -> Signer:
    return key.sign


def rs384(key: SigningKey) -> Signer:
    return lambda data: key.private_key.sign(data, padding.PKCS1v15(), hashes.SHA384())


def ps256(key: SigningKey) -> Signer:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return lambda data: key.private_key.sign(data, pss, hashes.SHA256())


def es256() -> Signer:
    private_key = ec.generate_private_key(ec.SECP256R1())

    def sign(data: bytes) -> bytes:
        r, s = utils.decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS form: r || s (RFC 7518 section 3.4)

    return sign


def hs256_with(secret: bytes) -> Signer:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def public_key_pem(key: SigningKey) -> bytes:
    return key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def self_signed_certificate_b64(key: SigningKey) -> str:
    """An x5c entry (base64 DER, RFC 7515 section 4.1.6) for the attacker's own key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "login.microsoftonline.com")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key.private_key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def with_spare_bits(claims: dict[str, Any]) -> dict[str, Any]:
    """The same claims, padded so that the payload segment's last character has unused low bits."""
    padded = dict(claims, pad="")
    while len(b64url(json_bytes(padded))) % 4 not in (2, 3):
        padded["pad"] += "x"
    return padded


def replace_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


def flip_middle_character(segment: str) -> str:
    """Changes one base64url character in the middle (never the last one, whose low bits may be unused)."""
    middle = len(segment) // 2
    replacement = "A" if segment[middle] != "A" else "B"
    return segment[:middle] + replacement + segment[middle + 1 :]


def non_canonical_last_character(segment: str) -> str:
    """The same bytes spelled differently: set the unused low bits of the last base64url character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    unused_bits = {2: 4, 3: 2}[len(segment) % 4]  # 2 chars -> 1 byte: 4 spare bits; 3 chars -> 2 bytes: 2
    value = alphabet.index(segment[-1]) | ((1 << unused_bits) - 1)
    return segment[:-1] + alphabet[value]


@dataclass
class Forger:
    """What an attacker has: the service's public keys (they are public), its own keys, and a valid token."""

    trusted: SigningKey  # Entra's key: the attacker cannot sign with it, but its public half is public
    attacker: SigningKey  # the attacker's own RSA key, with its own kid
    attacker_jwks_url: str  # a loopback server the attacker controls, serving the attacker's key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return entra_v2_claims(**overrides)

    def header(self, **overrides: Any) -> dict[str, Any]:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.trusted.kid, **overrides}
        return {name: value for name, value in header.items() if value is not None}

    def genuine(self, claims: dict[str, Any] | bytes | None = None, **header: Any) -> str:
        """Signed by the trusted key: stands for what Entra itself would issue with these claims."""
        return forge(self.header(**header), claims if claims is not None else self.claims(), rs256(self.trusted))
