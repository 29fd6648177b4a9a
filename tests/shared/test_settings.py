"""Settings: every rule of the configuration contract, and errors that name the setting, never a secret."""

from __future__ import annotations

import logging

import pytest

from shared.catalogue import REQUIRED_SETTING_NAMES, SECRET_SETTING_NAMES, SETTING_NAMES
from shared.claims import ClaimAttribute
from shared.configuration import ConfigurationProvider
from shared.errors import ServiceUnavailable
from shared.setting_reader import ConfigurationError
from shared.settings import parse_settings
from shared.widget import Secret
from tools.testkit.service import base_settings
from tools.testkit.tokens import API_CLIENT_ID, TENANT_ID, WIDGET_SECRET

AUTHORITY = "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000aaaa/v2.0"


def problems_of(**overrides: str | None) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(base_settings(AUTHORITY, **overrides))
    return {problem.name: problem.message for problem in caught.value.problems}


def test_defaults_follow_the_contract() -> None:
    settings = parse_settings(base_settings(AUTHORITY, ENTRA_AUTHORITY=None))
    assert settings.entra.authority == f"https://login.microsoftonline.com/{TENANT_ID}/v2.0"
    assert settings.entra.required_scopes == ("JWT.Read",)
    assert settings.entra.clock_skew_seconds == 60
    assert settings.widget.ttl_seconds == 600
    assert settings.entra.audiences == {API_CLIENT_ID, f"api://{API_CLIENT_ID}"}
    assert settings.entra.allowed_tenant_ids == {TENANT_ID}
    assert settings.entra.allowed_client_app_ids is None
    assert settings.verbose_log is False


def test_every_required_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings({})
    assert {problem.name for problem in caught.value.problems} == set(REQUIRED_SETTING_NAMES)
    assert set(REQUIRED_SETTING_NAMES) == {
        "ENTRA_TENANT_ID",
        "ENTRA_API_CLIENT_ID",
        "CONNECT_WIDGET_ID",
        "CONNECT_WIDGET_SECRET",
    }


def test_the_catalogue_names_every_setting_of_the_contract() -> None:
    assert set(SETTING_NAMES) == {
        *REQUIRED_SETTING_NAMES,
        "ENTRA_ALLOWED_TENANT_IDS",
        "ENTRA_API_AUDIENCES",
        "ENTRA_AUTHORITY",
        "REQUIRED_SCOPES",
        "ALLOWED_CLIENT_APP_IDS",
        "CLOCK_SKEW_SECONDS",
        "CONNECT_WIDGETS",
        "CONNECT_TOKEN_TTL_SECONDS",
        "CONNECT_SEGMENT_ATTRIBUTES",
        "CONNECT_CUSTOMER_ID_CLAIM",
        "CONNECT_REQUIRED_AUTH_CONTEXT",
        "SSO_CUSTOM_ATTRIBUTES",
        "VERBOSE_LOG",
        "APP_CONFIG_ENDPOINT",
        "APP_CONFIG_LABEL",
        "APP_CONFIG_SENTINEL_KEY",
        "APP_CONFIG_REFRESH_SECONDS",
        "APP_CONFIG_SECRET_REFRESH_SECONDS",
        "CONNECT_PERSISTENT_CHAT",
        "CHAT_HISTORY_ENDPOINT",
        "CHAT_HISTORY_CONNECTION_STRING",
        "CHAT_HISTORY_TABLE",
        "CHAT_HISTORY_RETENTION_DAYS",
    }


def test_multi_tenant_requires_an_allow_list() -> None:
    assert "ENTRA_ALLOWED_TENANT_IDS" in problems_of(ENTRA_TENANT_ID="organizations")
    other = "72f988bf-0000-4000-8000-00000000bbbb"
    settings = parse_settings(
        base_settings(AUTHORITY, ENTRA_TENANT_ID="organizations", ENTRA_ALLOWED_TENANT_IDS=f"{TENANT_ID}, {other}")
    )
    assert settings.entra.multi_tenant
    assert settings.entra.allowed_tenant_ids == {TENANT_ID, other}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ENTRA_TENANT_ID", "contoso.onmicrosoft.com"),
        ("ENTRA_API_CLIENT_ID", "not-a-guid"),
        ("CLOCK_SKEW_SECONDS", "301"),
        ("CLOCK_SKEW_SECONDS", "-1"),
        ("CLOCK_SKEW_SECONDS", "sixty"),
        ("CONNECT_TOKEN_TTL_SECONDS", "601"),
        ("CONNECT_TOKEN_TTL_SECONDS", "0"),
        ("VERBOSE_LOG", "maybe"),
        ("CONNECT_SEGMENT_ATTRIBUTES", "{not json"),
        ("CONNECT_SEGMENT_ATTRIBUTES", '["a list"]'),
        ("CONNECT_SEGMENT_ATTRIBUTES", '{"connect:Subtype": "not an object"}'),
        ("ENTRA_AUTHORITY", "http://login.example.com/tenant/v2.0"),
        ("ENTRA_AUTHORITY", "ftp://localhost/x"),
        ("ENTRA_AUTHORITY", "https://login.microsoftonline.com/x/v2.0?x=1"),
        ("REQUIRED_SCOPES", " , "),
    ],
)
def test_invalid_values_name_the_setting(name: str, value: str) -> None:
    problems = problems_of(**{name: value})
    assert list(problems) == [name] or name in problems


def test_plain_http_is_accepted_for_loopback_authorities_only() -> None:
    for authority in ("http://127.0.0.1:8080/t/v2.0", "http://localhost:9/t", "http://[::1]:9/t"):
        assert parse_settings(base_settings(authority)).entra.authority == authority
    assert "ENTRA_AUTHORITY" in problems_of(ENTRA_AUTHORITY="http://10.0.0.5/t/v2.0")


def test_a_secret_never_appears_in_errors_or_reprs() -> None:
    secret = "fake-but-secret-value-0123456789abcdef"
    settings = parse_settings(base_settings(AUTHORITY, CONNECT_WIDGET_SECRET=secret))
    assert secret not in repr(settings)
    assert settings.widget.secret.reveal() == secret
    assert repr(Secret(secret)) == "Secret('***')"
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(base_settings(AUTHORITY, CONNECT_WIDGET_SECRET="short-secret", CLOCK_SKEW_SECONDS="x"))
    assert "short-secret" not in str(caught.value)
    assert "CONNECT_WIDGET_SECRET" in str(caught.value)


def test_custom_attributes_accept_claim_and_claim_colon_name() -> None:
    settings = parse_settings(
        base_settings(AUTHORITY, SSO_CUSTOM_ATTRIBUTES="department, extn.costCenter:costCenter ,jobTitle:title")
    )
    assert settings.widget.attribute_rules.custom == (
        ClaimAttribute("department", "department"),
        ClaimAttribute("extn.costCenter", "costCenter"),
        ClaimAttribute("jobTitle", "title"),
    )


def test_an_invalid_attribute_name_suggests_the_mapping_form() -> None:
    message = problems_of(SSO_CUSTOM_ATTRIBUTES="extn.department")["SSO_CUSTOM_ATTRIBUTES"]
    assert "extn.department:department" in message
    assert "letters, digits" in message
    assert "SSO_CUSTOM_ATTRIBUTES" in problems_of(SSO_CUSTOM_ATTRIBUTES="jobTitle:job title")


def test_legacy_lowercase_names_of_the_dotnet_service_work() -> None:
    values = base_settings(AUTHORITY)
    values.update({"sso_custom_attributes": "department", "verboselog": "true"})
    settings = parse_settings(values)
    assert settings.widget.attribute_rules.custom == (ClaimAttribute("department", "department"),)
    assert settings.verbose_log is True
    values["VERBOSE_LOG"] = "false"  # the canonical name wins over the alias
    assert parse_settings(values).verbose_log is False


def test_scopes_split_on_spaces_and_commas_and_audiences_add_up() -> None:
    settings = parse_settings(
        base_settings(
            AUTHORITY, REQUIRED_SCOPES="JWT.Read, Chat.Start  Other", ENTRA_API_AUDIENCES="api://contoso/chat"
        )
    )
    assert settings.entra.required_scopes == ("JWT.Read", "Chat.Start", "Other")
    assert "api://contoso/chat" in settings.entra.audiences
    assert settings.widget.secret.reveal() == WIDGET_SECRET


# Every setting, with values that must be reported as a configuration error naming it (never raise, never be
# taken as "the store is unreachable"). A setting that takes any text says why instead.
MALFORMED_VALUES: dict[str, list[str] | str] = {
    "ENTRA_TENANT_ID": ["not-a-guid", "72f988bf-0000-4000-8000-00000000aaa", "{72f988bf-0000-4000-8000-00000000aaaa}"],
    "ENTRA_ALLOWED_TENANT_IDS": ["not-a-guid", f"{TENANT_ID},nope"],
    "ENTRA_API_CLIENT_ID": ["not-a-guid", "api://x"],
    "ENTRA_API_AUDIENCES": "any App ID URI is an audience string",
    "ENTRA_AUTHORITY": [
        "http://[::1",
        "https://[::1",
        "https://login.microsoftonline.com:port/x/v2.0",
        "https://login.microsoftonline.com:99999/x/v2.0",
        "ftp://login.microsoftonline.com/x/v2.0",
        "login.microsoftonline.com/x/v2.0",
        "https:///x/v2.0",
        "http://login.microsoftonline.com/x/v2.0",
        "https://login.microsoftonline.com/x/v2.0?p=1",
        "https://login.microsoftonline.com/x/v2.0#f",
    ],
    "REQUIRED_SCOPES": [", ,", ","],
    "ALLOWED_CLIENT_APP_IDS": ["not-a-guid", "6e1a1b2c-0000-4000-8000-0000000000a2 nope"],
    "CLOCK_SKEW_SECONDS": ["abc", "-1", "301", "1e3", "1.5", "9" * 5000],
    "CONNECT_WIDGET_ID": ["not-a-uuid", "Fake-Widget-Key-Pasted-Into-The-Wrong-Setting"],
    "CONNECT_WIDGET_SECRET": ["Sh0rt-K3y"],
    "CONNECT_WIDGETS": "table-driven in tests/shared/test_widgets.py (every entry rule)",
    "CONNECT_TOKEN_TTL_SECONDS": ["0", "601", "ten", "9" * 5000],
    "CONNECT_REQUIRED_AUTH_CONTEXT": ["c0", "c26", "C1", "acrs", "c1,c2", "c" + "1" * 5000],
    "CONNECT_SEGMENT_ATTRIBUTES": [
        "{",
        "[]",
        '"text"',
        '{"connect:Subtype": 1}',
        '{"connect:Subtype": {"ValueString": 1}}',
        '{"": {"ValueString": "x"}}',
        "[" * 100_000,
        '{"a":' * 100_000,
        '{"connect:Subtype": {"ValueString": "\\ud800"}}',
    ],
    "CONNECT_CUSTOMER_ID_CLAIM": "any claim name",
    "SSO_CUSTOM_ATTRIBUTES": [":costCenter", "department:cost center", "extn.costCenter"],
    "VERBOSE_LOG": ["maybe", "2"],
    "APP_CONFIG_ENDPOINT": [
        "http://[::1",
        "https://[::1",
        "contoso.azconfig.io",
        "http://contoso.azconfig.io",
        "https://contoso.azconfig.io/kv",
        "https://contoso.azconfig.io?x=1",
        "https://contoso.azconfig.io:abc",
    ],
    "APP_CONFIG_LABEL": ["*", "prod,test"],
    "APP_CONFIG_SENTINEL_KEY": ["connect-sso:*", "a,b", "a\\b"],
    "APP_CONFIG_REFRESH_SECONDS": ["0", "3601", "thirty"],
    "APP_CONFIG_SECRET_REFRESH_SECONDS": ["0", "86401", "ten minutes"],
    "CONNECT_PERSISTENT_CHAT": ["maybe", "2"],
    "CHAT_HISTORY_ENDPOINT": ["http://[::1", "http://contoso.table.core.windows.net", "https://x.example?sig=1"],
    "CHAT_HISTORY_CONNECTION_STRING": ["AccountName=devstoreaccount1", "not a connection string"],
    "CHAT_HISTORY_TABLE": ["ab", "chat-history", "1table"],
    "CHAT_HISTORY_RETENTION_DAYS": ["0", "366", "a month"],
}


def test_the_malformed_values_table_covers_every_setting() -> None:
    assert set(MALFORMED_VALUES) == set(SETTING_NAMES)


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in MALFORMED_VALUES.items() if isinstance(values, list) for value in values],
    ids=lambda item: item[:40] if isinstance(item, str) else None,
)
def test_a_malformed_value_is_a_configuration_error_naming_its_setting(name: str, value: str) -> None:
    problems = problems_of(**{name: value})
    assert list(problems) == [name]
    if name in SECRET_SETTING_NAMES or name == "CONNECT_WIDGET_ID":  # a key pasted into the id is not echoed
        assert value not in problems[name]


@pytest.mark.parametrize("authority", ["http://[::1", "https://login.microsoftonline.com:port/x/v2.0"])
def test_a_malformed_authority_answers_configuration_invalid_and_is_logged_by_name(
    authority: str, caplog: pytest.LogCaptureFixture
) -> None:
    configuration = ConfigurationProvider(base_settings(authority))
    assert configuration.check_at_start() is None
    with pytest.raises(ServiceUnavailable) as caught:
        configuration.current()
    assert (caught.value.status, caught.value.code) == (503, "configuration_invalid")
    assert caught.value.retry_after_seconds > 0
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert [message for message in errors if "at start" in message and "ENTRA_AUTHORITY: is not a valid URL" in message]
    assert [message for message in errors if "on a request" in message and "ENTRA_AUTHORITY" in message]


@pytest.mark.parametrize(
    "setting",
    [
        {"APP_CONFIG_ENDPOINT": "http://[::1"},
        {"APP_CONFIG_ENDPOINT": "https://contoso.azconfig.io", "APP_CONFIG_LABEL": "prod,*"},
        {"APP_CONFIG_ENDPOINT": "https://contoso.azconfig.io", "APP_CONFIG_REFRESH_SECONDS": "0"},
    ],
    ids=["endpoint", "label", "interval"],
)
def test_a_malformed_store_setting_is_invalid_not_unreachable(setting: dict[str, str]) -> None:
    def no_store(options):
        raise AssertionError("a malformed endpoint must never reach the SDK")

    configuration = ConfigurationProvider(base_settings(AUTHORITY, **setting), store_loader_factory=no_store)
    with pytest.raises(ServiceUnavailable) as caught:
        configuration.current()
    assert caught.value.code == "configuration_invalid"
