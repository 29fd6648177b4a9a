"""Synthetic IdP federation metadata, made at test time with freshly generated self-signed certificates.

Shaped like Entra ID's application federation metadata (EntityDescriptor > IDPSSODescriptor > KeyDescriptor
use="signing" > ds:X509Certificate, SingleSignOnService for HTTP-Redirect and HTTP-POST); no real tenant.
"""

import base64
import math
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

FAKE_TENANT = "00000000-0000-0000-0000-000000000000"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"


@cache
def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _probable_prime(bits: int) -> int:
    def is_prime(n: int) -> bool:
        for small in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29):
            if n % small == 0:
                return n == small
        d, s = n - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        for _ in range(24):
            x = pow(secrets.randbelow(n - 3) + 2, d, n)
            if x in (1, n - 1):
                continue
            for _ in range(s - 1):
                x = pow(x, 2, n)
                if x == n - 1:
                    break
            else:
                return False
        return True

    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | 1
        if is_prime(candidate):
            return candidate


@cache
def weak_rsa_key(bits: int = 512) -> rsa.RSAPrivateKey:
    """An RSA key below IAM's 1,024-bit floor; cryptography refuses to generate one, so build it from primes."""
    e = 65537
    while True:
        p, q = _probable_prime(bits // 2), _probable_prime(bits // 2)
        phi = (p - 1) * (q - 1)
        if p != q and math.gcd(e, phi) == 1 and (p * q).bit_length() == bits:
            break
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), rsa.RSAPublicNumbers(e, p * q)
    )
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def certificate_b64(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None,
    not_after: datetime | None = None,
    not_before: datetime | None = None,
    common_name: str = "Microsoft Azure Federated SSO Certificate",
) -> str:
    key = key or rsa_key()
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=3 * 365))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


def metadata_xml(
    certificates: list[str] | None = None,
    entity_id: str = f"https://sts.windows.net/{FAKE_TENANT}/",
    role: str = "IDPSSODescriptor",
    protocol: str = "urn:oasis:names:tc:SAML:2.0:protocol",
    key_use: str | None = "signing",
    with_sso: bool = True,
    prolog: str = '<?xml version="1.0" encoding="utf-8"?>',
) -> bytes:
    """A federation metadata document; every argument bends one thing a test wants to see fail."""
    certificates = [certificate_b64()] if certificates is None else certificates
    use = f' use="{key_use}"' if key_use else ""
    keys = "".join(
        f'<KeyDescriptor{use}><KeyInfo xmlns="{DS}"><X509Data><X509Certificate>{cert}</X509Certificate>'
        "</X509Data></KeyInfo></KeyDescriptor>"
        for cert in certificates
    )
    sso = (
        f'<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="https://login.microsoftonline.com/{FAKE_TENANT}/saml2"/>'
        f'<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="https://login.microsoftonline.com/{FAKE_TENANT}/saml2"/>'
        if with_sso
        else ""
    )
    body = (
        f'{prolog}<EntityDescriptor ID="_00000000-0000-0000-0000-000000000001" entityID="{entity_id}" xmlns="{MD}">'
        f'<{role} protocolSupportEnumeration="{protocol}">{keys}'
        "<NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>"
        f"{sso}</{role}></EntityDescriptor>"
    )
    return body.encode("utf-8")
