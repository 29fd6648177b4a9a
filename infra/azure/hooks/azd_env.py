"""How the azd hooks read their environment: an empty value is an unset value.

azd passes its environment values to hooks as process environment variables, and GitHub Actions passes a `vars.X`
that nobody defined as an empty string (`CONNECT_WIDGET_COLOR: ${{ vars.CONNECT_WIDGET_COLOR }}` becomes
`CONNECT_WIDGET_COLOR=""`). So a hook never asks "is it set?" but "does it hold text?": one rule, here.
"""

from __future__ import annotations

from collections.abc import Mapping


def env_value(env: Mapping[str, str], name: str, default: str = "") -> str:
    """The value of ``name`` without surrounding blanks, or ``default`` when it is absent, empty or only blanks."""
    value = env.get(name, "").strip()
    return value or default
