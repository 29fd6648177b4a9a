"""tools/dev_page.py: the local host of the chat page, over real HTTP on loopback (no browser)."""

from __future__ import annotations

import json
from shared.routes import CONTACT_TOKEN_PATH
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tools.dev_defaults import DEV_API_SCOPE, DEV_SPA_CLIENT_ID, DEV_WIDGET_ID
from tools.dev_page import PageServer, development_config, serve_page

AUTHORITY = "https://localhost:7443"
FUNCTION = f"http://127.0.0.1:7071{CONTACT_TOKEN_PATH}"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>page</title>", encoding="utf-8")
    (tmp_path / "redirect.html").write_text("<!doctype html><title>bridge</title>", encoding="utf-8")
    (tmp_path / "assets" / "main.js").write_text("export {};", encoding="utf-8")
    (tmp_path.parent / "outside.txt").write_text("not for the browser", encoding="utf-8")
    return tmp_path


@pytest.fixture
def server(site: Path) -> Iterator[PageServer]:
    with serve_page(development_config(AUTHORITY, FUNCTION), root=site) as page:
        yield page


def get(server: PageServer, path: str) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{server.port}{path}", timeout=5)


def test_development_config_points_msal_at_the_local_provider_in_oidc_mode() -> None:
    config = development_config(AUTHORITY, FUNCTION)
    assert config["msal"] == {
        "clientId": DEV_SPA_CLIENT_ID,
        "authority": AUTHORITY,
        "apiScope": DEV_API_SCOPE,
        "knownAuthorities": ["localhost:7443"],
        "protocolMode": "OIDC",
    }
    assert config["api"]["contactTokenUrl"] == FUNCTION
    assert config["widget"]["widgetId"] == DEV_WIDGET_ID
    assert config["widget"]["scriptUrl"].startswith("https://")


def test_serves_the_generated_config_json(server: PageServer) -> None:
    response = get(server, "/config.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == development_config(AUTHORITY, FUNCTION)
    assert server.url == f"http://localhost:{server.port}/"


def test_sends_the_static_web_app_headers_with_a_policy_for_the_local_origins(server: PageServer) -> None:
    for path in ("/", "/redirect.html", "/assets/main.js"):
        response = get(server, path)
        assert response.status_code == 200
        headers = {name.lower() for name in response.headers}
        assert "cross-origin-opener-policy" not in headers, "MSAL's redirect bridge must not get COOP"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = dict(d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";"))
        assert AUTHORITY in policy["connect-src"].split()
        assert "http://127.0.0.1:7071" in policy["connect-src"].split()
        assert "'unsafe-inline'" not in policy["script-src"]
        # a chat-only widget (the development default): no frame gets the microphone or camera
        features = dict(f.split("=", 1) for f in response.headers["Permissions-Policy"].split(", "))
        assert (features["camera"], features["microphone"]) == ("()", "()")


def test_navigation_falls_back_to_the_page_but_missing_files_are_404(server: PageServer) -> None:
    assert "page" in get(server, "/some/deep/link").text
    assert get(server, "/assets/missing.js").status_code == 404


@pytest.mark.parametrize("path", ["/../outside.txt", "/%2e%2e/outside.txt", "/assets/../../outside.txt"])
def test_never_serves_files_outside_the_build(server: PageServer, path: str) -> None:
    response = get(server, path)
    assert "not for the browser" not in response.text


def test_serves_a_broken_config_json_as_given(site: Path) -> None:
    with serve_page(b"{not json", root=site) as page:
        response = get(page, "/config.json")
    assert response.content == b"{not json"


def test_head_sends_headers_without_a_body(server: PageServer) -> None:
    response = requests.head(f"http://127.0.0.1:{server.port}/config.json", timeout=5)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(json.dumps(development_config(AUTHORITY, FUNCTION), indent=2))
    assert response.content == b""
