"""What the whole-session check plugins share (log hygiene, telemetry hygiene, loopback guard): a finding made
outside any test fails the session, and the terminal summary says what was checked and what strayed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest


def fail_test_on(findings: Sequence[object], what: str) -> None:
    """Fails the running test (from a fixture's teardown) with one line per finding."""
    if findings:
        pytest.fail(f"{what}:\n  " + "\n  ".join(map(str, findings)), pytrace=False)


def fail_session_on(session: pytest.Session, stray: Sequence[object]) -> None:
    if stray and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def write_summary(
    terminalreporter: Any, title: str, checked: str, stray: Sequence[object], *, clean: str, dirty: str
) -> None:
    """`checked` then `clean`, or the number of stray findings and `dirty`, then one red line per finding."""
    terminalreporter.write_sep("-", title)
    terminalreporter.write_line(checked + (f"{len(stray)} {dirty}" if stray else clean))
    for finding in stray:
        terminalreporter.write_line(f"  {finding}", red=True)
