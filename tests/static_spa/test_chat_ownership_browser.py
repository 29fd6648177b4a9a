"""The widget's chat belongs to the person signed in to the tab: real Chromium, the development build, the local stack.

Real parts: the page, MSAL v5, the local OpenID provider (which signs in the user named by `login_hint`), the function.
What cannot exist here: the Amazon Connect widget. The development panel stands in for it and, like the hosted
widget, keeps the active chat in the page origin's `sessionStorage.persistedChatSession` and resumes it on reload.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import Route, expect

from tests.static_spa.browser import RecordedPage
from tests.static_spa.conftest import ChatStack
from tests.static_spa.test_chat_page_browser import start_chat, verified_claims
from tools.dev_defaults import DEV_USERS

pytestmark = pytest.mark.browser

(ALICE_LOGIN, ALICE), (BOB_LOGIN, BOB) = list(DEV_USERS.items())[:2]
OWNER_KEY = "connect-sso.chatOwner"


def sign_in_as(recorded: RecordedPage, chat_stack: ChatStack, login: str) -> None:
    """Signs in from the signed-out page; the provider picks the user from login_hint, which this adds."""
    page = recorded.page
    authorize = f"{chat_stack.stack.identity.issuer}/authorize"

    def with_hint(route: Route) -> None:
        route.continue_(url=f"{route.request.url}&{urlencode({'login_hint': login})}")

    page.route(f"{authorize}*", with_hint)
    try:
        expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
        page.click("#sign-in")
        expect(page.locator("body")).to_have_attribute("data-state", "signed-in")
    finally:
        page.unroute(f"{authorize}*", with_hint)
    expect(page.locator("#account-name")).to_have_text(str(DEV_USERS[login]["name"]))


def stored(recorded: RecordedPage) -> dict[str, str]:
    return recorded.page.evaluate(
        "Object.fromEntries([...Object.keys(sessionStorage).map(k => ['session:' + k, sessionStorage.getItem(k)]),"
        " ...Object.keys(localStorage).map(k => ['local:' + k, localStorage.getItem(k)])])"
    )


def alice_chatting(recorded: RecordedPage, chat_stack: ChatStack) -> str:
    """Alice signs in and starts a chat; returns the chat's contact id."""
    recorded.page.goto(chat_stack.page.url)
    sign_in_as(recorded, chat_stack, ALICE_LOGIN)
    token = start_chat(recorded)
    assert verified_claims(token)["attributes"]["userId"] == ALICE["oid"]
    contact_id = recorded.page.locator("#dev-chat-contact-id").text_content() or ""
    assert contact_id
    assert contact_id in stored(recorded)["session:persistedChatSession"]
    return contact_id


def test_signing_out_ends_the_chat_and_the_next_person_sees_nothing_of_it(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    page = recorded.page
    contact_id = alice_chatting(recorded, chat_stack)
    marker = stored(recorded)[f"session:{OWNER_KEY}"]
    assert ALICE["oid"] not in marker, "the owner marker must identify no one"

    page.click("#sign-out")
    dialog = page.get_by_role("dialog", name="End your chat and sign out?")
    expect(dialog).to_be_visible()
    expect(page.locator("#sign-out-cancel")).to_be_focused()
    box, viewport = dialog.bounding_box(), page.viewport_size
    assert box is not None and viewport is not None
    # Centred like any modal, not pinned to a corner by the page's panel margins.
    assert abs(box["x"] + box["width"] / 2 - viewport["width"] / 2) <= 2, box
    assert abs(box["y"] + box["height"] / 2 - viewport["height"] / 2) <= 2, box
    recorded.screenshot("chat-ownership-sign-out-dialog")
    page.click("#sign-out-confirm")

    expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
    sign_in_as(recorded, chat_stack, BOB_LOGIN)

    after = stored(recorded)
    assert "session:persistedChatSession" not in after
    assert all(contact_id not in value for value in after.values()), "Alice's chat is still in storage"
    assert after[f"session:{OWNER_KEY}"] != marker
    body = page.locator("body").inner_text()
    assert contact_id not in body
    assert str(ALICE["name"]) not in body
    expect(page.locator("#dev-chat")).to_have_count(0)
    recorded.screenshot("chat-ownership-next-person")
    assert recorded.errors == []


def test_declining_the_dialog_keeps_the_chat_and_the_sign_in(chat_stack: ChatStack, recorded: RecordedPage) -> None:
    page = recorded.page
    contact_id = alice_chatting(recorded, chat_stack)

    page.click("#sign-out")
    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")
    expect(page.locator("#dev-chat-contact-id")).to_have_text(contact_id)
    assert contact_id in stored(recorded)["session:persistedChatSession"]


def test_the_owner_reloading_during_the_chat_keeps_it(chat_stack: ChatStack, recorded: RecordedPage) -> None:
    page = recorded.page
    contact_id = alice_chatting(recorded, chat_stack)

    page.reload()

    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")
    expect(page.locator("#dev-chat")).to_have_attribute("data-restored", "true")
    expect(page.locator("#dev-chat-contact-id")).to_have_text(contact_id)
    assert contact_id in stored(recorded)["session:persistedChatSession"]


def test_a_chat_owned_by_another_account_is_cleared_before_the_widget_loads(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    """As if another account's chat were left in the tab (its marker differs): it never reaches the widget."""
    page = recorded.page
    contact_id = alice_chatting(recorded, chat_stack)
    page.evaluate(f"sessionStorage.setItem('{OWNER_KEY}', '0'.repeat(64))")

    page.reload()

    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")
    expect(page.locator("#dev-panel")).to_be_visible()
    expect(page.locator("#dev-chat")).to_have_count(0)
    assert all(contact_id not in value for value in stored(recorded).values())


def test_a_chat_left_while_nobody_is_signed_in_is_cleared(chat_stack: ChatStack, recorded: RecordedPage) -> None:
    page = recorded.page
    page.goto(chat_stack.page.url)
    expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
    page.evaluate("sessionStorage.setItem('persistedChatSession', '{\"contactId\":\"left-behind\"}')")

    page.reload()

    expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
    assert "session:persistedChatSession" not in stored(recorded)
