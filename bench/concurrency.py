"""Latency under concurrency through the local runner: 1, 4 and 16 keep-alive clients, p50 and p95 each.

The same runner process serves every level (warm keys, warm settings); each level sends the same number of
requests. The local runner is a ThreadingHTTPServer, one thread per connection, so N clients are N requests in
flight in one Python process: the shape Flex gives one instance with perInstanceConcurrency = N.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

from bench.provider import BenchProvider
from bench.throughput import MAX_SECONDS, Throughput, _client, summary
from tools.dev_stack import free_port, run_function

LEVELS = (1, 4, 16)


def warm(url: str, token: str) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", parts.path, headers={"Authorization": f"Bearer {token}"})
    connection.getresponse().read()  # keys fetched before the clock starts
    connection.close()


def run_level(url: str, token: str, clients: int, total: int) -> Throughput:
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
    seconds = time.perf_counter() - start
    return summary(latencies, seconds, clients, statuses)


def measure(provider: BenchProvider, requests: int = 2000) -> list[Throughput]:
    with run_function(free_port(), provider.settings, ca_bundle=None) as (url, _process):
        warm(url, provider.token)
        return [run_level(url, provider.token, clients, requests) for clients in LEVELS]
