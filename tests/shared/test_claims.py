"""Claim mapping: Connect attributes are strings only, missing claims are left out, defaults follow the contract."""

from __future__ import annotations

from shared.claims import AttributeRules, ClaimAttribute, attribute_value, map_claims


def test_default_attributes_and_display_name() -> None:
    mapped = map_claims(
        {"name": "Ada Lovelace", "preferred_username": "ada@contoso.example", "oid": "o-1", "tid": "t-1"}
    )
    assert mapped.attributes == {
        "name": "Ada Lovelace",
        "email": "ada@contoso.example",
        "userId": "o-1",
        "tenantId": "t-1",
    }
    assert mapped.display_name == "Ada Lovelace"


def test_email_takes_the_first_of_email_preferred_username_upn_unique_name() -> None:
    claims = {"email": "e@x", "preferred_username": "p@x", "upn": "u@x", "unique_name": "n@x"}
    order = ["email", "preferred_username", "upn", "unique_name"]
    for index, expected in enumerate(order):
        remaining = {name: claims[name] for name in order[index:]}
        assert map_claims(remaining).attributes["email"] == claims[expected]


def test_display_name_falls_back_to_the_email() -> None:
    assert map_claims({"upn": "ada@contoso.example"}).display_name == "ada@contoso.example"
    assert "name" not in map_claims({"upn": "ada@contoso.example"}).attributes


def test_custom_claims_become_strings_of_every_shape() -> None:
    claims = {
        "department": "Research",
        "level": 7,
        "ratio": 0.5,
        "isVip": True,
        "groups": ["g1", 2, False],
        "address": {"city": "London", "zip": "N1"},
        "empty": None,
    }
    custom = (*tuple(ClaimAttribute(name, name) for name in claims), ClaimAttribute("absent", "absent"))
    mapped = map_claims(claims, AttributeRules(custom))
    assert mapped.attributes["department"] == "Research"
    assert mapped.attributes["level"] == "7"
    assert mapped.attributes["ratio"] == "0.5"
    assert mapped.attributes["isVip"] == "true"
    assert mapped.attributes["groups"] == "g1,2,false"
    assert mapped.attributes["address"] == '{"city":"London","zip":"N1"}'
    assert "empty" not in mapped.attributes and "absent" not in mapped.attributes
    assert mapped.missing_claims == ("empty", "absent")
    assert all(isinstance(value, str) for value in mapped.attributes.values())


def test_custom_attribute_names_rename_claims() -> None:
    mapped = map_claims({"extn.department": "R&D"}, AttributeRules((ClaimAttribute("extn.department", "department"),)))
    assert mapped.attributes["department"] == "R&D"


def test_customer_id_from_the_configured_claim() -> None:
    assert map_claims({"employeeId": 1234}, AttributeRules(customer_id_claim="employeeId")).customer_id == "1234"
    missing = map_claims({}, AttributeRules(customer_id_claim="employeeId"))
    assert missing.customer_id is None and missing.missing_claims == ("employeeId",)
    too_long = map_claims({"employeeId": "x" * 129}, AttributeRules(customer_id_claim="employeeId"))
    assert too_long.customer_id is None


def test_attribute_value_of_nested_lists() -> None:
    assert attribute_value([["a", "b"], "c"]) == "a,b,c"
    assert attribute_value([]) == ""
