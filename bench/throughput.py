"""Throughput through the local runner (tools/local_runner.py, its own process) with a loopback load generator:
a few client threads on keep-alive connections, a bounded number of requests and a bounded time.

The local runner is a development host (ThreadingHTTPServer): this measures the function plus a simple host on
this machine, not Azure Functions' host. Client and server share the machine's cores.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.provider import BenchProvider
from tools.dev_stack import free_port, run_function

MAX_SECONDS = 20.0


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    clients: int
    statuses: dict[int, int]
    p50_ms: float
    p95_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def summary(latencies: list[float], seconds: float, clients: int, statuses: Counter[int]) -> Throughput:
    """Requests, rate and latency percentiles of one run (latencies in seconds)."""
    latencies.sort()
    return Throughput(
        requests=len(latencies),
        seconds=seconds,
        clients=clients,
        statuses=dict(statuses),
        p50_ms=statistics.median(latencies) * 1000,
        p95_ms=latencies[int(len(latencies) * 0.95)] * 1000,
    )


def _client(url: str, token: str, count: int, latencies: list[float], statuses: Counter[int], deadline: float) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(count):
            if time.monotonic() > deadline:
                return
            start = time.perf_counter()
            connection.request("GET", parts.path, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
            statuses[response.status] += 1
    finally:
        connection.close()


def warm(url: str, token: str) -> None:
    """One request before the clock starts, so the keys are fetched and the settings loaded."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    connection.request("GET", parts.path, headers={"Authorization": f"Bearer {token}"})
    connection.getresponse().read()
    connection.close()


def run_clients(url: str, token: str, clients: int, total: int) -> Throughput:
    """`clients` keep-alive clients sending `total` requests between them, all at once."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + MAX_SECONDS
    threads = [
        threading.Thread(target=_client, args=(url, token, total // clients, latencies, statuses, deadline))
        for _ in range(clients)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summary(latencies, time.perf_counter() - start, clients, statuses)


def measure(provider: BenchProvider, total: int = 3000, clients: int = 4) -> Throughput:
    with run_function(free_port(), provider.settings, ca_bundle=None) as (url, _process):
        warm(url, provider.token)
        return run_clients(url, provider.token, clients, total)
