"""A finding is one thing a check has to say: an error blocks, a warning informs."""

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    level: Level
    message: str

    def __str__(self) -> str:
        return f"{self.level.value}: {self.message}"


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.level is Level.ERROR for finding in findings)
