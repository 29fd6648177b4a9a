"""The local runner serves function_app.py over real HTTP on loopback, like `func start` would."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests

from shared.routes import CONTACT_TOKEN_PATH, CONTACT_TOKEN_ROUTE
from tools.local_runner import (
    apply_values,
    host_query_params,
    load_host,
    read_host_settings,
    route_path,
    route_pattern,
    serve,
)
from tools.paths import REPO_ROOT
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.service import base_settings, decode_contact_token
from tools.testkit.tokens import WIDGET_ID, access_token


@pytest.fixture
def runner(fake_entra: FakeEntra, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import function_app

    settings = {
        "IsEncrypted": False,
        "Values": base_settings(fake_entra.authority),
        "Host": {"CORS": "http://localhost:5173"},
    }
    settings_file = tmp_path / "local.settings.json"
    settings_file.write_text(json.dumps(settings))
    for name in settings["Values"]:
        monkeypatch.delenv(name, raising=False)
    function_app.contact_token_service.cache_clear()
    host = load_host(REPO_ROOT, settings_file)
    with serve(host, 0) as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    function_app.contact_token_service.cache_clear()


def test_serves_the_function_under_the_host_json_route_prefix(runner: str, fake_entra: FakeEntra) -> None:
    response = requests.get(
        f"{runner}{CONTACT_TOKEN_PATH}",
        headers={"Authorization": f"Bearer {access_token(fake_entra.key)}", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    assert decode_contact_token(response.json()["data"])["attributes"]["name"] == "Ada Lovelace"


def test_errors_keep_their_headers_over_http(runner: str) -> None:
    response = requests.post(f"{runner}{CONTACT_TOKEN_PATH}", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "missing_token"


def test_unknown_paths_and_methods(runner: str) -> None:
    assert requests.get(f"{runner}/api/nothing", timeout=10).status_code == 404
    assert requests.get(f"{runner}/{CONTACT_TOKEN_ROUTE}", timeout=10).status_code == 404
    assert requests.delete(f"{runner}{CONTACT_TOKEN_PATH}", timeout=10).status_code == 405


def test_cors_follows_local_settings(runner: str, fake_entra: FakeEntra) -> None:
    preflight = requests.options(
        f"{runner}{CONTACT_TOKEN_PATH}",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization"
    stranger = requests.get(f"{runner}{CONTACT_TOKEN_PATH}", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_route_templates_and_host_settings(tmp_path: Path) -> None:
    assert route_pattern(route_path("api", "items/{id:int}")).match("/api/items/42")["id"] == "42"
    assert route_pattern(route_path("", "health")).match("/health")
    (tmp_path / "host.json").write_text('{"extensions": {"http": {"routePrefix": "v1"}}}')
    host = read_host_settings(tmp_path, {"Host": {"CORS": "*", "LocalHttpPort": 9000}})
    assert (host.route_prefix, host.cors_origins, host.port) == ("v1", ("*",), 9000)


def test_environment_wins_over_local_settings_and_the_runner_says_so_by_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="local_runner")
    environ = {"REQUESTS_CA_BUNDLE": "/etc/ssl/corporate.pem", "SAME": "1"}
    apply_values({"REQUESTS_CA_BUNDLE": ".dev/localhost.crt", "SAME": "1", "NEW": 5}, environ)
    assert environ == {"REQUESTS_CA_BUNDLE": "/etc/ssl/corporate.pem", "SAME": "1", "NEW": "5"}
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == ["REQUESTS_CA_BUNDLE is set in the environment: it overrides the value in local.settings.json"]


def test_each_request_is_logged_with_its_status_never_its_query(runner: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="local_runner")
    requests.post(f"{runner}{CONTACT_TOKEN_PATH}?code=sign-in-code-not-for-logs", timeout=10)
    requests.get(f"{runner}/api/nothing", timeout=10)
    lines = [record.getMessage() for record in caplog.records]
    assert f"POST {CONTACT_TOKEN_PATH} 401" in lines
    assert "GET /api/nothing 404" in lines
    assert not any("sign-in-code" in line for line in lines)


def test_a_refused_preflight_names_the_origin_and_the_setting_that_allows_it(
    runner: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="local_runner")
    preflight = requests.options(
        f"{runner}{CONTACT_TOKEN_PATH}",
        headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "refused the CORS preflight from origin http://127.0.0.1:5173" in warnings[0]
    assert "allowed: http://localhost:5173" in warnings[0]
    assert "Host.CORS in local.settings.json" in warnings[0]


# How Azure builds req.params (azure-functions-host ToRpcHttp + ASP.NET Core's query collection, Python worker
# without UseNullableValueDictionaryForHttp): names case-insensitive, first spelling kept; repeated values joined
# by "," with empty ones skipped (StringValues.ToString); a name left with no value is not passed at all.
QUERY_TABLE = [
    ("", {}),
    ("widgetId=a", {"widgetId": "a"}),
    ("widgetId=", {}),
    ("widgetId", {}),
    ("widgetId=a&widgetId=b", {"widgetId": "a,b"}),
    ("widgetId=a&widgetId=&widgetId=b", {"widgetId": "a,b"}),
    ("widgetId=&widgetId=", {}),
    ("widgetId=&widgetId=b", {"widgetId": "b"}),
    ("widgetId=a&WIDGETID=b", {"widgetId": "a,b"}),
    ("widgetid=a", {"widgetid": "a"}),
    ("widgetId=a%2Cb+c", {"widgetId": "a,b c"}),
]


@pytest.mark.parametrize(("query", "params"), QUERY_TABLE)
def test_query_parameters_reach_the_function_as_azure_passes_them(query: str, params: dict[str, str]) -> None:
    assert host_query_params(query) == params


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("widgetId=", 200, None),  # empty: the default widget, on every host
        (f"widgetId={WIDGET_ID}", 200, None),
        (f"widgetId={WIDGET_ID}&widgetId={WIDGET_ID}", 400, "unknown_widget"),  # "id,id" as in Azure
        (f"widgetId={WIDGET_ID}&widgetId=", 200, None),  # the empty value is skipped when joining
    ],
)
def test_widget_id_parameters_get_the_answer_azure_gives(
    runner: str, fake_entra: FakeEntra, query: str, status: int, code: str | None
) -> None:
    response = requests.get(
        f"{runner}{CONTACT_TOKEN_PATH}?{query}",
        headers={"Authorization": f"Bearer {access_token(fake_entra.key)}"},
        timeout=10,
    )
    assert response.status_code == status, response.text
    if code is None:
        decode_contact_token(response.text)
    else:
        assert response.json()["code"] == code
