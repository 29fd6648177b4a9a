"""Step-up (issue 21) end to end in real Chromium: a widget requiring an authentication context, the function's
claims challenge, MSAL's acquireTokenRedirect with the claims, and the contact token naming the context.

Real parts: the development build of the page, MSAL v5, the local OpenID provider (oauth2-mock-server) answering
the claims request, the function in its own process. Entra's Conditional Access cannot exist here: the local
provider stands in, granting `c1`, denying `c2` (the person does not complete it: error=access_denied) and
ignoring `c3` (a token without it: the second-challenge path). The Connect widget is the development panel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from playwright.sync_api import expect

from tests.static_spa.browser import RecordedPage
from tests.static_spa.test_chat_page_browser import sign_in, start_chat
from tools.dev_certificate import ensure_localhost_certificate
from tools.dev_defaults import (
    DEV_STEP_UP_WIDGET_ID,
    DEV_STEP_UP_WIDGET_SECRET,
    DEV_WIDGET_ID,
    DEV_WIDGET_SECRET,
    function_settings,
)
from tools.dev_identity import DevIdentityConfig, DevIdentityProvider, run_dev_identity
from tools.dev_page import PageServer, development_config, serve_page
from tools.dev_stack import DEV_FOLDER, free_port, run_function

pytestmark = pytest.mark.browser

DENIED_WIDGET_ID = "00000000-0000-0000-0000-0000000000d2"  # requires c2, which the provider denies
IGNORED_WIDGET_ID = "00000000-0000-0000-0000-0000000000d3"  # requires c3, which the provider leaves out
OTHER_SECRET = "fake-refusing-widget-secret-for-tests-only"
CONFIRMING = "This chat asks you to confirm who you are again. Taking you to sign-in…"
CONFIRMED = "Thank you for confirming who you are. Please press start again to begin your chat."
REFUSED = "You did not confirm who you are, so this chat cannot start. Please try again later."
# Records every customer message into sessionStorage, which survives the step-up redirect (same tab, same origin).
RECORD_MESSAGES = """() => {
  const text = document.getElementById('customer-message-text');
  new MutationObserver(() => {
    const seen = JSON.parse(sessionStorage.getItem('test.messages') || '[]');
    seen.push(text.textContent);
    sessionStorage.setItem('test.messages', JSON.stringify(seen));
  }).observe(text, { childList: true, characterData: true, subtree: true });
}"""


@dataclass
class StepUpStack:
    identity: DevIdentityProvider
    function_url: str
    pages: dict[str, PageServer]  # by widget id


@pytest.fixture(scope="module")
def step_up_stack() -> Iterator[StepUpStack]:
    certificate = ensure_localhost_certificate(DEV_FOLDER)
    widget_ids = (DEV_WIDGET_ID, DEV_STEP_UP_WIDGET_ID, DENIED_WIDGET_ID, IGNORED_WIDGET_ID)
    ports = {widget_id: free_port() for widget_id in widget_ids}
    identity_config = DevIdentityConfig(certificate=certificate, auth_context_answers={"c2": "deny", "c3": "ignore"})
    with run_dev_identity(identity_config) as identity:
        settings = function_settings(identity.issuer)
        widgets = json.loads(settings["CONNECT_WIDGETS"])  # the development list: the c1 widget
        widgets[DENIED_WIDGET_ID] = {"secretSetting": "CONNECT_WIDGET_SECRET_DENIED", "requiredAuthContext": "c2"}
        widgets[IGNORED_WIDGET_ID] = {"secretSetting": "CONNECT_WIDGET_SECRET_IGNORED", "requiredAuthContext": "c3"}
        settings.update(
            CONNECT_WIDGETS=json.dumps(widgets),
            CONNECT_WIDGET_SECRET_DENIED=OTHER_SECRET,
            CONNECT_WIDGET_SECRET_IGNORED=OTHER_SECRET + "-2",
        )
        origins = ",".join(f"http://localhost:{port}" for port in ports.values())
        with (
            run_function(free_port(), settings, ca_bundle=certificate.cert_file, cors=origins) as (url, _process),
            ExitStack() as pages_stack,
        ):
            pages: dict[str, PageServer] = {}
            for widget_id, port in ports.items():
                # One page per widget, as one site per queue would be.
                config = development_config(identity.issuer, url, widget_id=widget_id)
                pages[widget_id] = pages_stack.enter_context(serve_page(config, port=port))
            yield StepUpStack(identity, url, pages)


def step_up_requests(recorded: RecordedPage, identity: DevIdentityProvider) -> list[str]:
    """The authorize requests that asked for an authentication context (sign-in asks only for CP1's xms_cc)."""
    asked = []
    for request in recorded.requests_to(f"{identity.issuer}/authorize"):
        claims = parse_qs(urlsplit(request.url).query).get("claims", ["{}"])[0]
        if "acrs" in json.loads(claims).get("access_token", {}):
            asked.append(claims)
    return asked


def signed_in_recording(recorded: RecordedPage, page: PageServer) -> None:
    sign_in(recorded, page.url)
    recorded.page.evaluate(RECORD_MESSAGES)


def messages_seen(recorded: RecordedPage) -> list[str]:
    return json.loads(recorded.page.evaluate("sessionStorage.getItem('test.messages') || '[]'"))


def test_step_up_succeeds_and_the_contact_token_names_the_context(
    step_up_stack: StepUpStack, recorded: RecordedPage
) -> None:
    stack, page = step_up_stack, recorded.page
    signed_in_recording(recorded, stack.pages[DEV_STEP_UP_WIDGET_ID])

    page.click("#dev-start-chat")  # the function challenges; the page redirects for c1 and comes back

    expect(page.locator("#customer-message-text")).to_have_text(CONFIRMED)
    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")
    assert CONFIRMING in messages_seen(recorded)
    (asked,) = step_up_requests(recorded, stack.identity)
    assert json.loads(asked)["access_token"]["acrs"] == {"essential": True, "value": "c1"}
    assert json.loads(asked)["access_token"]["xms_cc"] == {"values": ["CP1"]}  # MSAL merged the capability

    token = start_chat(recorded)  # pressed once more, as asked

    claims = jwt.decode(token, DEV_STEP_UP_WIDGET_SECRET, algorithms=["HS256"], subject=DEV_STEP_UP_WIDGET_ID)
    assert claims["attributes"]["authContext"] == "c1"
    expect(page.locator("#customer-message")).to_be_hidden()
    function_calls = recorded.requests_to(stack.function_url)
    assert len(function_calls) == 2  # the challenged one, then the one with the stepped-up token
    assert len(step_up_requests(recorded, stack.identity)) == 1
    recorded.screenshot("step-up-succeeded")
    assert recorded.errors == []
    assert recorded.csp_violations() == []


def test_a_refused_step_up_ends_with_a_clear_message_and_no_loop(
    step_up_stack: StepUpStack, recorded: RecordedPage
) -> None:
    stack, page = step_up_stack, recorded.page
    signed_in_recording(recorded, stack.pages[DENIED_WIDGET_ID])

    page.click("#dev-start-chat")

    expect(page.locator("#customer-message-text")).to_have_text(REFUSED)
    expect(page.locator("body")).to_have_attribute("data-state", "signed-in")  # still signed in
    page.wait_for_timeout(1000)  # a loop would have left for the identity provider again by now
    assert len(step_up_requests(recorded, stack.identity)) == 1
    assert len(recorded.requests_to(stack.function_url)) == 1
    expect(page.locator("#dev-contact-token")).to_have_count(0)
    recorded.screenshot("step-up-refused")


def test_a_second_challenge_for_the_same_chat_start_ends_with_try_again_later_and_the_invocation_id(
    step_up_stack: StepUpStack, recorded: RecordedPage
) -> None:
    stack, page = step_up_stack, recorded.page
    signed_in_recording(recorded, stack.pages[IGNORED_WIDGET_ID])
    page.click("#dev-start-chat")
    expect(page.locator("#customer-message-text")).to_have_text(CONFIRMED)

    page.click("#dev-start-chat")  # the provider left c3 out: the function challenges again

    message = page.locator("#customer-message-text")
    expect(message).to_contain_text("Please try again later.")
    text = message.text_content() or ""
    assert re.search(r"Reference: [0-9a-f-]{36}\.$", text), text
    page.wait_for_timeout(1000)
    assert len(step_up_requests(recorded, stack.identity)) == 1  # never a second redirect
    assert len(recorded.requests_to(stack.function_url)) == 2
    expect(page.locator("#dev-contact-token")).to_have_count(0)
    recorded.screenshot("step-up-second-challenge")


def test_the_widget_without_a_requirement_never_steps_up(step_up_stack: StepUpStack, recorded: RecordedPage) -> None:
    stack = step_up_stack
    signed_in_recording(recorded, stack.pages[DEV_WIDGET_ID])

    token = start_chat(recorded)

    claims = jwt.decode(token, DEV_WIDGET_SECRET, algorithms=["HS256"], subject=DEV_WIDGET_ID)
    assert "authContext" not in claims["attributes"]
    assert step_up_requests(recorded, stack.identity) == []
    assert messages_seen(recorded) == []
    assert len(recorded.requests_to(stack.function_url)) == 1
