"""Metrics and spans, read back from the OpenTelemetry SDK's in-memory reader and exporter that the suite's
telemetry plugin (tests/security/telemetry_hygiene.py) installed as the global providers, the way the Functions
worker installs Azure Monitor's. The function's code only uses the API."""

from __future__ import annotations

import ast
from pathlib import Path

from opentelemetry.trace import StatusCode

from shared.telemetry import (
    CONFIGURATION_LOAD_SPAN,
    CONFIGURATION_LOADS_METRIC,
    DURATION_METRIC,
    KEY_FETCH_SPAN,
    KEY_FETCHES_METRIC,
    REQUEST_SPAN,
    REQUESTS_METRIC,
    bounded_code,
)
from tests.security.telemetry_hygiene import TelemetryCapture, counts_delta
from tools.paths import REPO_ROOT
from tools.testkit.fake_entra import FakeEntra
from tools.testkit.function_http import call_function, function_using
from tools.testkit.service import FakeClock, base_settings, make_service
from tools.testkit.tokens import SigningKey, access_token, entra_v2_claims


def _attrs(**values: object) -> frozenset:
    return frozenset(values.items())


def test_every_request_is_counted_and_timed_by_outcome_and_status(
    fake_entra: FakeEntra, telemetry: TelemetryCapture
) -> None:
    before = telemetry.points()
    with function_using(make_service(base_settings(fake_entra.authority))):
        assert call_function(f"Bearer {access_token(fake_entra.key)}").status == 200
        assert call_function(None).status == 401
        assert call_function(f"Bearer {access_token(fake_entra.key, entra_v2_claims(exp=1))}").code == "token_expired"
        assert call_function(f"Bearer {access_token(fake_entra.key, entra_v2_claims(scp='Other'))}").status == 403
    after = telemetry.points()
    expected = {
        _attrs(outcome="issued", **{"http.response.status_code": 200}): 1,
        _attrs(outcome="missing_token", **{"http.response.status_code": 401}): 1,
        _attrs(outcome="token_expired", **{"http.response.status_code": 401}): 1,
    }
    requests = counts_delta(before, after, REQUESTS_METRIC)
    assert {k: v for k, v in requests.items() if k in expected} == expected
    assert sum(requests.values()) == 4
    assert [status for attrs in requests for key, status in attrs if key == "http.response.status_code"].count(403) == 1
    durations = counts_delta(before, after, DURATION_METRIC)
    assert durations == requests  # one duration record per request, with the same attributes


def test_configuration_errors_are_counted_as_their_503_code(telemetry: TelemetryCapture) -> None:
    before = telemetry.points()
    with function_using(make_service({"ENTRA_TENANT_ID": "not-a-guid"})):
        assert call_function("Bearer x.y.z").code == "configuration_invalid"
    requests = counts_delta(before, telemetry.points(), REQUESTS_METRIC)
    assert requests == {_attrs(outcome="configuration_invalid", **{"http.response.status_code": 503}): 1}
    loads = counts_delta(before, telemetry.points(), CONFIGURATION_LOADS_METRIC)
    assert loads == {_attrs(result="success"): 1}  # the settings were read; they are invalid (the 503 says so)


def test_a_request_span_holds_the_outcome_and_the_key_fetch_is_its_child(
    fake_entra: FakeEntra, telemetry: TelemetryCapture
) -> None:
    telemetry.scan_new("(clearing spans of earlier tests)")
    with function_using(make_service(base_settings(fake_entra.authority))):
        call_function(f"Bearer {access_token(fake_entra.key)}")
    (request,) = telemetry.spans(REQUEST_SPAN)
    (fetch,) = telemetry.spans(KEY_FETCH_SPAN)
    (load,) = telemetry.spans(CONFIGURATION_LOAD_SPAN)
    assert dict(request.attributes) == {"outcome": "issued", "http.response.status_code": 200}
    assert fetch.parent is not None and fetch.parent.span_id == request.context.span_id
    assert load.parent is not None and load.parent.span_id == request.context.span_id


def test_a_failed_key_fetch_is_counted_and_its_span_marked_failed_by_type_only(
    fake_entra: FakeEntra, telemetry: TelemetryCapture
) -> None:
    fake_entra.state.keys_mode = "error"
    telemetry.scan_new("(clearing spans of earlier tests)")
    before = telemetry.points()
    with function_using(make_service(base_settings(fake_entra.authority))):
        answer = call_function(f"Bearer {access_token(fake_entra.key)}")
    assert answer.code == "signing_keys_unavailable"
    fetches = counts_delta(before, telemetry.points(), KEY_FETCHES_METRIC)
    assert fetches == {_attrs(result="failure", reason="start"): 1}
    (fetch,) = telemetry.spans(KEY_FETCH_SPAN)
    assert fetch.status.status_code is StatusCode.ERROR
    assert fetch.status.description == "FetchError"  # the message (URLs) stays in the log, not in the span
    (request,) = telemetry.spans(REQUEST_SPAN)
    assert request.status.status_code is StatusCode.ERROR


def test_key_fetches_are_counted_by_reason_start_unknown_kid_and_scheduled(
    fake_entra: FakeEntra, signing_keys: list[SigningKey], telemetry: TelemetryCapture
) -> None:
    clock = FakeClock(1_000_000.0)
    before = telemetry.points()
    service = make_service(base_settings(fake_entra.authority), monotonic=clock)
    with function_using(service):
        call_function(f"Bearer {access_token(fake_entra.key)}")  # start
        fake_entra.state.keys.append(signing_keys[1])
        call_function(f"Bearer {access_token(signing_keys[1])}")  # unknown kid: refreshed at once
        clock.advance(25 * 3600)
        call_function(f"Bearer {access_token(fake_entra.key)}")  # stale: scheduled refresh in the background
        service.join_background()
    fetches = counts_delta(before, telemetry.points(), KEY_FETCHES_METRIC)
    assert fetches == {
        _attrs(result="success", reason="start"): 1,
        _attrs(result="success", reason="unknown_kid"): 1,
        _attrs(result="success", reason="scheduled"): 1,
    }


def test_health_calls_are_not_counted_as_contact_token_requests(
    fake_entra: FakeEntra, telemetry: TelemetryCapture
) -> None:
    before = telemetry.points()
    service = make_service(base_settings(fake_entra.authority))
    assert service.readiness().ready
    assert counts_delta(before, telemetry.points(), REQUESTS_METRIC) == {}


def test_outcome_attributes_are_bounded_codes() -> None:
    assert bounded_code("token_expired") == "token_expired"
    assert bounded_code("eyJhbGciOiJSUzI1NiJ9.payload") == "other"
    assert bounded_code("a" * 80) == "other"


def test_the_app_uses_only_the_opentelemetry_api_and_never_sets_a_provider() -> None:
    """No SDK, no distro, no configure_azure_monitor, no set_*_provider in the function's code."""
    sources = [REPO_ROOT / "function_app.py", *sorted((REPO_ROOT / "shared").glob("*.py"))]
    for path in sources:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for name in names:
                    assert not name.startswith(("opentelemetry.sdk", "azure.monitor")), (path, name)
            if isinstance(node, ast.Attribute | ast.Name):
                name = node.attr if isinstance(node, ast.Attribute) else node.id
                assert name not in {"configure_azure_monitor", "set_meter_provider", "set_tracer_provider"}, path
