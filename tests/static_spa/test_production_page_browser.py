"""The production build of the chat page in real Chromium: the widget script is loaded from config.json.

Amazon Connect's widget script cannot run here (it needs AWS): a test script served over HTTPS on loopback
(fake_connect_widget.js) stands in for it and, like the real one, drains the amazon_connect queue and calls the
page's authenticate callback when its launcher is clicked. Everything else is real: the production bundle,
MSAL, the local identity provider, the function, and the production Content-Security-Policy for these origins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import expect

from tests.static_spa.browser import RecordedPage
from tests.static_spa.conftest import WIDGET_FILE, ChatStack
from tests.static_spa.test_chat_page_browser import sign_in
from tools.dev_defaults import DEV_USERS, DEV_WIDGET_ID, DEV_WIDGET_SECRET
from tools.dev_page import PageServer, development_config, serve_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def production_page(chat_stack: ChatStack, production_build: Path, widget_host: str) -> Iterator[PageServer]:
    config = development_config(chat_stack.stack.identity.issuer, chat_stack.function_url)
    config["widget"]["scriptUrl"] = f"{widget_host}/{WIDGET_FILE}"
    with serve_page(config, root=production_build, port=chat_stack.production_page_port) as page:
        yield page


def test_production_page_loads_the_configured_widget_and_hands_it_a_verified_contact_token(
    chat_stack: ChatStack, production_page: PageServer, widget_host: str, recorded: RecordedPage
) -> None:
    sign_in(recorded, production_page.url)
    page = recorded.page
    script = page.locator(f"script[id='{DEV_WIDGET_ID}']")
    expect(script).to_have_attribute("src", f"{widget_host}/{WIDGET_FILE}")
    expect(page.locator("#dev-panel")).to_have_count(0)

    page.click("#fake-widget-launcher")
    handed_over = page.locator("#fake-widget-token")
    expect(handed_over).not_to_be_empty()

    claims = jwt.decode(handed_over.text_content() or "", DEV_WIDGET_SECRET, algorithms=["HS256"], leeway=5)
    assert claims["sub"] == DEV_WIDGET_ID
    assert claims["attributes"]["name"] == next(iter(DEV_USERS.values()))["name"]
    expect(handed_over).to_have_attribute("data-display-name", claims["attributes"]["name"])
    recorded.screenshot("chat-page-production-build-signed-in")
    assert recorded.csp_violations() == []
    assert recorded.errors == []


def test_production_page_sign_out_removes_the_widget_and_its_chat_before_leaving(
    chat_stack: ChatStack, production_page: PageServer, recorded: RecordedPage
) -> None:
    """The stand-in widget keeps its chat in sessionStorage and adds elements to the body, as the hosted one does.
    The identity provider's sign-out page is held (answered 204, so the browser stays) to look at the page as the
    sign-out redirect leaves it."""
    sign_in(recorded, production_page.url)
    page = recorded.page
    page.click("#fake-widget-launcher")
    expect(page.locator("#fake-widget-chat")).not_to_be_empty()
    assert page.evaluate("sessionStorage.getItem('persistedChatSession')") is not None
    page.route(f"{chat_stack.stack.identity.issuer}/endsession*", lambda route: route.fulfill(status=204))

    page.click("#sign-out")
    with page.expect_request(lambda request: "/endsession" in request.url):
        page.click("#sign-out-confirm")

    expect(page.locator("#fake-widget-launcher")).to_have_count(0)
    expect(page.locator(f"script[id='{DEV_WIDGET_ID}']")).to_have_count(0)
    assert page.evaluate("sessionStorage.getItem('persistedChatSession')") is None
    assert recorded.csp_violations() == []
