"""The one GUID rule: the canonical 36-character form (any case), as Entra and Amazon Connect write ids."""

from __future__ import annotations

import uuid

GUID_EXAMPLE = "00000000-0000-0000-0000-000000000000"


def is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower() and len(value) == 36
    except ValueError:
        return False
