"""Checks an identity provider's SAML 2.0 federation metadata before IAM (and then every agent) depends on it.

What IAM needs from ``AWS::IAM::SAMLProvider.SamlMetadataDocument``: one ``EntityDescriptor`` with an
``IDPSSODescriptor`` for the SAML 2.0 protocol, a signing certificate whose key is RSA of at least 1,024 bits,
and 1,000 to 10,000,000 characters. An expired certificate is the usual sign of stale metadata after a roll.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from connect_sso_admin.agent_sso.findings import Finding, Level, has_errors
from connect_sso_admin.agent_sso.safe_xml import XmlRejected, parse_untrusted_xml

IAM_MIN_CHARACTERS = 1_000
IAM_MAX_CHARACTERS = 10_000_000
MIN_RSA_BITS = 1024
DEFAULT_WARN_DAYS = 30

_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
_DS = "http://www.w3.org/2000/09/xmldsig#"
_SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"


@dataclass(frozen=True)
class SigningCertificate:
    subject: str
    not_after: datetime
    key_description: str
    sha256_fingerprint: str


@dataclass(frozen=True)
class MetadataReport:
    source: str
    document: str  # exactly as read: IAM gets these characters, unchanged
    entity_id: str | None
    certificates: tuple[SigningCertificate, ...]
    sso_urls: tuple[str, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(list(self.findings))


def _certificate(text: str, now: datetime, warn_days: int, findings: list[Finding]) -> SigningCertificate | None:
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (binascii.Error, ValueError):
        findings.append(Finding(Level.ERROR, "a signing certificate is not a base64 DER X.509 certificate"))
        return None
    fingerprint = hashlib.sha256(der).hexdigest().upper()
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        description = f"RSA {key.key_size} bits"
        if key.key_size < MIN_RSA_BITS:
            findings.append(
                Finding(
                    Level.ERROR,
                    f"signing certificate {fingerprint[:16]}... has an RSA key of {key.key_size} bits; "
                    f"IAM needs at least {MIN_RSA_BITS}",
                )
            )
    else:
        description = type(key).__name__.removeprefix("_")
        findings.append(
            Finding(Level.ERROR, f"signing certificate {fingerprint[:16]}... has a {description} key; IAM needs RSA")
        )
    not_after = cert.not_valid_after_utc
    if not_after <= now:
        findings.append(
            Finding(
                Level.ERROR,
                f"signing certificate {fingerprint[:16]}... expired on {not_after:%Y-%m-%d}: this metadata is "
                "stale; download the IdP's current metadata (after its certificate roll)",
            )
        )
    elif not_after <= now + timedelta(days=warn_days):
        days = (not_after - now).days
        findings.append(
            Finding(
                Level.WARNING,
                f"signing certificate {fingerprint[:16]}... expires on {not_after:%Y-%m-%d} (in {days} days): "
                "plan the certificate roll",
            )
        )
    if cert.not_valid_before_utc > now:
        findings.append(
            Finding(
                Level.WARNING,
                f"signing certificate {fingerprint[:16]}... is not valid before {cert.not_valid_before_utc:%Y-%m-%d}",
            )
        )
    return SigningCertificate(cert.subject.rfc4514_string(), not_after, description, fingerprint)


def _idp_parts(root: Element, now: datetime, warn_days: int, findings: list[Finding]) -> tuple[list[Any], list[Any]]:
    descriptors = root.findall(f"{{{_MD}}}IDPSSODescriptor")
    if not descriptors:
        roles = sorted({child.tag.rsplit("}", 1)[-1] for child in root})
        findings.append(
            Finding(
                Level.ERROR,
                "no IDPSSODescriptor: this is not identity provider metadata"
                + (f" (it has {', '.join(roles)})" if roles else ""),
            )
        )
        return [], []
    certificates: list[SigningCertificate] = []
    sso_urls: list[str] = []
    for descriptor in descriptors:
        if _SAML2_PROTOCOL not in descriptor.get("protocolSupportEnumeration", "").split():
            findings.append(Finding(Level.ERROR, "the IDPSSODescriptor does not list the SAML 2.0 protocol"))
        for key_descriptor in descriptor.findall(f"{{{_MD}}}KeyDescriptor"):
            if key_descriptor.get("use", "signing") != "signing":
                continue
            for element in key_descriptor.iterfind(f"{{{_DS}}}KeyInfo/{{{_DS}}}X509Data/{{{_DS}}}X509Certificate"):
                found = _certificate(element.text or "", now, warn_days, findings)
                if found:
                    certificates.append(found)
        sso_urls += [s.get("Location", "") for s in descriptor.findall(f"{{{_MD}}}SingleSignOnService")]
    if not certificates and not has_errors(findings):
        findings.append(
            Finding(Level.ERROR, 'no signing certificate (KeyDescriptor use="signing" with ds:X509Certificate)')
        )
    if len(certificates) > 1:
        findings.append(
            Finding(Level.INFO, f"{len(certificates)} signing certificates: a certificate roll may be under way")
        )
    if not sso_urls:
        findings.append(Finding(Level.WARNING, "no SingleSignOnService: users cannot start sign-in at this IdP"))
    return certificates, sso_urls


def check_metadata(data: bytes, source: str, now: datetime, warn_days: int = DEFAULT_WARN_DAYS) -> MetadataReport:
    """Every problem IAM or a sign-in would hit with this metadata, as findings; ``now`` must be aware (UTC)."""
    findings: list[Finding] = []

    def report(entity_id: str | None = None, certs: tuple[Any, ...] = (), urls: tuple[Any, ...] = ()) -> MetadataReport:
        return MetadataReport(source, document, entity_id, tuple(certs), tuple(urls), tuple(findings))

    try:
        document = data.decode("utf-8")
    except UnicodeDecodeError:
        document = ""
        findings.append(Finding(Level.ERROR, "not UTF-8 text"))
        return report()
    if len(document) < IAM_MIN_CHARACTERS:
        findings.append(
            Finding(
                Level.ERROR,
                f"{len(document):,} characters: IAM needs {IAM_MIN_CHARACTERS:,} to {IAM_MAX_CHARACTERS:,} "
                "(a truncated download or an error page?)",
            )
        )
    if len(document) > IAM_MAX_CHARACTERS:
        findings.append(
            Finding(Level.ERROR, f"{len(document):,} characters: IAM accepts at most {IAM_MAX_CHARACTERS:,}")
        )
        return report()
    try:
        root = parse_untrusted_xml(data, max_bytes=4 * IAM_MAX_CHARACTERS)
    except XmlRejected as error:
        findings.append(Finding(Level.ERROR, str(error)))
        return report()
    if root.tag == f"{{{_MD}}}EntitiesDescriptor":
        findings.append(
            Finding(
                Level.ERROR, "an EntitiesDescriptor (several entities): IAM needs the IdP's single EntityDescriptor"
            )
        )
        return report()
    if root.tag != f"{{{_MD}}}EntityDescriptor":
        findings.append(Finding(Level.ERROR, f"root element is {root.tag}, not a SAML 2.0 metadata EntityDescriptor"))
        return report()
    entity_id = root.get("entityID") or None
    if not entity_id:
        findings.append(Finding(Level.ERROR, "the EntityDescriptor has no entityID"))
    valid_until = root.get("validUntil")
    if valid_until:
        try:
            expired = datetime.fromisoformat(valid_until.replace("Z", "+00:00")) <= now
        except ValueError:
            expired = False
        if expired:
            findings.append(
                Finding(Level.WARNING, f"the metadata says it is valid until {valid_until}: download it again")
            )
    certs, urls = _idp_parts(root, now, warn_days, findings)
    return report(entity_id, tuple(certs), tuple(urls))


def load_metadata(path: Path, now: datetime, warn_days: int = DEFAULT_WARN_DAYS) -> MetadataReport:
    """Reads at most the IAM maximum (plus a margin to detect larger files) and checks it."""
    with path.open("rb") as handle:
        data = handle.read(4 * IAM_MAX_CHARACTERS + 1)
    return check_metadata(data, str(path), now, warn_days)
