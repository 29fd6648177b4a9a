"""The one list rule for settings: items separated by commas and/or whitespace, empty items dropped."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s,]+")


def split_list(raw: str | None) -> list[str]:
    if not raw:
        return []
    return [item for item in _SEPARATORS.split(raw) if item]
