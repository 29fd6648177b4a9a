"""The development page as a newcomer sees it, in Chromium: at phone width (390 px) no text overflows its box and no
word is broken across lines; the development panel says what it is, shows a failure with its code, and says what
"authenticate twice" proved. Screenshots go to test-artifacts/ (not committed) for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.static_spa.browser import RecordedPage
from tests.static_spa.conftest import ChatStack
from tests.static_spa.test_chat_page_browser import sign_in
from tools.dev_page import development_config, serve_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

# For every visible element with its own text: does it overflow its box, and is any word of it split over two lines?
# The contact token (<code>, one 400-character "word") is the only text allowed to break anywhere.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  for (const element of document.querySelectorAll("body *")) {
    const style = getComputedStyle(element);
    if (style.display === "none" || element.closest("[hidden]") || element.closest("#dev-contact-token")) continue;
    if (element.getClientRects().length === 0) continue;
    if (element.scrollWidth > element.clientWidth + 1 && style.overflowX === "visible" && element.clientWidth > 0) {
      problems.push(`${element.tagName}#${element.id}: content ${element.scrollWidth} px in ${element.clientWidth} px`);
    }
    for (const node of element.childNodes) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        if (match[0].length < 2 || /^[0-9a-f-]{36}$|^[0-9T:.Z-]{20,}$/i.test(match[0])) continue;
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) problems.push(`"${match[0]}" in ${element.tagName}#${element.id} is split over lines`);
      }
    }
  }
  return problems;
}"""


@pytest.fixture
def sized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[RecordedPage]:
    context = browser.new_context(viewport=request.param)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield RecordedPage(page, context)
    finally:
        context.close()


def start_and_show_everything(page: Page) -> None:
    page.click("#dev-start-chat")
    page.locator("#dev-contact-token").wait_for(state="attached")
    page.click("summary")


@pytest.mark.parametrize("sized", [PHONE, DESKTOP], indirect=True, ids=["390px", "desktop"])
def test_no_text_overflows_and_no_word_is_broken(chat_stack: ChatStack, sized: RecordedPage) -> None:
    sign_in(sized, chat_stack.page.url)
    start_and_show_everything(sized.page)
    width = sized.page.viewport_size["width"] if sized.page.viewport_size else 0
    sized.screenshot(f"page-layout-{width}px")
    assert sized.page.evaluate(LAYOUT_PROBLEMS) == []
    assert sized.page.evaluate("document.documentElement.scrollWidth") <= width
    sign_out = sized.page.locator("#sign-out").bounding_box()
    assert sign_out is not None and sign_out["height"] < 48  # one line


def test_the_panel_says_what_it_is_and_what_authenticate_twice_proved(
    chat_stack: ChatStack, recorded: RecordedPage
) -> None:
    sign_in(recorded, chat_stack.page.url)
    expect(recorded.page.locator("#signed-in-text")).to_contain_text("there is no chat button")
    recorded.page.click("#dev-start-chat-twice")
    expect(recorded.page.locator("#dev-summary")).to_have_text("2 authenticate calls, 1 token request, 1 chat")


def test_a_failed_request_shows_its_code_in_the_panel(chat_stack: ChatStack, recorded: RecordedPage) -> None:
    config = development_config(chat_stack.stack.identity.issuer, chat_stack.function_url)
    config["widget"]["widgetId"] = "00000000-0000-0000-0000-0000000000ff"  # not configured: 400 unknown_widget
    with serve_page(config, port=chat_stack.spare_page_ports[1]) as page:
        sign_in(recorded, page.url)
        recorded.page.click("#dev-start-chat")
        expect(recorded.page.locator("#dev-failure-code")).to_have_text("unknown_widget")
        expect(recorded.page.locator("#dev-waiting")).to_have_count(0)
        recorded.screenshot("page-development-panel-failure")
