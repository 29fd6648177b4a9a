"""Latency under concurrency through the local runner: 1, 4 and 16 keep-alive clients, p50 and p95 each.

The same runner process serves every level (warm keys, warm settings); each level sends the same number of
requests. The local runner is a ThreadingHTTPServer, one thread per connection, so N clients are N requests in
flight in one Python process: the shape Flex gives one instance with perInstanceConcurrency = N.
"""

from __future__ import annotations

from bench.provider import BenchProvider
from bench.throughput import Throughput, run_clients, warm
from tools.dev_stack import free_port, run_function

LEVELS = (1, 4, 16)


def measure(provider: BenchProvider, requests: int = 2000) -> list[Throughput]:
    with run_function(free_port(), provider.settings, ca_bundle=None) as (url, _process):
        warm(url, provider.token)
        return [run_clients(url, provider.token, clients, requests) for clients in LEVELS]
