"""A check's result and the table the doctor prints. Reasons never hold a token, a JWT, a signature or a secret."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a status word, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class Result:
    check: str
    status: Status
    reason: str
    action: str = ""


def passed(check: str, reason: str) -> Result:
    return Result(check, Status.PASS, reason)


def warned(check: str, reason: str, action: str = "") -> Result:
    return Result(check, Status.WARN, reason, action)


def failed(check: str, reason: str, action: str = "") -> Result:
    return Result(check, Status.FAIL, reason, action)


def skipped(check: str, reason: str) -> Result:
    return Result(check, Status.SKIP, reason)


def print_table(results: list[Result], out: TextIO) -> None:
    width = max((len(result.check) for result in results), default=0)
    for result in results:
        out.write(f"{result.status.value}  {result.check:<{width}}  {result.reason}\n")
        if result.action and result.status in (Status.FAIL, Status.WARN):
            out.write(f"      {'':<{width}}  -> {result.action}\n")
    counts = {status: sum(r.status is status for r in results) for status in Status}
    out.write(", ".join(f"{count} {status.value}" for status, count in counts.items()) + "\n")
