"""Development identities and settings: obviously fake values that make the local stack work out of the box."""

from __future__ import annotations

import json

DEV_TENANT_ID = "00000000-0000-0000-0000-000000000001"
DEV_API_CLIENT_ID = "00000000-0000-0000-0000-0000000000a1"
DEV_SPA_CLIENT_ID = "00000000-0000-0000-0000-0000000000a2"
DEV_WIDGET_ID = "00000000-0000-0000-0000-0000000000c1"
DEV_WIDGET_SECRET = "fake-widget-secret-for-local-development-only"  # noqa: S105 - a development value, by design
# A second development widget that requires the authentication context c1 (step-up, docs/step-up.md): the local
# identity provider grants c1 when asked, so a newcomer sees the whole step-up journey.
DEV_STEP_UP_WIDGET_ID = "00000000-0000-0000-0000-0000000000c3"
DEV_STEP_UP_AUTH_CONTEXT = "c1"
DEV_STEP_UP_WIDGET_SECRET = "fake-step-up-widget-secret-for-local-development-only"  # noqa: S105 - development value
DEV_API_SCOPE = f"api://{DEV_API_CLIENT_ID}/JWT.Read"
DEV_IDENTITY_PORT = 7443
DEV_FUNCTION_PORT = 7071
DEV_CHAT_HISTORY_TABLE = "chathistory"

# Users the local identity provider can sign in; the first is the default (no login form, like a mock should).
DEV_USERS: dict[str, dict[str, object]] = {
    "dev.user@contoso.example": {
        "name": "Dana Developer",
        "oid": "00000000-0000-0000-0000-0000000000d1",
        "claims": {"email": "dev.user@contoso.example", "given_name": "Dana", "family_name": "Developer"},
    },
    "second.user@contoso.example": {
        "name": "Sam Second",
        "oid": "00000000-0000-0000-0000-0000000000d2",
        "claims": {"email": "second.user@contoso.example"},
    },
}


def function_settings(authority: str) -> dict[str, str]:
    """Settings that make the function accept the local identity provider's tokens."""
    return {
        "ENTRA_TENANT_ID": DEV_TENANT_ID,
        "ENTRA_API_CLIENT_ID": DEV_API_CLIENT_ID,
        "ENTRA_AUTHORITY": authority,
        "REQUIRED_SCOPES": "JWT.Read",
        "CONNECT_WIDGET_ID": DEV_WIDGET_ID,
        "CONNECT_WIDGET_SECRET": DEV_WIDGET_SECRET,
        "CONNECT_TOKEN_TTL_SECONDS": "600",
        "SSO_CUSTOM_ATTRIBUTES": "given_name:firstName,family_name:lastName",
        "CONNECT_WIDGETS": json.dumps(
            {
                DEV_STEP_UP_WIDGET_ID: {
                    "secretSetting": "CONNECT_WIDGET_SECRET_STEP_UP",
                    "requiredAuthContext": DEV_STEP_UP_AUTH_CONTEXT,
                }
            }
        ),
        "CONNECT_WIDGET_SECRET_STEP_UP": DEV_STEP_UP_WIDGET_SECRET,
    }


def chat_history_settings(connection_string: str) -> dict[str, str]:
    """Persistent chat on for the development widget, its history in the local Azurite (tools/azurite)."""
    return {
        "CONNECT_PERSISTENT_CHAT": "true",
        "CHAT_HISTORY_CONNECTION_STRING": connection_string,
        "CHAT_HISTORY_TABLE": DEV_CHAT_HISTORY_TABLE,
    }
