"""The parse primitives every setting's owner uses: read a value (or its catalogue default) and collect problems
instead of stopping at the first one, so an admin fixes everything in one go. Messages name the setting, never a
secret's value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from shared.guids import GUID_EXAMPLE, is_guid
from shared.lists import split_list

T = TypeVar("T")


@dataclass(frozen=True)
class SettingProblem:
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.name}: {self.message}"


class ConfigurationError(Exception):
    """One or more settings are missing or invalid. Messages name the setting, never a secret's value."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in problems))


TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def boolean_word(text: str) -> bool | None:
    """What a boolean setting's text says (any case), or None when it is no boolean word."""
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None


class SettingReader:
    """Canonical name -> value (see shared/catalogue.py effective_values), the catalogue's defaults, and the
    problems found so far. Every read goes through `get`, which remembers the setting being read, so that a failure
    no check foresaw still names its setting (`guarded`)."""

    def __init__(
        self,
        values: Mapping[str, str],
        default_of: Callable[[str], str | None],
        problems: list[SettingProblem] | None = None,
    ) -> None:
        self.values = values
        self._default_of = default_of
        self.problems: list[SettingProblem] = [] if problems is None else problems
        self.reading = "settings"  # the setting being read, for an error no check foresaw (guarded)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(SettingProblem(name, message))

    def guarded(self, read: Callable[[SettingReader], T]) -> T | None:
        """`read(self)`; any exception it raises becomes a configuration problem named after the setting being read
        (never a 5xx, never "store unreachable"), and the result is None."""
        try:
            return read(self)
        except Exception as error:
            self.problem(self.reading, f"cannot be read ({type(error).__name__}); check its value")
            return None

    def get(self, name: str) -> str | None:
        """The setting's value as set (None when unset)."""
        self.reading = name
        return self.values.get(name)

    def value(self, name: str) -> str | None:
        """The setting's value, or its catalogue default."""
        value = self.get(name)
        return self._default_of(name) if value is None else value

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            self.problem(name, "is required but not set")
            return ""
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        raw = self.value(name) or "0"
        try:
            number = int(raw)
        except ValueError:
            self.problem(name, f"must be a whole number from {low} to {high}")
            return low
        if not low <= number <= high:
            self.problem(name, f"must be from {low} to {high}, got {number}")
        return number

    def boolean(self, name: str) -> bool:
        raw = self.value(name) or "false"
        word = boolean_word(raw)
        if word is None:
            self.problem(name, f"must be true or false, got {raw.lower()!r}")
        return bool(word)

    def guid(self, name: str, value: str) -> None:
        if value and not is_guid(value):
            self.problem(name, f"must be a GUID like {GUID_EXAMPLE}, got {value!r}")

    def guids(self, name: str) -> list[str]:
        values = [item.lower() for item in split_list(self.get(name))]
        for value in values:
            self.guid(name, value)
        return values
