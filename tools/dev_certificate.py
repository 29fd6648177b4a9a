"""Development tool: a self-signed TLS certificate for localhost, made on this machine and kept in .dev/.

MSAL insists on an https authority, so the local identity provider needs a certificate. It is generated here
(never committed) and trusted only by the processes the local stack starts (REQUESTS_CA_BUNDLE).
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 30
RENEW_WHEN_DAYS_LEFT = 2


@dataclass(frozen=True)
class CertificateFiles:
    cert_file: Path
    key_file: Path


def _still_valid(cert_file: Path) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except (OSError, ValueError):
        return False
    left = certificate.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return left > datetime.timedelta(days=RENEW_WHEN_DAYS_LEFT)


def ensure_localhost_certificate(folder: Path) -> CertificateFiles:
    """Reuses the certificate in `folder` while it has days left; otherwise makes a new one."""
    folder.mkdir(parents=True, exist_ok=True)
    files = CertificateFiles(folder / "localhost.crt", folder / "localhost.key")
    if files.key_file.exists() and _still_valid(files.cert_file):
        return files
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "connect-sso development (localhost)")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    files.key_file.touch(mode=0o600)
    files.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
