"""Several widgets from one function (issue 11 section 2): CONNECT_WIDGETS, the request's `widgetId`, and every
rule of the single-widget settings applied per widget. Contact JWTs are verified independently with PyJWT."""

from __future__ import annotations

import json
import secrets
from typing import Any

import jwt as pyjwt
import pytest

from shared.catalogue import is_secret_setting, is_setting_name, select_settings
from shared.configuration import ConfigurationProvider
from shared.errors import InsufficientScope, InvalidToken, MissingToken, ServiceUnavailable, UnknownWidget
from shared.guids import is_guid
from shared.setting_reader import ConfigurationError
from shared.settings import parse_settings
from tests.support.azure_stand_ins import AzureStandIns
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.leak_registry import REGISTRY
from tools.testkit.service import FakeClock, base_settings, decode_contact_token, make_service
from tools.testkit.tokens import WIDGET_ID, WIDGET_SECRET, access_token, entra_v2_claims

AUTHORITY = "https://login.microsoftonline.com/72f988bf-0000-4000-8000-00000000aaaa/v2.0"
SALES_ID = "0f8e7d6c-0000-4000-8000-00000000e001"
SUPPORT_ID = "0f8e7d6c-0000-4000-8000-00000000e002"
NOT_CONFIGURED_ID = "0f8e7d6c-0000-4000-8000-00000000e0ff"
# Generated per run, as Amazon Connect's keys are 44 characters.
SALES_SECRET = secrets.token_urlsafe(33)
SUPPORT_SECRET = secrets.token_urlsafe(33)
REGISTRY.register_secret(SALES_SECRET)
REGISTRY.register_secret(SUPPORT_SECRET)


def two_widgets(**members: Any) -> dict[str, str]:
    """Settings with the default widget, `sales` (with `members`) and `support`."""
    widgets = {
        SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", **members},
        SUPPORT_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SUPPORT"},
    }
    return {
        "CONNECT_WIDGETS": json.dumps(widgets),
        "CONNECT_WIDGET_SECRET_SALES": SALES_SECRET,
        "CONNECT_WIDGET_SECRET_SUPPORT": SUPPORT_SECRET,
    }


def problems_of(settings: dict[str, str]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigurationError) as caught:
        parse_settings(base_settings(AUTHORITY, **settings))
    return [(problem.name, problem.message) for problem in caught.value.problems]


# --- each widget signs with its own key --------------------------------------------------------------------


def test_two_widgets_sign_with_their_own_keys_and_ids(fake_entra: FakeEntra) -> None:
    service = make_service(base_settings(fake_entra.authority, **two_widgets()))
    authorization = f"Bearer {access_token(fake_entra.key)}"
    sales = service.issue(authorization, SALES_ID).jwt
    support = service.issue(authorization, SUPPORT_ID).jwt
    assert decode_contact_token(sales, SALES_SECRET, subject=SALES_ID)["sub"] == SALES_ID
    assert decode_contact_token(support, SUPPORT_SECRET, subject=SUPPORT_ID)["sub"] == SUPPORT_ID
    # Neither key verifies the other widget's token, nor does the default widget's.
    for token, wrong_key in ((sales, SUPPORT_SECRET), (sales, WIDGET_SECRET), (support, SALES_SECRET)):
        with pytest.raises(pyjwt.InvalidSignatureError):
            pyjwt.decode(token, wrong_key, algorithms=["HS256"], options={"verify_sub": False})


@pytest.mark.parametrize("widget_id", [None, WIDGET_ID, WIDGET_ID.upper()])
def test_the_default_widget_is_unchanged_beside_other_widgets(fake_entra: FakeEntra, widget_id: str | None) -> None:
    service = make_service(base_settings(fake_entra.authority, **two_widgets(ttlSeconds=60)))
    issued = service.issue(f"Bearer {access_token(fake_entra.key)}", widget_id)
    claims = decode_contact_token(issued.jwt)  # the default key and CONNECT_WIDGET_ID as `sub`
    assert claims["exp"] - claims["iat"] == issued.expires_in == 600
    assert claims["attributes"]["name"] == "Ada Lovelace"


def test_a_widget_id_is_matched_whatever_its_case(fake_entra: FakeEntra) -> None:
    service = make_service(base_settings(fake_entra.authority, **two_widgets()))
    issued = service.issue(f"Bearer {access_token(fake_entra.key)}", SALES_ID.upper())
    assert decode_contact_token(issued.jwt, SALES_SECRET, subject=SALES_ID)


def test_each_widget_has_its_ttl_segment_attributes_custom_attributes_and_customer_id(fake_entra: FakeEntra) -> None:
    settings = base_settings(
        fake_entra.authority,
        CONNECT_TOKEN_TTL_SECONDS="300",
        CONNECT_SEGMENT_ATTRIBUTES=json.dumps({"connect:Subtype": {"ValueString": "connect:Chat"}}),
        SSO_CUSTOM_ATTRIBUTES="department",
        CONNECT_CUSTOMER_ID_CLAIM="oid",
        **two_widgets(
            ttlSeconds=120,
            segmentAttributes={"connect:Subtype": {"ValueString": "connect:Guide"}},
            customAttributes="ctry:country, extn.tier:tier",
            customerIdClaim="employeeid",
        ),
    )
    service = make_service(settings)
    claims = {"department": "Sales", "ctry": "NZ", "extn.tier": "gold", "employeeid": "E-42"}
    authorization = f"Bearer {access_token(fake_entra.key, entra_v2_claims(**claims))}"

    sales = decode_contact_token(service.issue(authorization, SALES_ID).jwt, SALES_SECRET, subject=SALES_ID)
    assert sales["exp"] - sales["iat"] == 120
    assert sales["segmentAttributes"] == {"connect:Subtype": {"ValueString": "connect:Guide"}}
    assert {"country": "NZ", "tier": "gold"}.items() <= sales["attributes"].items()
    assert "department" not in sales["attributes"]  # customAttributes replaces the global list
    assert sales["customerId"] == "E-42"

    # A widget that leaves members out takes the global settings.
    support = decode_contact_token(service.issue(authorization, SUPPORT_ID).jwt, SUPPORT_SECRET, subject=SUPPORT_ID)
    assert support["exp"] - support["iat"] == 300
    assert support["segmentAttributes"] == {"connect:Subtype": {"ValueString": "connect:Chat"}}
    assert support["attributes"]["department"] == "Sales"
    assert "country" not in support["attributes"]
    assert support["customerId"] == entra_v2_claims()["oid"]


def test_a_widget_can_clear_the_global_lists() -> None:
    settings = parse_settings(
        base_settings(
            AUTHORITY,
            SSO_CUSTOM_ATTRIBUTES="department",
            CONNECT_CUSTOMER_ID_CLAIM="oid",
            CONNECT_SEGMENT_ATTRIBUTES=json.dumps({"connect:Subtype": {"ValueString": "connect:Chat"}}),
            **two_widgets(customAttributes="", customerIdClaim="", segmentAttributes={}),
        )
    )
    sales = settings.widget_for(SALES_ID)
    assert sales is not None
    assert sales.attribute_rules.custom == ()
    assert sales.attribute_rules.customer_id_claim is None
    assert not sales.segment_attributes


# --- the widget is chosen only after the credentials are checked ---------------------------------------------


@pytest.mark.parametrize("widget_id", [NOT_CONFIGURED_ID, "sales", "x" * 5000, WIDGET_ID + " ", SALES_ID + "0"])
def test_a_valid_token_for_an_unknown_widget_is_400_unknown_widget(fake_entra: FakeEntra, widget_id: str) -> None:
    service = make_service(base_settings(fake_entra.authority, **two_widgets()))
    with pytest.raises(UnknownWidget) as caught:
        service.issue(f"Bearer {access_token(fake_entra.key)}", widget_id)
    assert (caught.value.status, caught.value.code) == (400, "unknown_widget")
    assert caught.value.headers() == {}
    if len(widget_id) > 40:
        assert widget_id not in caught.value.log_detail  # only a UUID is logged as is


def test_credentials_are_checked_before_the_widget(fake_entra: FakeEntra, signing_keys: list[Any]) -> None:
    service = make_service(base_settings(fake_entra.authority, **two_widgets()))
    with pytest.raises(MissingToken):
        service.issue(None, NOT_CONFIGURED_ID)
    with pytest.raises(InvalidToken) as caught:
        service.issue(f"Bearer {access_token(signing_keys[1])}", NOT_CONFIGURED_ID)  # a key Entra does not publish
    assert caught.value.status == 401
    with pytest.raises(InsufficientScope):
        service.issue(f"Bearer {access_token(fake_entra.key, entra_v2_claims(scp='Other.Read'))}", "not-a-uuid")


def test_without_connect_widgets_only_the_default_widget_exists(fake_entra: FakeEntra) -> None:
    service = make_service(base_settings(fake_entra.authority))
    authorization = f"Bearer {access_token(fake_entra.key)}"
    assert decode_contact_token(service.issue(authorization, WIDGET_ID).jwt)
    with pytest.raises(UnknownWidget):
        service.issue(authorization, SALES_ID)


# --- every rule, per widget: a configuration error naming the widget and the setting, never a value ----------

BAD_ENTRIES: list[tuple[str, object, str]] = [
    # (widget id, entry, what the message must say)
    ("sales", {"secretSetting": "CONNECT_WIDGET_SECRET_SALES"}, "must be a widget id (a UUID"),
    (WIDGET_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES"}, "is the default widget (CONNECT_WIDGET_ID)"),
    (SALES_ID, "CONNECT_WIDGET_SECRET_SALES", "must be an object"),
    (SALES_ID, {}, "secretSetting is required"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET"}, "must be a setting name starting with"),
    (SALES_ID, {"secretSetting": "SALES_SECRET"}, "must be a setting name starting with"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES-EU"}, "must be a setting name starting with"),
    (SALES_ID, {"secretSetting": 7}, "must be a setting name starting with"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttl": 60}, "unknown member 'ttl'"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": 0}, "ttlSeconds must be"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": 601}, "ttlSeconds must be"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": "60"}, "ttlSeconds must be"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": 1.5}, "ttlSeconds must be"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": True}, "ttlSeconds must be"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "segmentAttributes": []}, "must be a JSON object"),
    (
        SALES_ID,
        {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "segmentAttributes": {"connect:Subtype": 1}},
        'must be an object like {"ValueString"',
    ),
    (
        SALES_ID,
        {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "segmentAttributes": {"": {"ValueString": "x"}}},
        "must be 1 to 128 characters",
    ),
    (
        SALES_ID,
        {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "segmentAttributes": {"k": {"ValueString": "v" * 1025}}},
        "over 1024 characters",
    ),
    (
        SALES_ID,
        {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "customAttributes": "department:cost center"},
        "not a valid Amazon Connect attribute name",
    ),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "customAttributes": ":x"}, "names no claim"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "customAttributes": ["a"]}, "must be text"),
    (SALES_ID, {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "customerIdClaim": 3}, "must be a claim name"),
]


@pytest.mark.parametrize(("widget_id", "entry", "message"), BAD_ENTRIES, ids=[m for _, _, m in BAD_ENTRIES])
def test_a_bad_connect_widgets_entry_names_the_widget_and_the_setting(
    widget_id: str, entry: object, message: str
) -> None:
    settings = {"CONNECT_WIDGETS": json.dumps({widget_id: entry}), "CONNECT_WIDGET_SECRET_SALES": SALES_SECRET}
    problems = problems_of(settings)
    assert [name for name, _ in problems] == ["CONNECT_WIDGETS"] * len(problems)
    shown = widget_id if is_guid(widget_id) else "#1 (a name of"  # a name that is not a UUID is never echoed
    assert any(text.startswith(f"widget {shown}") and message in text for _, text in problems), problems
    assert not any(SALES_SECRET in text for _, text in problems)


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{", "is not valid JSON"), ("[]", "must be a JSON object keyed by widget id"), ("[" * 100_000, "not valid")],
)
def test_connect_widgets_must_be_a_json_object(raw: str, message: str) -> None:
    assert [(name, message in text) for name, text in problems_of({"CONNECT_WIDGETS": raw})] == [
        ("CONNECT_WIDGETS", True)
    ]


def test_a_short_widget_secret_is_refused_by_name_never_by_value() -> None:
    short = "Sh0rt-K3y"
    problems = problems_of({**two_widgets(), "CONNECT_WIDGET_SECRET_SALES": short})
    assert problems == [
        ("CONNECT_WIDGET_SECRET_SALES", "is too short to be an Amazon Connect security key (at least 16 characters)")
    ]


def test_two_widgets_may_not_share_one_key_setting() -> None:
    widgets = {
        SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES"},
        SUPPORT_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES"},
    }
    problems = problems_of({"CONNECT_WIDGETS": json.dumps(widgets), "CONNECT_WIDGET_SECRET_SALES": SALES_SECRET})
    assert problems == [
        (
            "CONNECT_WIDGETS",
            f"widget {SUPPORT_ID}: secretSetting CONNECT_WIDGET_SECRET_SALES is also widget {SALES_ID}'s: "
            "each widget has its own key",
        )
    ]


def test_every_bad_entry_is_reported_at_once() -> None:
    widgets = {SALES_ID: {"ttlSeconds": 0}, "nope": {}, SUPPORT_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_X"}}
    problems = problems_of({"CONNECT_WIDGETS": json.dumps(widgets)})
    assert len(problems) == 3  # sales: no secretSetting and a bad ttl; nope: not a UUID (support's unset key: below)


# --- a widget whose key cannot be read is unavailable alone (issue 22 item 5) ---------------------------------


@pytest.mark.parametrize("unset", [None, "", "  "], ids=["unset", "empty", "blank"])
def test_a_widget_whose_key_setting_is_unset_or_empty_is_unavailable_not_a_configuration_error(
    unset: str | None,
) -> None:
    settings = {**two_widgets(), "CONNECT_WIDGET_SECRET_SUPPORT": unset}
    parsed = parse_settings(base_settings(AUTHORITY, **settings))
    assert [(w.widget_id, w.secret_setting) for w in parsed.unavailable_widgets] == [
        (SUPPORT_ID, "CONNECT_WIDGET_SECRET_SUPPORT")
    ]
    assert parsed.widget.available and parsed.widgets[SALES_ID].available


# What Azure leaves in an app setting whose Key Vault reference it could not resolve: the reference text itself,
# long enough to pass the key-length check, and public (it names the vault and the secret).
UNRESOLVED_APP_SETTING_REFERENCE = (
    "@Microsoft.KeyVault(SecretUri=https://kv-example.vault.azure.net/secrets/connect-widget-secret-support/)"
)


@pytest.mark.parametrize("reference", [UNRESOLVED_APP_SETTING_REFERENCE, UNRESOLVED_APP_SETTING_REFERENCE.lower()])
def test_an_unresolved_app_setting_key_vault_reference_is_no_key(reference: str) -> None:
    """A widget never signs with the reference's own text: that widget is unavailable, the default widget's key
    is a configuration error naming the setting (never echoing the value)."""
    parsed = parse_settings(base_settings(AUTHORITY, **{**two_widgets(), "CONNECT_WIDGET_SECRET_SUPPORT": reference}))
    assert [w.widget_id for w in parsed.unavailable_widgets] == [SUPPORT_ID]
    problems = problems_of({**two_widgets(), "CONNECT_WIDGET_SECRET": reference})
    assert [name for name, _ in problems] == ["CONNECT_WIDGET_SECRET"]
    assert "Key Vault reference" in problems[0][1] and "kv-example" not in problems[0][1]


def test_the_default_widget_key_stays_required() -> None:
    for unset in (None, ""):
        problems = problems_of({**two_widgets(), "CONNECT_WIDGET_SECRET": unset})  # type: ignore[dict-item]
        assert problems == [("CONNECT_WIDGET_SECRET", "is required but not set")]


def test_every_other_bad_entry_stays_a_configuration_error_beside_an_unavailable_widget() -> None:
    widgets = {SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES", "ttlSeconds": 0}, SUPPORT_ID: {}}
    problems = problems_of({"CONNECT_WIDGETS": json.dumps(widgets)})
    assert [name for name, _ in problems] == ["CONNECT_WIDGETS", "CONNECT_WIDGETS"]  # sales' ttl, support's member


def test_an_unavailable_widget_answers_503_after_the_credentials_and_the_others_keep_serving(
    fake_entra: FakeEntra, signing_keys: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    settings = {**two_widgets(), "CONNECT_WIDGET_SECRET_SUPPORT": None}
    with caplog.at_level("WARNING"):
        service = make_service(base_settings(fake_entra.authority, **settings))  # type: ignore[arg-type]
        authorization = f"Bearer {access_token(fake_entra.key)}"
        with pytest.raises(ServiceUnavailable) as caught:
            service.issue(authorization, SUPPORT_ID)
    assert (caught.value.status, caught.value.code) == (503, "widget_unavailable")
    assert int(caught.value.headers()["Retry-After"]) > 0
    assert SUPPORT_ID in caught.value.log_detail and "CONNECT_WIDGET_SECRET_SUPPORT" in caught.value.log_detail
    assert "CONNECT_WIDGET_SECRET_SUPPORT" not in caught.value.detail  # the caller learns no setting name
    # The log names the widget and its key setting once, at the load that found it.
    warnings = [r.getMessage() for r in caplog.records if "widget_unavailable" in r.getMessage()]
    assert len(warnings) == 1 and SUPPORT_ID in warnings[0] and "CONNECT_WIDGET_SECRET_SUPPORT" in warnings[0]
    # Credentials first: an anonymous or forged caller gets its 401, not a hint that the widget exists.
    with pytest.raises(MissingToken):
        service.issue(None, SUPPORT_ID)
    with pytest.raises(InvalidToken):
        service.issue(f"Bearer {access_token(signing_keys[1])}", SUPPORT_ID)
    # The others keep serving, each with its own key.
    decode_contact_token(service.issue(authorization, SALES_ID).jwt, SALES_SECRET, subject=SALES_ID)
    decode_contact_token(service.issue(authorization).jwt)


# --- the dynamic key settings reach the parser and count as secrets -----------------------------------------


def test_widget_key_settings_are_settings_and_secrets() -> None:
    assert is_setting_name("CONNECT_WIDGET_SECRET_SALES") and is_secret_setting("CONNECT_WIDGET_SECRET_SALES")
    assert is_secret_setting("CONNECT_WIDGET_SECRET")
    assert not is_setting_name("CONNECT_WIDGET_SECRET_") and not is_setting_name("CONNECT_WIDGET_SECRET_A-B")
    assert not is_secret_setting("CONNECT_WIDGETS")
    environment = {"PATH": "/bin", "CONNECT_WIDGET_SECRET_SALES": SALES_SECRET, "CONNECT_WIDGETS": "{}"}
    assert select_settings(environment) == {"CONNECT_WIDGET_SECRET_SALES": SALES_SECRET, "CONNECT_WIDGETS": "{}"}


def test_widgets_and_their_key_references_come_from_app_configuration(azure: AzureStandIns) -> None:
    """The real provider and SDKs against the loopback stand-ins: CONNECT_WIDGETS in the store, each widget's key a
    Key Vault reference under its own CONNECT_WIDGET_SECRET_* key, which the store's key filter must let through."""
    azure.vault.secrets["connect-widget-sales"] = SALES_SECRET
    azure.vault.secrets["connect-widget-support"] = SUPPORT_SECRET
    widgets = json.loads(two_widgets()["CONNECT_WIDGETS"])
    azure.store.set("CONNECT_WIDGETS", json.dumps(widgets))
    azure.store.set_reference("CONNECT_WIDGET_SECRET_SALES", azure.vault.secret_uri("connect-widget-sales"))
    azure.store.set_reference("CONNECT_WIDGET_SECRET_SUPPORT", azure.vault.secret_uri("connect-widget-support"))
    azure.store.set("CONNECT_WIDGET_SECRETS_NOT_OURS", "ignored")
    environ = base_settings(AUTHORITY, APP_CONFIG_ENDPOINT=azure.store.url)
    configuration = ConfigurationProvider(environ, store_loader_factory=azure.store_factory(), clock=FakeClock(0))
    try:
        settings = configuration.current()
    finally:
        configuration.join_background()
    sales, support = settings.widget_for(SALES_ID), settings.widget_for(SUPPORT_ID)
    assert sales is not None and sales.secret.reveal() == SALES_SECRET
    assert support is not None and support.secret.reveal() == SUPPORT_SECRET
    assert settings.widget.secret.reveal() == WIDGET_SECRET  # the default widget from the environment


@pytest.mark.parametrize("second_spelling", [SALES_ID, SALES_ID.upper()], ids=["exact", "other-case"])
def test_a_widget_listed_twice_is_a_configuration_error(second_spelling: str) -> None:
    settings = two_widgets()
    first = f'"{SALES_ID}": {{"secretSetting": "CONNECT_WIDGET_SECRET_SALES"}}'
    again = f'"{second_spelling}": {{"secretSetting": "CONNECT_WIDGET_SECRET_SUPPORT"}}'
    settings["CONNECT_WIDGETS"] = "{" + first + ", " + again + "}"
    assert ("CONNECT_WIDGETS", f"widget {SALES_ID}: listed more than once") in problems_of(settings)


# --- issue 17: judgement calls on widget settings -----------------------------------------------------------


def test_a_connect_widgets_name_that_is_not_a_uuid_is_reported_by_position_and_length_never_echoed() -> None:
    pasted_key = "pasted-widget-key-0123456789abcdef0123456789ab"  # a key pasted where a widget id belongs
    widgets = {SALES_ID: {"secretSetting": "CONNECT_WIDGET_SECRET_SALES"}, pasted_key: {}}
    problems = problems_of({"CONNECT_WIDGETS": json.dumps(widgets), "CONNECT_WIDGET_SECRET_SALES": SALES_SECRET})
    assert problems == [
        (
            "CONNECT_WIDGETS",
            f"widget #2 (a name of {len(pasted_key)} characters that is not a UUID): the key must be a widget id "
            "(a UUID like 00000000-0000-0000-0000-000000000000)",
        )
    ]
    assert not any(pasted_key in text for _, text in problems)


def test_two_widget_key_settings_differing_only_in_case_are_a_configuration_error() -> None:
    # In Azure both names map to one Key Vault secret: one widget would sign with the other's key.
    settings = {**two_widgets(), "CONNECT_WIDGET_SECRET_Sales": SALES_SECRET[::-1]}
    problems = problems_of(settings)
    assert problems == [
        (
            "CONNECT_WIDGET_SECRET_SALES",
            "CONNECT_WIDGET_SECRET_SALES and CONNECT_WIDGET_SECRET_Sales differ only in case; "
            "in Azure they are one Key Vault secret",
        )
    ]


@pytest.mark.parametrize("name", ["CONNECT_WIDGET_SECRET", "CONNECT_WIDGET_SECRET_SALES"])
def test_a_widget_key_that_is_not_utf8_text_is_a_configuration_error_at_parse_time(name: str) -> None:
    # os.environ turns bytes that are not UTF-8 into lone surrogates (surrogateescape): signing would fail later.
    not_text = "widget-key-with-a-raw-byte-\udcff-0123456789"
    problems = problems_of({**two_widgets(), name: not_text})
    assert problems == [(name, "is not text (it holds bytes that are not UTF-8)")]


def test_an_unforeseen_failure_while_parsing_a_setting_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: str | None) -> Any:
        raise RuntimeError("a parser bug")

    monkeypatch.setattr("shared.widget.parse_custom_attributes", broken)
    assert problems_of({"SSO_CUSTOM_ATTRIBUTES": "department"}) == [
        ("SSO_CUSTOM_ATTRIBUTES", "cannot be read (RuntimeError); check its value")
    ]


def test_an_empty_widget_id_is_the_default_widget_on_any_host(fake_entra: FakeEntra) -> None:
    # Azure drops `?widgetId=` before the function runs (None); a host that passes "" through gets the same answer.
    service = make_service(base_settings(fake_entra.authority, **two_widgets()))
    token = access_token(fake_entra.key)
    assert decode_contact_token(service.issue(f"Bearer {token}", "").jwt)["sub"] == WIDGET_ID
