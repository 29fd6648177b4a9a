"""pytest plugin (loaded by tests/conftest.py for the whole suite): telemetry is captured, and no metric attribute
or span attribute ever carries a registered token, signature or secret.

- At start it sets the OpenTelemetry SDK's MeterProvider (an InMemoryMetricReader) and TracerProvider (an
  InMemorySpanExporter) once for the process: a provider can be set only once, and shared/telemetry.py takes
  the global one lazily, as it does from the Functions worker in Azure. The application code never sets one.
- After each test, every new span (name, attributes, events, status) and every new metric data point's
  attributes are scanned with tools/testkit/leak_registry.py, the same scanner as the log check. A test during
  which one carries a registered value fails at teardown, naming the instrument and the kind (never the value).
- The `telemetry` fixture lets tests read what was recorded (counts as deltas: metrics are cumulative).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.support.session_checks import fail_session_on, fail_test_on, write_summary
from tools.testkit.leak_registry import REGISTRY, Finding, LeakRegistry

Attributes = frozenset[tuple[str, Any]]
Points = dict[str, dict[Attributes, float]]


@dataclass(frozen=True)
class TelemetryLeak:
    test: str | None
    where: str  # "span <name>" or "metric <name>": never the value
    findings: tuple[Finding, ...]

    def __str__(self) -> str:
        return f"{self.where} ({self.test or 'outside any test'}) holds {', '.join(map(str, self.findings))}"


class TelemetryCapture:
    """The session's in-memory reader and exporter, and the scanner over what they hold."""

    def __init__(self, registry: LeakRegistry) -> None:
        self.registry = registry
        self.reader = InMemoryMetricReader()
        self.exporter = InMemorySpanExporter()
        self._lock = threading.Lock()
        self._scanned_points: set[tuple[str, Attributes]] = set()
        self.spans_scanned = 0
        self.points_scanned = 0

    def install(self) -> None:
        """Sets the providers unless one is set already (a nested pytest run in the same process)."""
        if not isinstance(metrics.get_meter_provider(), MeterProvider):
            metrics.set_meter_provider(MeterProvider(metric_readers=[self.reader]))
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            trace.set_tracer_provider(provider)

    # What tests read.
    def points(self) -> Points:
        """{metric name: {attributes: value}}: a counter's sum, a histogram's count, cumulative since start."""
        found: Points = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        value = point.count if isinstance(point, HistogramDataPoint) else point.value
                        found.setdefault(metric.name, {})[frozenset((point.attributes or {}).items())] = value
        return found

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [span for span in self.exporter.get_finished_spans() if name is None or span.name == name]

    # The check.
    def scan_new(self, test: str | None) -> list[TelemetryLeak]:
        leaks = []
        with self._lock:
            spans = self.exporter.get_finished_spans()
            self.exporter.clear()
            for span in spans:
                self.spans_scanned += 1
                findings = self.registry.scan(_span_text(span))
                if findings:
                    leaks.append(TelemetryLeak(test, f"span {span.name!r}", tuple(findings)))
            for name, by_attributes in self.points().items():
                for attributes in by_attributes:
                    if (name, attributes) in self._scanned_points:
                        continue
                    self._scanned_points.add((name, attributes))
                    self.points_scanned += 1
                    findings = self.registry.scan(_attributes_text(dict(attributes)))
                    if findings:
                        leaks.append(TelemetryLeak(test, f"metric {name!r}", tuple(findings)))
        return leaks


def _attributes_text(attributes: Mapping[str, Any] | None) -> str:
    return " ".join(f"{key}={value}" for key, value in (attributes or {}).items())


def _span_text(span: ReadableSpan) -> str:
    parts = [span.name, _attributes_text(span.attributes), span.status.description or ""]
    parts += [f"{event.name} {_attributes_text(event.attributes)}" for event in span.events]
    return " ".join(parts)


def counts_delta(
    before: dict[str, dict[Attributes, float]], after: dict[str, dict[Attributes, float]], name: str
) -> Counter:
    """What was recorded on `name` between two `points()` readings, by attribute set."""
    delta: Counter[Attributes] = Counter()
    for attributes, value in after.get(name, {}).items():
        change = value - before.get(name, {}).get(attributes, 0)
        if change:
            delta[attributes] = change
    return delta


_capture = TelemetryCapture(REGISTRY)
_stray: list[TelemetryLeak] = []


def pytest_configure(config: pytest.Config) -> None:
    _capture.install()


@pytest.fixture(autouse=True)
def _no_secrets_in_telemetry(request: pytest.FixtureRequest) -> Iterator[None]:
    _stray.extend(_capture.scan_new(None))  # recorded between tests (a late background thread)
    yield
    fail_test_on(_capture.scan_new(request.node.nodeid), "secret material reached telemetry")


@pytest.fixture
def telemetry() -> TelemetryCapture:
    """The session's capture: tests read metrics (`points()`), spans (`spans()`), or plant a leak (`scan_new`)."""
    return _capture


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _stray.extend(_capture.scan_new(None))
    fail_session_on(session, _stray)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write_summary(
        terminalreporter,
        "telemetry hygiene",
        f"{_capture.spans_scanned} spans and {_capture.points_scanned} metric attribute sets scanned against "
        f"{REGISTRY.count} registered tokens, signatures and secrets: ",
        _stray,
        clean="no leak outside the tests' own checks",
        dirty="LEAK(S) outside any test",
    )
