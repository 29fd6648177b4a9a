"""Fixtures for the chat page tests: the whole local stack on free ports, the page, and real Chromium."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.static_spa.browser import CHROMIUM_ARGS, RecordedPage, chromium_path, open_page
from tools.dev_certificate import ensure_localhost_certificate
from tools.dev_page import PageServer, development_config, serve_page
from tools.dev_stack import DEV_FOLDER, DevStack, free_port, run_stack
from tools.swa_emulator import build_production_page

# The stand-ins for Amazon Connect's widget script and its frame live beside this file.
WIDGET_DIR = Path(__file__).resolve().parent
WIDGET_FILE = "fake_connect_widget.js"


@dataclass
class ChatStack:
    stack: DevStack
    page: PageServer
    production_page_port: int  # a second origin the function accepts, for the production build
    spare_page_ports: tuple[int, ...]  # more origins the function accepts (pages served with other headers)

    @property
    def function_url(self) -> str:
        return self.stack.function_url


@pytest.fixture(scope="module")
def chat_stack() -> Iterator[ChatStack]:
    """Identity provider (HTTPS), function and page, as `scripts/run` starts them, on free loopback ports."""
    page_port, production_page_port = free_port(), free_port()
    spare_ports = (free_port(), free_port(), free_port())
    origins = ",".join(f"http://localhost:{port}" for port in (page_port, production_page_port, *spare_ports))
    with (
        run_stack(cors=origins) as stack,
        serve_page(development_config(stack.identity.issuer, stack.function_url), port=page_port) as page,
    ):
        yield ChatStack(stack, page, production_page_port, spare_ports)


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


@pytest.fixture(scope="session")
def production_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The production build (the real widget script is loaded from config.json), into a temporary folder."""
    return build_production_page(tmp_path_factory.mktemp("production-build"))


@pytest.fixture(scope="session")
def widget_host() -> Iterator[str]:
    """HTTPS on loopback (config.json only accepts an https widget script), with the stack's test certificate."""
    certificate = ensure_localhost_certificate(DEV_FOLDER)
    handler = partial(SimpleHTTPRequestHandler, directory=str(WIDGET_DIR))
    handler.log_message = lambda *_args: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
