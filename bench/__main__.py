"""python -m bench [--runs N] [--requests N] [--clients N] [--profile]

Prints, in one run and on the same token: per-request medians (handler, floor, reference) and their ratios,
cold start (import and first request), and throughput through the local runner. Figures only; nothing asserts.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import platform
import pstats
import sys

from bench import cold_start, concurrency, memory, per_request, persistent_chat, throughput
from bench.provider import BenchProvider, bench_provider

TARGET_FLOOR_RATIO = 4.0


def _per_request(provider: BenchProvider, runs: int) -> None:
    timings = per_request.measure(provider, runs)
    print(f"\nPer request, warm caches, {runs} timed calls each (median / p90, microseconds)")
    for timing in timings.values():
        print(f"  {timing.median_us:8.1f} / {timing.p90_us:8.1f}  {timing.name}")
    handler, floor, reference = (timings[name].median_us for name in ("handler", "floor", "reference"))
    print(f"  handler / floor     = {handler / floor:5.2f}  (target: within {TARGET_FLOOR_RATIO:.0f}x)")
    print(f"  handler / reference = {handler / reference:5.2f}  (target: below 1, faster than the reference)")


def _profile(provider: BenchProvider, runs: int) -> None:
    _service, handler = per_request.handler_service(provider)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        handler()
    profiler.disable()
    report = io.StringIO()
    pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(25)
    print(f"\ncProfile of {runs} handler calls (cumulative; the profiler itself roughly doubles the times)")
    print(report.getvalue())


def _cold_start(provider: BenchProvider) -> None:
    result = cold_start.measure(provider)
    print("\nCold start (fresh interpreter each time, median of 5)")
    print(f"  import function_app        {result.import_ms:7.1f} ms   (-X importtime: {result.importtime_ms:.1f} ms)")
    print("  heaviest packages          " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in result.heaviest[:6]))
    print(f"  Azure SDKs imported        {', '.join(result.azure_sdks_imported) or 'none (App Configuration not set)'}")
    print(f"  first request (keys fetched from the loopback provider)  {result.first_request_ms:7.1f} ms")
    print(f"  second request                                           {result.second_request_ms:7.1f} ms")
    print(f"  statuses                   {result.statuses}")


def _throughput(provider: BenchProvider, requests: int, clients: int) -> None:
    print(f"\nThroughput through the local runner ({clients} keep-alive clients on loopback, same machine)")
    result = throughput.measure(provider, requests, clients)
    print(
        f"  {result.per_second:7.0f} requests/s  p50 {result.p50_ms:6.1f} ms  "
        f"p95 {result.p95_ms:6.1f} ms  ({result.requests} requests, statuses {result.statuses})"
    )


def _concurrency(provider: BenchProvider, requests: int) -> None:
    print(f"\nConcurrency through the local runner ({requests} requests per level, keep-alive, loopback)")
    print("  clients  requests/s   p50 ms   p95 ms  statuses")
    for level in concurrency.measure(provider, requests):
        figures = f"{level.per_second:10.0f}  {level.p50_ms:7.2f}  {level.p95_ms:7.2f}"
        print(f"  {level.clients:7d}  {figures}  {level.statuses}")


def _memory(provider: BenchProvider, requests: int) -> None:
    result = memory.measure(provider, requests)
    print(f"\nMemory of the local runner process (VmRSS) over {requests} requests after a warm-up of 1,000")
    print("  " + ", ".join(f"{served}: {kib / 1024:.1f}" for served, kib in result.samples_kib) + " MiB")
    print(f"  growth {result.growth_kib / 1024:+.1f} MiB  statuses {result.statuses}")
    print(
        f"  fresh interpreter after import: {result.import_kib / 1024:.1f} MiB; "
        f"with the App Configuration, identity and Key Vault SDKs: {result.import_with_sdks_kib / 1024:.1f} MiB"
    )


def _persistent_chat(provider: BenchProvider, runs: int) -> None:
    print(f"\nPersistent chat: the contact-token path against Azurite ({runs} timed calls each, milliseconds)")
    figures = persistent_chat.measure(provider, runs)
    off = figures[0].p50_ms
    for figure in figures:
        cost = "" if figure is figures[0] else f"  (+{figure.p50_ms - off:.2f} ms p50 over off)"
        print(f"  p50 {figure.p50_ms:7.2f}  p95 {figure.p95_ms:7.2f}  CPU {figure.cpu_ms:5.2f}  {figure.name}{cost}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5000, help="timed calls per per-request measurement")
    parser.add_argument("--requests", type=int, default=3000, help="requests for the throughput run")
    parser.add_argument("--clients", type=int, default=4, help="client threads for the throughput run")
    parser.add_argument("--level-requests", type=int, default=2000, help="requests per concurrency level")
    parser.add_argument("--memory-requests", type=int, default=10_000, help="requests for the memory run")
    parser.add_argument("--chat-runs", type=int, default=500, help="timed calls per persistent chat measurement")
    parser.add_argument(
        "--only", choices=("concurrency", "memory", "persistent-chat"), help="run just one of the newer measurements"
    )
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the handler")
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)  # the function's own logging is not what is measured here
    print(f"connect-sso bench: Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    with bench_provider() as provider:
        if args.only == "persistent-chat":
            _persistent_chat(provider, args.chat_runs)
            return 0
        if args.only:
            (_concurrency if args.only == "concurrency" else _memory)(
                provider, args.level_requests if args.only == "concurrency" else args.memory_requests
            )
            return 0
        _per_request(provider, args.runs)
        if args.profile:
            _profile(provider, args.runs)
        _cold_start(provider)
        _throughput(provider, args.requests, args.clients)
        _concurrency(provider, args.level_requests)
        _memory(provider, args.memory_requests)
        _persistent_chat(provider, args.chat_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
