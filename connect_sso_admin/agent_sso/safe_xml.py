"""Parses XML that came from outside (federation metadata) without entity expansion or external fetches.

The standard library parser expands internal entities, so a document with a DOCTYPE can blow up memory
("billion laughs"). Federation metadata never needs a DOCTYPE: any DOCTYPE or ENTITY declaration is refused
before the tree is built.
"""

import xml.etree.ElementTree as ET
from xml.parsers import expat


class XmlRejected(ValueError):
    """The document is not well-formed, too large, or declares a DOCTYPE or entities."""


def _refuse(*_args: object) -> None:
    raise XmlRejected("DOCTYPE and ENTITY declarations are not allowed in federation metadata (entity expansion)")


def _scan_for_declarations(data: bytes) -> None:
    scanner = expat.ParserCreate()
    scanner.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    scanner.StartDoctypeDeclHandler = _refuse
    scanner.EntityDeclHandler = _refuse
    scanner.UnparsedEntityDeclHandler = _refuse
    scanner.ExternalEntityRefHandler = _refuse  # type: ignore[assignment]  # raises: never returns a status
    try:
        scanner.Parse(data, True)
    except expat.ExpatError as error:
        raise XmlRejected(f"not well-formed XML: {expat.ErrorString(error.code)} (line {error.lineno})") from None


def parse_untrusted_xml(data: bytes, max_bytes: int) -> ET.Element:
    """Root element of ``data``; raises XmlRejected with a reason an administrator can act on."""
    if len(data) > max_bytes:
        raise XmlRejected(f"document is {len(data):,} bytes, more than the {max_bytes:,} allowed")
    _scan_for_declarations(data)
    try:
        return ET.fromstring(data)  # noqa: S314 -- declarations were refused above, nothing left to expand
    except ET.ParseError as error:
        raise XmlRejected(f"not well-formed XML: {error}") from None
