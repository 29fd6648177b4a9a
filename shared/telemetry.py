"""Metrics and spans through the OpenTelemetry API only: the Azure Functions Python worker owns the SDK.

In Azure, `PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY=true` makes the worker call `configure_azure_monitor()`,
which sets the global MeterProvider and TracerProvider; this module never sets or replaces either. The meter
and tracer are taken from the global API on first use, and the API's proxies forward to a provider set later
(the worker's, or the tests' in-memory one). With no provider at all every call is a no-op.

Attribute values are bounded: outcome codes from shared/errors.py (anything else becomes "other"), HTTP status
codes, and the fixed words below. Never a token, a claim value, a user id or a secret.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Literal, ParamSpec, TypeVar

from opentelemetry import metrics, trace
from opentelemetry.trace import Span, Status, StatusCode

from shared.errors import ContactTokenError

METER_NAME = "connect_sso"
# Dashboards and alerts (infra/azure/modules/alerts.bicep, workbook.bicep) query these exact names.
REQUESTS_METRIC = "connect_sso.contact_token.requests"
DURATION_METRIC = "connect_sso.contact_token.duration"
KEY_FETCHES_METRIC = "connect_sso.signing_keys.fetches"
CONFIGURATION_LOADS_METRIC = "connect_sso.configuration.loads"
CHAT_HISTORY_METRIC = "connect_sso.chat_history.operations"
METRIC_NAMES = (REQUESTS_METRIC, DURATION_METRIC, KEY_FETCHES_METRIC, CONFIGURATION_LOADS_METRIC, CHAT_HISTORY_METRIC)
# Spans (in Application Insights: the dependencies table, type InProc).
REQUEST_SPAN = "connect_sso.contact_token"
KEY_FETCH_SPAN = "connect_sso.signing_keys.fetch"
CONFIGURATION_LOAD_SPAN = "connect_sso.configuration.load"
SPAN_NAMES = (REQUEST_SPAN, KEY_FETCH_SPAN, CONFIGURATION_LOAD_SPAN)

OUTCOME_ISSUED = "issued"
OUTCOME_ATTRIBUTE = "outcome"
STATUS_ATTRIBUTE = "http.response.status_code"
RESULT_ATTRIBUTE = "result"
REASON_ATTRIBUTE = "reason"
OPERATION_ATTRIBUTE = "operation"
ATTRIBUTE_NAMES = (OUTCOME_ATTRIBUTE, STATUS_ATTRIBUTE, RESULT_ATTRIBUTE, REASON_ATTRIBUTE, OPERATION_ATTRIBUTE)
CHAT_HISTORY_OPERATIONS = ("store", "lookup", "forget")
# RefreshingValue's load reasons -> the metric's words ("requested" is the unknown-kid refresh).
KEY_FETCH_REASONS = {"start": "start", "requested": "unknown_kid", "scheduled": "scheduled"}
_CODE = re.compile(r"[a-z][a-z0-9_]{0,47}")

P = ParamSpec("P")
R = TypeVar("R")


class _Instruments:
    def __init__(self) -> None:
        meter = metrics.get_meter(METER_NAME)
        self.requests = meter.create_counter(
            REQUESTS_METRIC, unit="{request}", description="Contact-token requests by outcome"
        )
        self.duration = meter.create_histogram(
            DURATION_METRIC, unit="ms", description="Time to answer a contact-token request"
        )
        self.key_fetches = meter.create_counter(
            KEY_FETCHES_METRIC, unit="{fetch}", description="Signing-key set fetches by result and reason"
        )
        self.configuration_loads = meter.create_counter(
            CONFIGURATION_LOADS_METRIC, unit="{load}", description="Configuration loads by result"
        )
        self.chat_history = meter.create_counter(
            CHAT_HISTORY_METRIC, unit="{operation}", description="Chat history store operations by outcome"
        )
        self.tracer = trace.get_tracer(METER_NAME)


@functools.cache
def _instruments() -> _Instruments:
    return _Instruments()


def _start_span(name: str, attributes: dict[str, str | int] | None = None) -> AbstractContextManager[Span]:
    """A span, unless no TracerProvider is set (local runs, the bench): then not even a no-op one, which costs
    a context attach and detach (about 5 us, a tenth of a warm request). A provider set later is used at once."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return nullcontext(trace.INVALID_SPAN)
    return _instruments().tracer.start_as_current_span(
        name, attributes=attributes, record_exception=False, set_status_on_exception=False
    )


def bounded_code(code: str) -> str:
    """An error code as a metric attribute: codes are snake_case words; anything else is not one of ours."""
    return code if _CODE.fullmatch(code) else "other"


def _outcome_of(error: BaseException | None) -> tuple[str, int]:
    if error is None:
        return OUTCOME_ISSUED, 200
    if isinstance(error, ContactTokenError):
        return bounded_code(error.code), error.status
    return ContactTokenError.code, ContactTokenError.status  # function_app answers 500 internal_error


def measured_contact_token_request(issue: Callable[P, R]) -> Callable[P, R]:
    """Decorates the service's `issue`: one span, one count and one duration per contact-token request."""

    @functools.wraps(issue)
    def measured(*args: P.args, **kwargs: P.kwargs) -> R:
        instruments = _instruments()
        started = time.perf_counter()
        error: BaseException | None = None
        with _start_span(REQUEST_SPAN) as span:
            try:
                return issue(*args, **kwargs)
            except BaseException as raised:
                error = raised
                raise
            finally:
                outcome, status = _outcome_of(error)
                attributes: dict[str, str | int] = {OUTCOME_ATTRIBUTE: outcome, STATUS_ATTRIBUTE: status}
                if span.is_recording():
                    span.set_attributes(attributes)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR, outcome))
                instruments.requests.add(1, attributes)
                instruments.duration.record((time.perf_counter() - started) * 1000.0, attributes)

    return measured


@contextmanager
def span(name: str, **attributes: str | int) -> Iterator[Span]:
    """A child span of whatever is current; an exception marks it failed by type name only (no message)."""
    with _start_span(name, attributes) as current:
        try:
            yield current
        except Exception as error:
            if current.is_recording():
                current.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise


def traced(name: str, load: Callable[[], R]) -> Callable[[], R]:
    """`load` run inside a span named `name` (a key fetch, a configuration load)."""

    def traced_load() -> R:
        with span(name):
            return load()

    return traced_load


def _result(ok: bool) -> Literal["success", "failure"]:
    return "success" if ok else "failure"


def record_key_fetch(reason: str, ok: bool) -> None:
    """RefreshingValue's on_load callback for the signing-key set."""
    attributes: dict[str, Any] = {
        RESULT_ATTRIBUTE: _result(ok),
        REASON_ATTRIBUTE: KEY_FETCH_REASONS.get(reason, "other"),
    }
    _instruments().key_fetches.add(1, attributes)


def record_configuration_load(reason: str, ok: bool) -> None:  # noqa: ARG001 - same signature as record_key_fetch
    """RefreshingValue's on_load callback for the configuration."""
    _instruments().configuration_loads.add(1, {RESULT_ATTRIBUTE: _result(ok)})


def record_chat_history(operation: str, *, ok: bool) -> None:
    """One chat history store operation (shared/chat_history.py): `operation` store, lookup or forget."""
    attributes: dict[str, Any] = {
        OPERATION_ATTRIBUTE: operation if operation in CHAT_HISTORY_OPERATIONS else "other",
        OUTCOME_ATTRIBUTE: "ok" if ok else "error",
    }
    _instruments().chat_history.add(1, attributes)
