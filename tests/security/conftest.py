"""Fuzzing profiles and the figure the issue asks for: how many examples each property was tried with.

CONNECT_SSO_FUZZ=deep runs ten times the examples (minutes, not seconds) for a reviewer who wants more.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings

EXAMPLES_RUN: Counter[str] = Counter()

_COMMON: dict[str, Any] = {
    "deadline": None,  # a first request fetches keys over loopback: time per example is not the property
    "database": None,  # nothing written into the work tree; failures print their reproducing example
    "suppress_health_check": [HealthCheck.too_slow],
}
settings.register_profile("connect-sso", max_examples=400, **_COMMON)
settings.register_profile("connect-sso-deep", max_examples=4000, **_COMMON)


def fuzz_settings() -> Any:
    return settings.get_profile("connect-sso-deep" if os.environ.get("CONNECT_SSO_FUZZ") == "deep" else "connect-sso")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not EXAMPLES_RUN:
        return
    terminalreporter.write_sep("-", "fuzzing (hypothesis)")
    for name, count in sorted(EXAMPLES_RUN.items()):
        terminalreporter.write_line(f"{count:7d} examples  {name}")
    terminalreporter.write_line(
        f"{sum(EXAMPLES_RUN.values()):7d} examples in all (each one a full call of the function)"
    )
