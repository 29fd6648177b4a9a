"""One Amazon Connect widget: its value, its limits, the rule for its key's setting name, and one table of options.

Each option (WIDGET_OPTIONS) has its `CONNECT_WIDGETS` member name, its global setting (the default widget's value
and every entry's default) and one parse function, so the default widget and every `CONNECT_WIDGETS` entry are read
through the same functions and say the same thing about the same mistake. Adding an option is one row here, the
Widget field its consumer reads, the docs row (docs/configuration.md) and its test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from shared.auth_context import auth_context_problem
from shared.claims import AttributeRules, ClaimAttribute, parse_custom_attributes
from shared.guids import GUID_EXAMPLE, is_guid
from shared.setting_reader import SettingReader, boolean_word

MAX_CONTACT_TOKEN_TTL_SECONDS = 600  # Amazon Connect: "10 minute maximum"
MIN_WIDGET_SECRET_LENGTH = 16  # Connect's keys are 44 characters; a short one is a placeholder or a paste accident
WIDGET_ID_SETTING = "CONNECT_WIDGET_ID"
WIDGET_SECRET_SETTING = "CONNECT_WIDGET_SECRET"  # noqa: S105 -- a setting name, not a secret
WIDGETS_SETTING = "CONNECT_WIDGETS"
# CONNECT_WIDGETS names each extra widget's key setting; those names are dynamic, so the catalogue knows the prefix.
WIDGET_SECRET_PREFIX = "CONNECT_WIDGET_SECRET_"  # noqa: S105 -- a setting name prefix, not a secret
WIDGET_SECRET_SETTING_NAME = re.compile(rf"^{WIDGET_SECRET_PREFIX}([A-Za-z0-9_]+)$")
# The Key Vault secret behind each key setting (the postprovision hook and modules/key-vault.bicep follow it).
KEY_VAULT_SECRET_PREFIX = "connect-widget-secret"  # noqa: S105 -- a secret's name, not a secret
SECRET_SETTING_MEMBER = "secretSetting"  # noqa: S105 -- a member name, not a secret
# An app setting whose Key Vault reference Azure cannot resolve keeps the reference's own text: long enough to pass
# the length check, and public (it names the vault and the secret), so it is never a key.
APP_SETTING_KEY_VAULT_REFERENCE = "@microsoft.keyvault("


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Widget:
    widget_id: str  # the contact JWT's `sub`: the snippet's widget id
    secret: Secret  # the widget's security key (HS256)
    ttl_seconds: int
    segment_attributes: Mapping[str, object] | None = None
    custom_attributes: tuple[ClaimAttribute, ...] = ()
    customer_id_claim: str | None = None
    secret_setting: str = WIDGET_SECRET_SETTING  # the setting holding `secret` (named in logs, never its value)
    required_auth_context: str | None = None  # step-up: c1..c25 the access token must satisfy (shared/auth_context.py)
    # Persistent chat: the contact token carries previousContactId, and PUT /api/contacts/last stores the chat's id.
    persistent_chat: bool = False
    # Built once here, so the request path reads one ready value.
    attribute_rules: AttributeRules = field(init=False)

    def __post_init__(self) -> None:
        rules = AttributeRules(custom=self.custom_attributes, customer_id_claim=self.customer_id_claim)
        object.__setattr__(self, "attribute_rules", rules)

    @property
    def available(self) -> bool:
        """False for a CONNECT_WIDGETS widget whose key setting is unset or empty (locally, or in Azure when its Key
        Vault reference cannot be resolved, see is_unresolved_reference): that widget alone answers 503
        widget_unavailable."""
        return bool(self.secret.reveal())


def is_unresolved_reference(value: str) -> bool:
    """An app setting `@Microsoft.KeyVault(...)` that Azure left as it is because it could not resolve it."""
    return value.lstrip().lower().startswith(APP_SETTING_KEY_VAULT_REFERENCE)


def is_widget_secret_setting(name: str) -> bool:
    """A `CONNECT_WIDGET_SECRET_<name>` setting: the key of a widget in CONNECT_WIDGETS."""
    return bool(WIDGET_SECRET_SETTING_NAME.match(name))


def key_vault_secret_name(setting: str) -> str:
    """The Key Vault secret holding a widget's key: CONNECT_WIDGET_SECRET_SALES_EU -> connect-widget-secret-sales-eu
    (Key Vault names allow letters, digits and '-')."""
    match = WIDGET_SECRET_SETTING_NAME.match(setting)
    if match is None:
        raise ValueError(setting)
    return f"{KEY_VAULT_SECRET_PREFIX}-{match.group(1).lower().replace('_', '-')}"


# -- the options: one parse function each, for a member's JSON value and for the global setting alike ----------------

Parsed = tuple[object, list[str]]  # (the value, or the option's fallback; what is wrong with it)


def _ttl_seconds(value: object) -> Parsed:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONTACT_TOKEN_TTL_SECONDS:
        return MAX_CONTACT_TOKEN_TTL_SECONDS, [f"must be a whole number from 1 to {MAX_CONTACT_TOKEN_TTL_SECONDS}"]
    return value, []


def _whole_number_text(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        return text  # not a number: the parse function says what it must be


def segment_attribute_problems(parsed: object) -> list[str]:
    """What is wrong with a parsed segmentAttributes value (StartChatContact's shape and limits)."""
    if not isinstance(parsed, dict):
        return ["must be a JSON object"]
    problems = []
    for key, value in parsed.items():
        if not 1 <= len(key) <= 128:
            problems.append(f"key {key!r} must be 1 to 128 characters")
        if not isinstance(value, dict) or not isinstance(value.get("ValueString", ""), str):
            problems.append(f'value of {key!r} must be an object like {{"ValueString": "..."}}')
        elif len(value.get("ValueString", "")) > 1024:
            problems.append(f"ValueString of {key!r} is over 1024 characters")
    try:  # the contact token is UTF-8: a lone surrogate (JSON allows "\ud800") would fail every request
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        problems.append("holds text that is not valid Unicode (an unpaired surrogate)")
    except (RecursionError, ValueError):  # parsed, but nested too deeply to be written into a contact token
        problems.append("is nested too deeply to be written into a contact token")
    return problems


def _segment_attributes(value: object) -> Parsed:
    return (value if isinstance(value, dict) else None), segment_attribute_problems(value)


def _json_text(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser's stack
        raise ValueError("is not valid JSON") from error


def _custom_attributes(value: object) -> Parsed:
    if not isinstance(value, str):
        return (), ["must be text like SSO_CUSTOM_ATTRIBUTES ('claim' or 'claim:name', ...)"]
    return parse_custom_attributes(value)


def _customer_id_claim(value: object) -> Parsed:
    if value is None:
        return None, []
    if not isinstance(value, str):
        return None, ["must be a claim name (text)"]
    return value.strip() or None, []


def _required_auth_context(value: object) -> Parsed:
    if value == "":  # a member "" means this widget requires none (an unset global setting is never parsed)
        return None, []
    problem = auth_context_problem(value)
    return (None, [problem]) if problem else (value, [])


def _text(text: str) -> object:
    return text


def _boolean(value: object) -> Parsed:
    if not isinstance(value, bool):
        return False, ["must be true or false"]
    return value, []


def _boolean_text(text: str) -> object:
    """A boolean setting's text, read with the same words as every boolean setting (setting_reader.boolean_word)."""
    word = boolean_word(text)
    return text if word is None else word  # not a boolean: the parse function says what it must be


@dataclass(frozen=True)
class WidgetOption:
    member: str  # its name in a CONNECT_WIDGETS entry
    setting: str  # the global setting: the default widget's value, and each entry's when it leaves the member out
    widget_field: str  # the Widget field its consumer reads
    parse: Callable[[object], Parsed]  # a JSON value -> (value, problems)
    from_text: Callable[[str], object] = _text  # the global setting's text -> the JSON value; ValueError: unreadable
    unset: object = None  # the value when the global setting is unset and has no default


WIDGET_OPTIONS: tuple[WidgetOption, ...] = (
    WidgetOption("customAttributes", "SSO_CUSTOM_ATTRIBUTES", "custom_attributes", _custom_attributes, unset=()),
    WidgetOption("customerIdClaim", "CONNECT_CUSTOMER_ID_CLAIM", "customer_id_claim", _customer_id_claim),
    WidgetOption(
        "ttlSeconds",
        "CONNECT_TOKEN_TTL_SECONDS",
        "ttl_seconds",
        _ttl_seconds,
        _whole_number_text,
        MAX_CONTACT_TOKEN_TTL_SECONDS,
    ),
    WidgetOption(
        "segmentAttributes", "CONNECT_SEGMENT_ATTRIBUTES", "segment_attributes", _segment_attributes, _json_text
    ),
    WidgetOption(
        "requiredAuthContext", "CONNECT_REQUIRED_AUTH_CONTEXT", "required_auth_context", _required_auth_context
    ),
    WidgetOption("persistentChat", "CONNECT_PERSISTENT_CHAT", "persistent_chat", _boolean, _boolean_text, False),
)
WIDGET_MEMBERS = frozenset({SECRET_SETTING_MEMBER, *(option.member for option in WIDGET_OPTIONS)})


# -- reading: the default widget from the global settings, then each CONNECT_WIDGETS entry -----------------------


def read_secret(reader: SettingReader, name: str, unset: str) -> Secret:
    """A widget's security key; the problems name the setting, never the value."""
    secret = reader.get(name)
    if secret is None:
        reader.problem(name, unset)
    elif is_unresolved_reference(secret):
        reader.problem(name, "is a Key Vault reference Azure could not resolve (check the secret and the identity)")
        secret = None
    elif len(secret) < MIN_WIDGET_SECRET_LENGTH:
        reader.problem(
            name, f"is too short to be an Amazon Connect security key (at least {MIN_WIDGET_SECRET_LENGTH} characters)"
        )
    elif not _is_utf8_text(secret):  # signing encodes it as UTF-8: refused here, not as a 500 per request
        reader.problem(name, "is not text (it holds bytes that are not UTF-8)")
    return Secret(secret or "")


def _is_utf8_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_secret_setting_names(reader: SettingReader) -> None:
    """Key settings whose names differ only in case: one Key Vault secret in Azure (names are case-insensitive
    there), so one widget would silently sign with the other's key."""
    by_folded: dict[str, list[str]] = {}
    for name in reader.values:
        if is_widget_secret_setting(name):
            by_folded.setdefault(name.upper(), []).append(name)
    for names in by_folded.values():
        if len(names) > 1:
            reader.problem(
                sorted(names)[0],
                f"{' and '.join(sorted(names))} differ only in case; in Azure they are one Key Vault secret",
            )


def widget_label(widget_id: str, position: int) -> str:
    """How a CONNECT_WIDGETS member is named in a problem: by its id when that is a UUID (public: it is in the
    page's snippet); otherwise by position and length, never echoed (it may be a key pasted in the wrong place)."""
    if is_guid(widget_id):
        return widget_id
    return f"#{position} (a name of {len(widget_id)} characters that is not a UUID)"


def _global_option(reader: SettingReader, option: WidgetOption) -> object:
    text = reader.value(option.setting)
    if text is None:
        return option.unset
    try:
        value = option.from_text(text)
    except ValueError as error:
        reader.problem(option.setting, str(error))
        return option.unset
    parsed, problems = option.parse(value)
    for message in problems:
        reader.problem(option.setting, message)
    return parsed


def read_default_widget(reader: SettingReader) -> Widget:
    """The widget of CONNECT_WIDGET_ID / CONNECT_WIDGET_SECRET and the global option settings."""
    widget_id = reader.required(WIDGET_ID_SETTING)
    if widget_id and not is_guid(widget_id.lower()):
        # Not echoed: a widget key pasted here by mistake must not reach the log.
        reader.problem(WIDGET_ID_SETTING, "must be the widget's UUID (the 4th argument of the snippet's wrapper)")
    secret = read_secret(reader, WIDGET_SECRET_SETTING, "is required but not set")
    options = {option.widget_field: _global_option(reader, option) for option in WIDGET_OPTIONS}
    return Widget(widget_id=widget_id, secret=secret, **options)  # type: ignore[arg-type]


def read_widgets(reader: SettingReader, default: Widget) -> dict[str, Widget]:
    """CONNECT_WIDGETS, by lower-case widget id; each entry's problems name the widget id and the member. Then the
    names of the key settings the entries name."""
    widgets = _read_entries(reader, default)
    read_secret_setting_names(reader)
    return widgets


def _read_entries(reader: SettingReader, default: Widget) -> dict[str, Widget]:
    raw = reader.get(WIDGETS_SETTING)
    if raw is None:
        return {}
    try:
        entries = json.loads(raw)
    except (ValueError, RecursionError):
        reader.problem(WIDGETS_SETTING, "is not valid JSON")
        return {}
    if not isinstance(entries, dict):
        reader.problem(WIDGETS_SETTING, "must be a JSON object keyed by widget id")
        return {}
    # Listed twice (exactly, or in another case): JSON keeps the last silently, so a key would be lost unseen.
    seen: set[str] = set()
    for position, (widget_id, _entry) in enumerate(json.loads(raw, object_pairs_hook=list), start=1):
        if widget_id.lower() in seen:
            shown = widget_label(widget_id.lower(), position)
            reader.problem(WIDGETS_SETTING, f"widget {shown}: listed more than once")
        seen.add(widget_id.lower())
    widgets: dict[str, Widget] = {}
    secret_owners: dict[str, str] = {}
    for position, (widget_id, entry) in enumerate(entries.items(), start=1):
        widget = _WidgetEntry(reader, widget_id, position, default).parse(entry, secret_owners)
        if widget is not None:
            widgets[widget_id.lower()] = widget
    return widgets


class _WidgetEntry:
    """One CONNECT_WIDGETS entry, checked by the default widget's rules; a member left out takes the default's."""

    def __init__(self, reader: SettingReader, widget_id: str, position: int, default: Widget) -> None:
        self.reader = reader
        self.widget_id = widget_id
        self.label = widget_label(widget_id, position)
        self.default = default

    def problem(self, message: str) -> None:
        self.reader.problem(WIDGETS_SETTING, f"widget {self.label}: {message}")

    def parse(self, entry: object, secret_owners: dict[str, str]) -> Widget | None:
        if not is_guid(self.widget_id):
            self.problem(f"the key must be a widget id (a UUID like {GUID_EXAMPLE})")
            return None
        if self.widget_id.lower() == self.default.widget_id.lower():
            self.problem("is the default widget (CONNECT_WIDGET_ID); configure it with the single-widget settings")
            return None
        if not isinstance(entry, dict):
            self.problem(f'must be an object like {{"{SECRET_SETTING_MEMBER}": "{WIDGET_SECRET_PREFIX}<NAME>"}}')
            return None
        for member in sorted(set(entry) - WIDGET_MEMBERS):
            self.problem(f"unknown member {member!r} (known: {', '.join(sorted(WIDGET_MEMBERS))})")
        secret_setting = entry.get(SECRET_SETTING_MEMBER)
        secret = self.secret(secret_setting, secret_owners)
        self.reader.reading = WIDGETS_SETTING  # secret() read the key setting; the options are this entry again
        options = {option.widget_field: self.option(entry, option) for option in WIDGET_OPTIONS}
        if isinstance(secret_setting, str):
            options["secret_setting"] = secret_setting
        return Widget(widget_id=self.widget_id, secret=secret, **options)  # type: ignore[arg-type]

    def option(self, entry: Mapping[str, object], option: WidgetOption) -> object:
        if option.member not in entry:
            return getattr(self.default, option.widget_field)
        parsed, problems = option.parse(entry[option.member])
        for message in problems:
            self.problem(f"{option.member} {message}")
        return parsed

    def secret(self, name: object, secret_owners: dict[str, str]) -> Secret:
        if name is None:
            self.problem(
                f"{SECRET_SETTING_MEMBER} is required: the name of the setting holding the widget's security key"
            )
            return Secret("")
        if not isinstance(name, str) or not is_widget_secret_setting(name):
            self.problem(
                f"{SECRET_SETTING_MEMBER} must be a setting name starting with {WIDGET_SECRET_PREFIX} "
                "(letters, digits and '_' only)"
            )
            return Secret("")
        if name in secret_owners:
            self.problem(
                f"{SECRET_SETTING_MEMBER} {name} is also widget {secret_owners[name]}'s: each widget has its own key"
            )
        secret_owners.setdefault(name, self.widget_id)
        value = self.reader.get(name)
        if value is None or is_unresolved_reference(value):
            # Unset or empty (in Azure: its Key Vault reference cannot be resolved): not a configuration error,
            # so the other widgets keep serving; this one answers 503 widget_unavailable (Widget.available).
            return Secret("")
        return read_secret(self.reader, name, "is not set")
