"""A returning user resumes their own chat on any device: real Chromium, the development build, the local stack with
Azurite holding chat history (as `scripts/run` starts it).

Real parts: the page and its contactMetadataHandler, MSAL v5, the local OpenID provider (which signs in the user named
by `login_hint`), the function, Azurite reached by azure-data-tables. What cannot exist here: the Amazon Connect widget;
the development panel stands in for it and, like the hosted widget, reports each new chat's contact id through the
snippet's `contactMetadataHandler` (a random UUID here, as Connect's are). Each "device" is a new browser context.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from shared.routes import LAST_CONTACT_PATH
from tests.static_spa.browser import RecordedPage, open_page
from tests.static_spa.conftest import ChatStack
from tests.static_spa.test_chat_ownership_browser import sign_in_as
from tests.static_spa.test_chat_page_browser import start_chat, verified_claims
from tools.dev_defaults import DEV_USERS

pytestmark = pytest.mark.browser

(ALICE_LOGIN, ALICE), (BOB_LOGIN, BOB) = list(DEV_USERS.items())[:2]


def on_new_device(browser: Browser, chat_stack: ChatStack, login: str) -> RecordedPage:
    """A fresh browser context (another device: nothing in storage), signed in as `login`."""
    recorded = open_page(browser)
    recorded.page.goto(chat_stack.page.url)
    sign_in_as(recorded, chat_stack, login)
    return recorded


def chat(recorded: RecordedPage, *, stored_status: int = 204) -> tuple[dict[str, str], str]:
    """Starts a chat: the contact token's signed attributes, and the contact id the page sent to be remembered."""
    page = recorded.page
    with page.expect_response(lambda r: LAST_CONTACT_PATH in r.url and r.request.method == "PUT") as answer:
        token = start_chat(recorded)
    assert answer.value.status == stored_status  # 204: no content (nothing stored is ever answered)
    contact_id = answer.value.request.post_data_json["contactId"]
    end = page.locator("#dev-end-chat")
    if end.count():  # the development panel's "End chat" (persistedChatSession), where the stand-in has it
        end.click()
    return verified_claims(token)["attributes"], contact_id  # type: ignore[return-value]


def test_a_returning_user_gets_their_own_previous_contact_on_another_device_and_nobody_else_does(
    browser: Browser, chat_stack: ChatStack
) -> None:
    assert chat_stack.stack.azurite is not None, "the local stack runs Azurite for chat history"
    laptop = on_new_device(browser, chat_stack, ALICE_LOGIN)
    first, alice_contact = chat(laptop)
    assert "previousContactId" not in first
    laptop.context.close()

    phone = on_new_device(browser, chat_stack, ALICE_LOGIN)
    second, _ = chat(phone)
    assert second["userId"] == ALICE["oid"]
    assert second["previousContactId"] == alice_contact
    expect(phone.page.locator("#dev-attributes")).to_contain_text(alice_contact)
    phone.screenshot("persistent-chat-second-device")
    assert not phone.errors
    phone.context.close()

    bob = on_new_device(browser, chat_stack, BOB_LOGIN)
    bobs, bob_contact = chat(bob)
    assert bobs["userId"] == BOB["oid"]
    assert "previousContactId" not in bobs
    again, _ = chat(bob)  # Bob's second chat resumes Bob's, never Alice's
    assert again["previousContactId"] == bob_contact != alice_contact
    bob.context.close()


def test_with_the_store_stopped_the_chat_still_starts(browser: Browser, chat_stack: ChatStack) -> None:
    """Last in this module: it stops the module's Azurite."""
    azurite = chat_stack.stack.azurite
    assert azurite is not None and azurite.process is not None
    azurite.process.terminate()
    azurite.process.wait(10)
    device = on_new_device(browser, chat_stack, ALICE_LOGIN)
    attributes, _ = chat(device, stored_status=503)
    assert attributes["userId"] == ALICE["oid"]
    assert "previousContactId" not in attributes
    expect(device.page.locator("#dev-failure")).to_have_count(0)
    expect(device.page.locator("#customer-message")).to_be_hidden()
    device.screenshot("persistent-chat-store-stopped")
    device.context.close()
