"""Persistent chat for a verified caller: remember the chat's contact id, forget it, and find it for the next token.

The routes (`PUT`/`DELETE /api/contacts/last`) and the contact-token route share the caller's verification in
shared/contact_token_service.py; this module does what follows it. The stored id goes only into the next contact
token, signed, as the attribute `previousContactId`: no answer ever returns it to a browser.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from shared.chat_history import ChatHistory, ChatHistoryUnavailable, Person
from shared.claims import PREVIOUS_CONTACT_ATTRIBUTE
from shared.errors import InvalidContactId, PersistentChatDisabled, ServiceUnavailable
from shared.guids import is_guid
from shared.settings import Settings
from shared.widget import Widget

MAX_BODY_BYTES = 1024
RETRY_AFTER_SECONDS = 10
_log = logging.getLogger(__name__)


def chat_history_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "chat history cannot be reached right now; the chat itself is not affected",
        code="chat_history_unavailable",
        retry_after_seconds=RETRY_AFTER_SECONDS,
    )


def contact_id_in(body: bytes) -> str:
    """The `contactId` of a body like {"contactId": "<UUID>"}, lower-case; InvalidContactId for anything else."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidContactId(f'the body is over {MAX_BODY_BYTES} bytes; send only {{"contactId": "<id>"}}')
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidContactId('the body is not JSON; send {"contactId": "<the chat\'s contact id>"}') from None
    contact_id = document.get("contactId") if isinstance(document, dict) else None
    if contact_id is None:
        raise InvalidContactId('the body has no contactId; send {"contactId": "<the chat\'s contact id>"}')
    if not isinstance(contact_id, str) or not is_guid(contact_id.lower()):
        raise InvalidContactId("contactId must be an Amazon Connect contact id (a UUID)")
    return contact_id.lower()


def person_of(claims: Mapping[str, Any]) -> Person:
    """The verifier guarantees both claims (a token without them is 401 invalid_claim)."""
    return Person(tenant_id=str(claims["tid"]), user_id=str(claims["oid"]))


class LastContacts:
    def __init__(self, history: ChatHistory, clock: Callable[[], float]) -> None:
        self._history = history
        self._clock = clock

    def _now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self._clock(), datetime.UTC)

    def previous_contact(self, settings: Settings, widget: Widget, claims: Mapping[str, Any]) -> str | None:
        """The caller's last contact with `widget` within the retention period, for the contact token. Never
        raises for the store: a chat start never fails because of history (the failure is logged and counted)."""
        if not widget.persistent_chat or settings.chat_history is None:
            return None
        try:
            return self._history.store(settings.chat_history).recall(person_of(claims), widget.widget_id, self._now())
        except ChatHistoryUnavailable:
            _log.warning("contact token issued without %s: chat history unavailable", PREVIOUS_CONTACT_ATTRIBUTE)
            return None

    def remember(self, settings: Settings, widget: Widget, claims: Mapping[str, Any], body: bytes) -> None:
        if not widget.persistent_chat or settings.chat_history is None:
            raise PersistentChatDisabled(
                "this widget has no persistent chat",
                log_detail=f"widget {widget.widget_id}: persistent chat is off "
                "(CONNECT_PERSISTENT_CHAT, or the widget's persistentChat in CONNECT_WIDGETS)",
            )
        contact_id = contact_id_in(body)
        try:
            store = self._history.store(settings.chat_history)
            store.remember(person_of(claims), widget.widget_id, contact_id, self._now())
        except ChatHistoryUnavailable:
            raise chat_history_unavailable() from None

    def forget(self, settings: Settings, widget: Widget, claims: Mapping[str, Any]) -> None:
        """Works whenever a store is configured, even for a widget whose persistent chat was turned off since:
        a person can always erase what was kept about them."""
        if settings.chat_history is None:
            raise PersistentChatDisabled(
                "this widget has no persistent chat",
                log_detail="no chat history store is configured (CHAT_HISTORY_ENDPOINT)",
            )
        try:
            self._history.store(settings.chat_history).forget(person_of(claims), widget.widget_id)
        except ChatHistoryUnavailable:
            raise chat_history_unavailable() from None
