"""Fixtures for the chat page tests: the whole local stack on free ports, the page, and real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.static_spa.browser import CHROMIUM_ARGS, RecordedPage, chromium_path, open_page
from tools.dev_page import PageServer, development_config, serve_page
from tools.dev_stack import DevStack, free_port, run_stack


@dataclass
class ChatStack:
    stack: DevStack
    page: PageServer
    production_page_port: int  # a second origin the function accepts, for the production build

    @property
    def function_url(self) -> str:
        return self.stack.function_url


@pytest.fixture(scope="module")
def chat_stack() -> Iterator[ChatStack]:
    """Identity provider (HTTPS), function and page, as `scripts/run` starts them, on free loopback ports."""
    page_port, production_page_port = free_port(), free_port()
    origins = f"http://localhost:{page_port},http://localhost:{production_page_port}"
    with (
        run_stack(cors=origins) as stack,
        serve_page(development_config(stack.identity.issuer, stack.function_url), port=page_port) as page,
    ):
        yield ChatStack(stack, page, production_page_port)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def recorded(browser: Browser) -> Iterator[RecordedPage]:
    page = open_page(browser)
    try:
        yield page
    finally:
        page.context.close()
