"""Web and video calling through the widget, in real Chromium with fake media devices, under the page's headers.

Amazon Connect's calling widget cannot run here (it needs AWS and Amazon Chime): fake_connect_widget.js stands in
for its script, and fake_call_frame.html for its frame, served from the widget's own origin (a second loopback
origin, https://localhost:<other port>), as the hosted widget's frame is. A call gets its contact token through
the page's `authenticate` callback, exactly as a chat does, hands it to the frame, and the frame opens the
microphone (and camera for video). Everything else is real: the production bundle, MSAL, the local identity
provider, the function, and the production headers that the deploy hook computes (tools/dev_page.py runs
static_spa/scripts/csp.mjs --write on staticwebapp.base.json).

The same calls under the headers the page sent before calling was supported must fail: that is the regression
test of the policy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.static_spa.browser import CHROMIUM_ARGS, RecordedPage, chromium_path, open_page
from tests.static_spa.conftest import WIDGET_FILE, ChatStack
from tests.static_spa.test_chat_page_browser import sign_in
from tools.dev_defaults import DEV_USERS, DEV_WIDGET_ID, DEV_WIDGET_SECRET
from tools.dev_page import PageServer, development_config, serve_page, static_web_app_headers

pytestmark = pytest.mark.browser
CALLING_ARGS = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
# The Permissions-Policy staticwebapp.config.json sent before calling (commit c3d4359): camera refused outright,
# microphone left to the default allowlist.
PERMISSIONS_POLICY_BEFORE_CALLING = "camera=(), geolocation=(), payment=(), usb=()"
DEV_NAME = str(next(iter(DEV_USERS.values()))["name"])


@pytest.fixture(scope="module")
def calling_browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CALLING_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def caller(calling_browser: Browser) -> Iterator[RecordedPage]:
    page = open_page(calling_browser)
    try:
        yield page
    finally:
        page.context.close()


def widget_config(chat_stack: ChatStack, widget_host: str, modes: list[str]) -> dict:
    config = development_config(chat_stack.stack.identity.issuer, chat_stack.function_url)
    config["widget"]["scriptUrl"] = f"{widget_host}/{WIDGET_FILE}"
    config["widget"]["modes"] = modes
    return config


@pytest.fixture(scope="module")
def calling_page(chat_stack: ChatStack, production_build: Path, widget_host: str) -> Iterator[PageServer]:
    """The production page for a widget that chats and calls, with the headers a deployment would send."""
    config = widget_config(chat_stack, widget_host, ["chat", "voice", "video"])
    with serve_page(config, root=production_build, port=chat_stack.spare_page_ports[0]) as page:
        yield page


@pytest.fixture(scope="module")
def page_before_calling(chat_stack: ChatStack, production_build: Path, widget_host: str) -> Iterator[PageServer]:
    """The same page and widget under the headers of before: the chat-only policy with the old Permissions-Policy."""
    config = widget_config(chat_stack, widget_host, ["chat", "voice", "video"])
    headers = static_web_app_headers(widget_config(chat_stack, widget_host, ["chat"]))
    headers["Permissions-Policy"] = PERMISSIONS_POLICY_BEFORE_CALLING
    with serve_page(config, root=production_build, port=chat_stack.spare_page_ports[1], headers=headers) as page:
        yield page


@pytest.fixture(scope="module")
def chat_only_page(chat_stack: ChatStack, production_build: Path, widget_host: str) -> Iterator[PageServer]:
    """A deployment whose widget only chats: its headers refuse the microphone and camera to every frame."""
    config = widget_config(chat_stack, widget_host, ["chat"])
    with serve_page(config, root=production_build, port=chat_stack.spare_page_ports[2]) as page:
        yield page


def start_call(recorded: RecordedPage, page_url: str, button: str) -> dict[str, str]:
    """Signs in, presses the stand-in widget's call button and returns what the call frame reported."""
    sign_in(recorded, page_url)
    recorded.page.click(button)
    result = recorded.page.locator("#fake-widget-call-result")
    expect(result).to_have_attribute("data-outcome", re.compile(r"connected|refused"))
    return {
        "outcome": result.get_attribute("data-outcome") or "",
        "tracks": result.get_attribute("data-tracks") or "",
        "error": result.get_attribute("data-error") or "",
        "token": result.text_content() or "",
        "displayName": result.get_attribute("data-display-name") or "",
    }


def assert_verified_contact_token(token: str) -> None:
    claims = jwt.decode(token, DEV_WIDGET_SECRET, algorithms=["HS256"], leeway=5)
    assert claims["sub"] == DEV_WIDGET_ID
    assert claims["attributes"]["name"] == DEV_NAME


def test_the_page_says_chat_or_call_for_a_calling_widget(calling_page: PageServer, caller: RecordedPage) -> None:
    sign_in(caller, calling_page.url)
    expect(caller.page.locator("h1")).to_have_text("Chat or call us")
    expect(caller.page).to_have_title("Chat or call us")


def test_a_video_call_gets_its_contact_token_and_opens_microphone_and_camera_in_the_widget_frame(
    calling_page: PageServer, widget_host: str, caller: RecordedPage
) -> None:
    call = start_call(caller, calling_page.url, "#fake-widget-video-call")
    assert call["outcome"] == "connected", call["error"]
    assert sorted(call["tracks"].split(",")) == ["audio:live", "video:live"]
    assert_verified_contact_token(call["token"])
    assert call["displayName"] == DEV_NAME
    frame = caller.page.locator("#fake-widget-call-frame")
    expect(frame).to_have_attribute("src", f"{widget_host}/fake_call_frame.html")
    caller.screenshot("calling-video-call-connected")
    assert caller.csp_violations() == []
    assert caller.errors == []


def test_a_voice_call_opens_the_microphone_only(calling_page: PageServer, caller: RecordedPage) -> None:
    call = start_call(caller, calling_page.url, "#fake-widget-voice-call")
    assert call["outcome"] == "connected", call["error"]
    assert call["tracks"] == "audio:live"
    assert_verified_contact_token(call["token"])


def test_under_the_headers_of_before_a_video_call_is_refused_the_camera(
    page_before_calling: PageServer, caller: RecordedPage
) -> None:
    """`camera=()` refuses the camera to every frame: Chromium answers a request for both with the microphone
    only (the old policy left the microphone to its default allowlist), so the video call has no video."""
    call = start_call(caller, page_before_calling.url, "#fake-widget-video-call")
    assert "video:live" not in call["tracks"].split(",")
    assert call["tracks"] in ("", "audio:live")
    assert_verified_contact_token(call["token"])  # the token arrived: only the policy stopped the video


def test_a_chat_only_deployment_refuses_the_microphone_to_the_widget_frame(
    chat_only_page: PageServer, caller: RecordedPage
) -> None:
    call = start_call(caller, chat_only_page.url, "#fake-widget-voice-call")
    assert call["outcome"] == "refused"
    assert call["error"] == "NotAllowedError"
