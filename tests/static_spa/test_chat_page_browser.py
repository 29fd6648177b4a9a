"""The customer chat page end to end, in real Chromium, against the real local stack.

Real parts: the development build of static_spa (Vite), MSAL v5, the local OpenID provider over HTTPS
(oauth2-mock-server with Entra-shaped tokens), the function served by the local runner, and the page's
Content-Security-Policy from static_spa/scripts/csp.mjs. What cannot exist here: Entra ID (the local provider
stands in) and the Amazon Connect widget (the development panel stands in, calling the page's authenticate
callback the way the widget does). The contact token is checked with PyJWT, independently of the function.
"""

from __future__ import annotations

import json
from shared.routes import CONTACT_TOKEN_PATH
from collections.abc import Iterator

import jwt
import pytest
from playwright.sync_api import Browser, expect

from tests.static_spa.browser import RecordedPage, open_page
from tests.static_spa.conftest import ChatStack
from tools.dev_defaults import DEV_USERS, DEV_WIDGET_ID, DEV_WIDGET_SECRET
from tools.dev_page import PageServer, development_config, serve_page
from tools.dev_stack import free_port

pytestmark = pytest.mark.browser

DEV_USERNAME, DEV_USER = next(iter(DEV_USERS.items()))
SIGN_IN_AGAIN = "Your sign-in has expired. Please sign in again to start a chat."
UNAVAILABLE = "Chat is unavailable right now. Please try again later."


def sign_in(recorded: RecordedPage, url: str) -> None:
    page = recorded.page
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-state", "signed-out")
    page.click("#sign-in")
    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")


def start_chat(recorded: RecordedPage, button: str = "#dev-start-chat") -> str:
    """Clicks the development panel's start button (the widget's authenticate path); returns the token handed over."""
    page = recorded.page
    page.click(button)
    token = page.locator("#dev-contact-token")
    token.wait_for(state="attached")
    return token.text_content() or ""


def verified_claims(token: str) -> dict[str, object]:
    return jwt.decode(
        token,
        DEV_WIDGET_SECRET,
        algorithms=["HS256"],
        options={"require": ["sub", "iat", "exp"]},
        leeway=5,  # the browser rendered it a moment ago; the lifetime check below is exact
    )


def access_token_entry(recorded: RecordedPage) -> tuple[str, dict[str, object]]:
    """MSAL's cached access token (sessionStorage, unencrypted in MSAL v5): key and record."""
    entries: dict[str, str] = recorded.page.evaluate(
        "Object.fromEntries(Object.keys(sessionStorage).map(k => [k, sessionStorage.getItem(k)]))"
    )
    matches = [(key, json.loads(value)) for key, value in entries.items() if "|accesstoken|" in key]
    assert len(matches) == 1, f"expected one cached access token, found {len(matches)}"
    return matches[0]


def replace_access_token_entry(recorded: RecordedPage, key: str, record: dict[str, object]) -> None:
    recorded.page.evaluate("([key, value]) => sessionStorage.setItem(key, value)", [key, json.dumps(record)])


def assert_nothing_sensitive_in_console(recorded: RecordedPage, *secrets: str) -> None:
    for secret in secrets:
        assert all(secret not in line for line in recorded.console), "a token reached the browser console"


def test_signed_in_customer_hands_connect_a_contact_token_signed_with_the_widget_secret(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    sign_in(recorded, chat_stack.page.url)
    page = recorded.page
    expect(page.locator("#account-name")).to_have_text(DEV_USER["name"])
    assert recorded.requests_to(chat_stack.function_url) == [], "no contact token may be fetched before a chat starts"

    token = start_chat(recorded)

    claims = verified_claims(token)
    assert claims["sub"] == DEV_WIDGET_ID
    assert 0 < claims["exp"] - claims["iat"] <= 600
    assert claims["attributes"]["name"] == DEV_USER["name"]
    assert claims["attributes"]["userId"] == DEV_USER["oid"]
    assert claims["attributes"]["email"] == DEV_USERNAME
    assert all(isinstance(value, str) for value in claims["attributes"].values())
    expect(page.locator("#dev-display-name")).to_have_text(DEV_USER["name"])
    expect(page.locator("#dev-attributes")).to_contain_text(DEV_USER["oid"])
    expect(page.locator("#customer-message")).to_be_hidden()
    assert len(recorded.requests_to(chat_stack.function_url)) == 1

    recorded.page.click("summary")  # show the token itself in the screenshot, as a newcomer would
    recorded.screenshot("chat-page-signed-in-contact-token")
    _, access = access_token_entry(recorded)
    assert_nothing_sensitive_in_console(recorded, token, str(access["secret"]))
    assert recorded.csp_violations() == []
    assert recorded.errors == []


def test_the_widget_calling_authenticate_twice_gets_one_token_from_one_request(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    sign_in(recorded, chat_stack.page.url)
    token = start_chat(recorded, "#dev-start-chat-twice")
    expect(recorded.page.locator("#dev-distinct-tokens")).to_have_text("1")
    assert len(recorded.requests_to(chat_stack.function_url)) == 1
    verified_claims(token)


def test_each_new_chat_fetches_its_own_token_at_that_moment(chat_stack: ChatStack, recorded: RecordedPage) -> None:
    sign_in(recorded, chat_stack.page.url)
    start_chat(recorded)
    recorded.page.locator("#dev-contact-token").wait_for(state="attached")
    start_chat(recorded)
    expect(recorded.page.locator("#dev-result")).to_have_attribute("data-authenticate-calls", "1")
    assert len(recorded.requests_to(chat_stack.function_url)) == 2


def test_an_expired_access_token_is_renewed_silently_before_the_function_is_called(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    sign_in(recorded, chat_stack.page.url)
    key, record = access_token_entry(recorded)
    old_secret = str(record["secret"])
    record["expiresOn"] = record["extendedExpiresOn"] = "1000000000"  # long past: MSAL must renew
    replace_access_token_entry(recorded, key, record)

    token = start_chat(recorded)

    token_requests = recorded.requests_to(f"{chat_stack.stack.identity.issuer}/token", method="POST")
    assert token_requests, "MSAL did not ask the identity provider for a new access token"
    function_calls = recorded.requests_to(chat_stack.function_url)
    assert len(function_calls) == 1
    assert function_calls[0].headers["authorization"] != f"Bearer {old_secret}"
    assert verified_claims(token)["sub"] == DEV_WIDGET_ID


def test_a_session_the_function_refuses_asks_the_customer_to_sign_in_again(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    """The function answers 401 (here: a cached access token whose signature no longer verifies, as after a
    revoked session); the customer is told to sign in again, and signing in again starts the chat."""
    sign_in(recorded, chat_stack.page.url)
    key, record = access_token_entry(recorded)
    header, payload, _signature = str(record["secret"]).split(".")
    record["secret"] = f"{header}.{payload}.{'A' * 342}"
    replace_access_token_entry(recorded, key, record)
    page = recorded.page

    page.click("#dev-start-chat")

    expect(page.locator("#customer-message-text")).to_have_text(SIGN_IN_AGAIN)
    expect(page.locator("#sign-in-again")).to_be_visible()
    expect(page.locator("#dev-contact-token")).to_have_count(0)
    recorded.screenshot("chat-page-sign-in-again")

    page.click("#sign-in-again")
    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")
    verified_claims(start_chat(recorded))
    expect(page.locator("#customer-message")).to_be_hidden()


@pytest.fixture
def page_with_function_down(chat_stack: ChatStack) -> Iterator[PageServer]:
    """The same page and identity provider, but config.json points at a port where no function listens."""
    dead_function = f"http://127.0.0.1:{free_port()}{CONTACT_TOKEN_PATH}"
    with serve_page(development_config(chat_stack.stack.identity.issuer, dead_function)) as page:
        yield page


def test_function_down_tells_the_customer_chat_is_unavailable(
    page_with_function_down: PageServer, recorded: RecordedPage
) -> None:
    sign_in(recorded, page_with_function_down.url)
    page = recorded.page

    page.click("#dev-start-chat")

    expect(page.locator("#customer-message-text")).to_have_text(UNAVAILABLE)
    expect(page.locator("#customer-message")).to_have_attribute("data-kind", "unavailable")
    expect(page.locator("#sign-in-again")).to_be_hidden()
    expect(page.locator("#dev-contact-token")).to_have_count(0)
    recorded.screenshot("chat-page-function-down")


@pytest.mark.parametrize(
    ("config_body", "named_fields"),
    [
        (
            json.dumps(
                {
                    "msal": {"authority": "http://login.example/tenant", "apiScope": "JWT.Read"},
                    "api": {"contactTokenUrl": f"https://func.example{CONTACT_TOKEN_PATH}"},
                    "widget": {"widgetId": "not-a-uuid"},
                }
            ).encode(),
            ["msal.clientId", "msal.authority", "msal.apiScope", "widget.scriptUrl", "widget.widgetId"],
        ),
        (b"<!doctype html><p>not json</p>", ["config.json"]),
    ],
    ids=["wrong-fields", "not-json"],
)
def test_a_bad_config_json_tells_the_administrator_which_field_is_wrong(
    browser: Browser, config_body: bytes, named_fields: list[str], request: pytest.FixtureRequest
) -> None:
    recorded = open_page(browser)
    try:
        with serve_page(config_body) as page_server:
            recorded.page.goto(page_server.url)
            page = recorded.page
            expect(page.locator("body")).to_have_attribute("data-state", "config-problem")
            listed = page.locator("#config-problem-list li code").all_inner_texts()
            assert set(named_fields) <= set(listed)
            expect(page.locator("#sign-in")).to_be_hidden()
            recorded.screenshot(f"chat-page-bad-config-{request.node.callspec.id}")
            assert recorded.errors == []
    finally:
        recorded.context.close()


def test_sign_out_clears_the_session(chat_stack: ChatStack, recorded: RecordedPage) -> None:
    sign_in(recorded, chat_stack.page.url)
    recorded.page.click("#sign-out")
    expect(recorded.page.locator("body")).to_have_attribute("data-state", "signed-out")
    stored = recorded.page.evaluate("Object.keys(sessionStorage)")
    assert not [key for key in stored if "token" in key.lower()]


def test_without_a_refresh_token_renewal_goes_through_the_hidden_frame_and_the_redirect_bridge(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    """MSAL's last silent resort: a hidden frame to /authorize (prompt=none) that lands on redirect.html, which
    hands the answer back. Exercises the bridge in a frame and the policy's frame-src."""
    sign_in(recorded, chat_stack.page.url)
    key, record = access_token_entry(recorded)
    record["expiresOn"] = record["extendedExpiresOn"] = "1000000000"
    replace_access_token_entry(recorded, key, record)
    recorded.page.evaluate(
        "Object.keys(sessionStorage).filter(k => k.includes('|refreshtoken|'))"
        ".forEach(k => sessionStorage.removeItem(k))"
    )

    token = start_chat(recorded)

    authorize = f"{chat_stack.stack.identity.issuer}/authorize"
    main_frame = recorded.page.main_frame
    frame_requests = [r for r in recorded.requests if r.url.startswith(authorize) and r.frame != main_frame]
    assert frame_requests, "MSAL did not renew through a hidden frame"
    assert "prompt=none" in frame_requests[-1].url
    assert verified_claims(token)["sub"] == DEV_WIDGET_ID
    assert recorded.csp_violations() == []
