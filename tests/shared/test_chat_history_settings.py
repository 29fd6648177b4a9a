"""Persistent chat's settings: CONNECT_PERSISTENT_CHAT and the widget member persistentChat, the store settings,
and the configuration errors that name them (never the connection string)."""

from __future__ import annotations

import json

import pytest

from shared.catalogue import SECRET_SETTING_NAMES
from shared.setting_reader import ConfigurationError
from shared.settings import parse_settings
from tools.testkit.service import base_settings

AUTHORITY = "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000aaaa/v2.0"
ENDPOINT = "https://contosochat.table.core.windows.net"
OTHER_WIDGET = "5c1f0e2d-0000-4000-8000-0000000000c2"
CONNECTION_STRING = (
    "DefaultEndpointsProtocol=https;AccountName=devstoreaccount1;AccountKey=ZmFrZS1rZXk=;"
    "TableEndpoint=https://127.0.0.1:10002/devstoreaccount1;"
)


def settings_with(**overrides: str | None):
    return parse_settings(base_settings(AUTHORITY, **overrides))


def problems_of(**overrides: str | None) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        settings_with(**overrides)
    return {problem.name: problem.message for problem in caught.value.problems}


def widgets(**members: object) -> str:
    return json.dumps({OTHER_WIDGET: {"secretSetting": "CONNECT_WIDGET_SECRET_OTHER", **members}})


def test_off_by_default_with_no_store() -> None:
    settings = settings_with()
    assert settings.widget.persistent_chat is False
    assert settings.chat_history is None


def test_the_defaults_of_the_store_settings() -> None:
    settings = settings_with(CONNECT_PERSISTENT_CHAT="true", CHAT_HISTORY_ENDPOINT=ENDPOINT)
    assert settings.widget.persistent_chat is True
    assert settings.chat_history is not None
    assert (settings.chat_history.endpoint, settings.chat_history.connection_string) == (ENDPOINT, None)
    assert (settings.chat_history.table, settings.chat_history.retention_days) == ("chathistory", 30)


@pytest.mark.parametrize(("global_value", "member", "expected"), [("true", False, False), ("false", True, True)])
def test_the_widget_member_overrides_the_global_setting_either_way(
    global_value: str, member: bool, expected: bool
) -> None:
    settings = settings_with(
        CONNECT_PERSISTENT_CHAT=global_value,
        CHAT_HISTORY_ENDPOINT=ENDPOINT,
        CONNECT_WIDGETS=widgets(persistentChat=member),
        CONNECT_WIDGET_SECRET_OTHER="fake-other-widget-secret-" + "y" * 20,
    )
    other = settings.widget_for(OTHER_WIDGET)
    assert other is not None
    assert (settings.widget.persistent_chat, other.persistent_chat) == (global_value == "true", expected)


def test_a_widget_without_the_member_takes_the_global_setting() -> None:
    settings = settings_with(
        CONNECT_PERSISTENT_CHAT="true",
        CHAT_HISTORY_ENDPOINT=ENDPOINT,
        CONNECT_WIDGETS=widgets(),
        CONNECT_WIDGET_SECRET_OTHER="fake-other-widget-secret-" + "y" * 20,
    )
    other = settings.widget_for(OTHER_WIDGET)
    assert other is not None and other.persistent_chat is True


@pytest.mark.parametrize(
    "overrides",
    [
        {"CONNECT_PERSISTENT_CHAT": "true"},
        {
            "CONNECT_WIDGETS": widgets(persistentChat=True),
            "CONNECT_WIDGET_SECRET_OTHER": "fake-other-widget-secret-" + "y" * 20,
        },
    ],
)
def test_persistent_chat_without_a_store_is_a_configuration_error_naming_the_setting(
    overrides: dict[str, str],
) -> None:
    problems = problems_of(**overrides)
    assert "is required when persistent chat is on" in problems["CHAT_HISTORY_ENDPOINT"]


@pytest.mark.parametrize(
    ("overrides", "setting", "message"),
    [
        ({"CONNECT_PERSISTENT_CHAT": "maybe"}, "CONNECT_PERSISTENT_CHAT", "must be true or false"),
        ({"CHAT_HISTORY_ENDPOINT": "http://contosochat.table.core.windows.net"}, "CHAT_HISTORY_ENDPOINT", "https"),
        ({"CHAT_HISTORY_ENDPOINT": ENDPOINT + "?sv=2024"}, "CHAT_HISTORY_ENDPOINT", "https URL"),
        ({"CHAT_HISTORY_TABLE": "chat-history"}, "CHAT_HISTORY_TABLE", "letters and digits"),
        ({"CHAT_HISTORY_TABLE": "ab"}, "CHAT_HISTORY_TABLE", "3 to 63"),
        ({"CHAT_HISTORY_RETENTION_DAYS": "0"}, "CHAT_HISTORY_RETENTION_DAYS", "from 1 to 365"),
        ({"CHAT_HISTORY_RETENTION_DAYS": "forever"}, "CHAT_HISTORY_RETENTION_DAYS", "whole number"),
        (
            {"CHAT_HISTORY_ENDPOINT": ENDPOINT, "CHAT_HISTORY_CONNECTION_STRING": CONNECTION_STRING},
            "CHAT_HISTORY_CONNECTION_STRING",
            "not both",
        ),
        (
            {"CONNECT_WIDGETS": widgets(persistentChat="yes"), "CONNECT_WIDGET_SECRET_OTHER": "z" * 30},
            "CONNECT_WIDGETS",
            "persistentChat must be true or false",
        ),
    ],
)
def test_invalid_values_name_the_setting(overrides: dict[str, str], setting: str, message: str) -> None:
    assert message in problems_of(**overrides)[setting]


def test_the_connection_string_is_a_secret_never_echoed() -> None:
    assert "CHAT_HISTORY_CONNECTION_STRING" in SECRET_SETTING_NAMES
    leaked = "AccountName=devstoreaccount1;SomethingElse=fake-not-a-key-value"
    problems = problems_of(CONNECT_PERSISTENT_CHAT="true", CHAT_HISTORY_CONNECTION_STRING=leaked)
    assert "connection string" in problems["CHAT_HISTORY_CONNECTION_STRING"]
    assert "fake-not-a-key-value" not in " ".join(problems.values())
    settings = settings_with(CONNECT_PERSISTENT_CHAT="true", CHAT_HISTORY_CONNECTION_STRING=CONNECTION_STRING)
    assert settings.chat_history is not None and "ZmFrZS1rZXk" not in repr(settings.chat_history)


def test_no_claim_may_be_mapped_to_previous_contact_id() -> None:
    problems = problems_of(SSO_CUSTOM_ATTRIBUTES="extension_lastChat:previousContactId")
    assert "reserved for persistent chat" in problems["SSO_CUSTOM_ATTRIBUTES"]


def test_no_claim_may_be_mapped_to_auth_context() -> None:
    """Only the step-up check sets authContext: a claim mapped to it would let a flow branch on an unchecked value
    for a widget that requires no authentication context."""
    problems = problems_of(SSO_CUSTOM_ATTRIBUTES="extension_level:authContext")
    assert "reserved for step-up" in problems["SSO_CUSTOM_ATTRIBUTES"]
