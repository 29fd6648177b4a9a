"""The production build served by Microsoft's Azure Static Web Apps emulator (`swa start`, tools/swa/), in Chromium.

The emulator applies staticwebapp.config.json as Azure does (globalHeaders, routes, navigation fallback), so this
checks the built page under the headers Azure would send, not the ones tools/dev_page.py computes. Amazon Connect's
widget script cannot run here (it needs AWS): the HTTPS stand-in fake_connect_widget.js takes its place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from playwright.sync_api import expect

from tests.static_spa.browser import RecordedPage
from tests.static_spa.conftest import WIDGET_FILE, ChatStack
from tests.static_spa.test_chat_page_browser import sign_in
from tools.dev_defaults import DEV_USERS, DEV_WIDGET_ID, DEV_WIDGET_SECRET
from tools.dev_page import PageServer, development_config
from tools.swa_emulator import SWA_CONFIG, emulator_ready, serve_built_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not emulator_ready(), reason="run scripts/bootstrap node (tools/swa)"),
]


@pytest.fixture(scope="module")
def built_page(chat_stack: ChatStack, production_build: Path, widget_host: str) -> Iterator[PageServer]:
    config = development_config(chat_stack.stack.identity.issuer, chat_stack.function_url)
    config["widget"]["scriptUrl"] = f"{widget_host}/{WIDGET_FILE}"
    with serve_built_page(config, port=chat_stack.spare_page_ports[0], build=production_build) as page:
        yield page


def test_the_emulator_sends_exactly_the_headers_the_built_config_declares(built_page: PageServer) -> None:
    declared = json.loads((built_page.root / SWA_CONFIG).read_text(encoding="utf-8"))
    for path in ("/", "/some/deep/link", "/config.json"):
        response = requests.get(f"http://127.0.0.1:{built_page.port}{path}", timeout=10)
        assert response.status_code == 200, path  # a deep link gets the page: the navigation fallback
        for name, value in declared["globalHeaders"].items():
            assert response.headers.get(name) == value, (path, name)
    config = requests.get(f"http://127.0.0.1:{built_page.port}/config.json", timeout=10)
    assert config.headers["Cache-Control"] == "no-cache"  # the route's own header
    assert config.json()["widget"]["widgetId"] == DEV_WIDGET_ID


def test_the_built_page_signs_in_and_starts_a_chat_under_the_production_policy(
    built_page: PageServer, recorded: RecordedPage
) -> None:
    sign_in(recorded, built_page.url)
    page = recorded.page
    page.click("#fake-widget-launcher")
    handed_over = page.locator("#fake-widget-token")
    expect(handed_over).not_to_be_empty()
    claims = jwt.decode(handed_over.text_content() or "", DEV_WIDGET_SECRET, algorithms=["HS256"], leeway=5)
    assert claims["sub"] == DEV_WIDGET_ID
    assert claims["attributes"]["name"] == next(iter(DEV_USERS.values()))["name"]
    main = next(r for r in recorded.requests if r.url == built_page.url and r.resource_type == "document")
    headers = main.response().all_headers() if main.response() else {}
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "camera=()" in headers["permissions-policy"]
    assert recorded.csp_violations() == []
    assert [line for line in recorded.console if "Permissions policy" in line or "Permissions-Policy" in line] == []
    assert recorded.errors == []
