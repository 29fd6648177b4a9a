"""Access tokens made in the tests, with keys generated at test time: well-formed Entra look-alikes and
deliberately broken ones (raw header and payload bytes, any algorithm)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tools.testkit.leak_registry import REGISTRY

TENANT_ID = "72f988bf-0000-4000-8000-00000000aaaa"
OTHER_TENANT_ID = "72f988bf-0000-4000-8000-00000000bbbb"
API_CLIENT_ID = "6e1a1b2c-0000-4000-8000-0000000000a1"
SPA_CLIENT_ID = "6e1a1b2c-0000-4000-8000-0000000000a2"
USER_OID = "0b1c2d3e-0000-4000-8000-0000000000d1"
WIDGET_ID = "5c1f0e2d-0000-4000-8000-0000000000c1"
WIDGET_SECRET = "fake-test-widget-secret-" + "x" * 20


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or uuid.uuid4().hex, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()

        def encode(number: int) -> str:
            return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))

        return {"kty": "RSA", "use": "sig", "kid": self.kid, "n": encode(numbers.n), "e": encode(numbers.e)}

    def sign(self, signing_input: bytes) -> bytes:
        return self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def compact(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, key: SigningKey | None) -> str:
    """A compact JWS from raw parts; header/payload may be bytes to make duplicate members and other oddities."""
    header_bytes = header if isinstance(header, bytes) else json_bytes(header)
    payload_bytes = payload if isinstance(payload, bytes) else json_bytes(payload)
    signing_input = f"{b64url(header_bytes)}.{b64url(payload_bytes)}".encode()
    signature = key.sign(signing_input) if key else b""
    token = f"{signing_input.decode()}.{b64url(signature)}"
    REGISTRY.register_token(token)  # the log-hygiene check fails the run if it ever reaches a log
    return token


def v2_issuer(tenant: str = TENANT_ID) -> str:
    return f"https://login.microsoftonline.com/{tenant}/v2.0"


def v1_issuer(tenant: str = TENANT_ID) -> str:
    return f"https://sts.windows.net/{tenant}/"


def entra_v2_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": API_CLIENT_ID,
        "iss": v2_issuer(),
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "azp": SPA_CLIENT_ID,
        "name": "Ada Lovelace",
        "oid": USER_OID,
        "preferred_username": "ada@contoso.example",
        "scp": "JWT.Read",
        "sub": "pairwise-subject",
        "tid": TENANT_ID,
        "ver": "2.0",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def entra_v1_claims(**overrides: Any) -> dict[str, Any]:
    claims = entra_v2_claims(
        aud=f"api://{API_CLIENT_ID}",
        iss=v1_issuer(),
        ver="1.0",
        azp=None,
        preferred_username=None,
        appid=SPA_CLIENT_ID,
        upn="ada@contoso.example",
        unique_name="ada@contoso.example",
    )
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def access_token(key: SigningKey, claims: dict[str, Any] | None = None, **header: Any) -> str:
    full_header = {"typ": "JWT", "alg": "RS256", "kid": key.kid, **header}
    full_header = {name: value for name, value in full_header.items() if value is not None}
    return compact(full_header, claims if claims is not None else entra_v2_claims(), key)
