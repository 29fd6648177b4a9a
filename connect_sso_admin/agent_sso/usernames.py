"""Amazon Connect user name rules for SAML sign-in.

The RoleSessionName claim must be exactly the Connect user name. Two sets of rules apply one after the other:
STS (AssumeRoleWithSAML) accepts ``[\\w+=,.@-]{2,64}``; Amazon Connect user names allow only letters, digits
and ``_ - . @``. So ``+ = ,`` pass STS and then fail in Connect, and guest UPNs (``#EXT#``) fail both.
"""

import re
from collections import defaultdict
from dataclasses import dataclass

STS_MIN_LENGTH = 2
STS_MAX_LENGTH = 64
_CONNECT_CHARACTER = re.compile(r"[A-Za-z0-9_.@-]")
_STS_ONLY_CHARACTERS = "+=,"


@dataclass(frozen=True)
class UserNameCheck:
    name: str
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def user_name_problems(name: str) -> list[str]:
    """Why ``name`` cannot sign in to Amazon Connect through SAML; empty when it can."""
    if name == "":
        return ["is empty"]
    problems: list[str] = []
    if "#EXT#" in name.upper():
        problems.append(
            "is a guest (B2B) UPN with '#EXT#': it can never be a Connect user name; send the guest's mail as "
            "RoleSessionName (claim source mail) or give the person a member account"
        )
    if name != name.strip():
        problems.append("has leading or trailing white space")
    if len(name) < STS_MIN_LENGTH:
        problems.append(f"is {len(name)} character long: STS needs a RoleSessionName of 2 to 64 characters")
    if len(name) > STS_MAX_LENGTH:
        problems.append(
            f"is {len(name)} characters long: STS allows at most {STS_MAX_LENGTH} in RoleSessionName, "
            "so AssumeRoleWithSAML fails before Amazon Connect is reached"
        )
    sts_only = sorted({c for c in name if c in _STS_ONLY_CHARACTERS})
    if sts_only:
        listed = ", ".join(repr(c) for c in sts_only)
        problems.append(
            f"contains {listed}: STS accepts it in RoleSessionName but Amazon Connect user names do not, "
            "so the sign-in fails in Connect"
        )
    others = sorted({c for c in name if not _CONNECT_CHARACTER.fullmatch(c) and c not in _STS_ONLY_CHARACTERS})
    if others:
        listed = ", ".join(repr(c) for c in others)
        problems.append(f"contains {listed}: Amazon Connect user names allow only letters A-Z, digits and _ - . @")
    return problems


def check_user_names(names: list[str]) -> list[UserNameCheck]:
    """One result per name, in order; names that differ only by case get a note (matching is case-sensitive)."""
    by_folded: dict[str, list[str]] = defaultdict(list)
    for name in names:
        by_folded[name.casefold()].append(name)
    results = []
    for name in names:
        twins = sorted({other for other in by_folded[name.casefold()] if other != name})
        notes = (
            (f"differs only by case from {', '.join(twins)}: the Connect user name must match exactly",)
            if twins
            else ()
        )
        results.append(UserNameCheck(name, tuple(user_name_problems(name)), notes))
    return results
