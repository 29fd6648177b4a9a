"""One Amazon Connect widget: what the service signs a contact token for, and with what."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.claims import AttributeRules


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Widget:
    widget_id: str  # the contact JWT's `sub`: the snippet's widget id
    secret: Secret  # the widget's security key (HS256)
    ttl_seconds: int
    segment_attributes: Mapping[str, object] | None = None
    attribute_rules: AttributeRules = field(default_factory=AttributeRules)
    required_auth_context: str | None = None  # step-up: c1..c25 the access token must satisfy (shared/auth_context.py)
