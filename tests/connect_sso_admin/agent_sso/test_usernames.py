"""Amazon Connect user name rules (RoleSessionName = Connect user name)."""

import pytest

from connect_sso_admin.agent_sso.usernames import check_user_names, user_name_problems


@pytest.mark.parametrize(
    "name",
    ["jane.doe@contoso.com", "a_b-c", "AB", "x" * 64, "Agent.007@sub.contoso.co.uk"],
)
def test_valid_names(name):
    assert user_name_problems(name) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sam+ops@contoso.com", "STS accepts it"),
        ("a=b@contoso.com", "STS accepts it"),
        ("doe,jane", "STS accepts it"),
        ("guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", "guest (B2B) UPN"),
        ("x" * 65, "at most 64"),
        ("x", "2 to 64"),
        ("", "is empty"),
        ("jane doe", "' '"),
        ("jürgen@contoso.com", "'ü'"),
        (" jane@contoso.com", "white space"),
    ],
)
def test_invalid_names_say_why(name, expected):
    problems = user_name_problems(name)
    assert problems, name
    assert any(expected in problem for problem in problems), problems


def test_case_only_duplicates_get_a_note_but_still_pass():
    first, second, third = check_user_names(["Jane@contoso.com", "jane@contoso.com", "raj@contoso.com"])
    assert first.ok and second.ok and third.ok
    assert first.notes and second.notes and not third.notes
