"""Process memory: the local runner's resident set (VmRSS from /proc) while it serves 10,000 requests, sampled
every 1,000 after a warm-up, and what importing the Azure SDKs (App Configuration deployments) adds.

Linux only (/proc). The figure that matters for Flex's instance memory is the plateau, and that it is a plateau.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.provider import BenchProvider
from bench.throughput import _client, warm
from tools.dev_stack import free_port, run_function

REPO_ROOT = Path(__file__).resolve().parents[1]
WARM_UP_REQUESTS = 1000
SAMPLE_EVERY = 1000


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc status")


@dataclass(frozen=True)
class Memory:
    samples_kib: list[tuple[int, int]]  # (requests served after warm-up, RSS)
    statuses: dict[int, int]
    import_kib: int
    import_with_sdks_kib: int

    @property
    def growth_kib(self) -> int:
        return self.samples_kib[-1][1] - self.samples_kib[0][1]


def _import_rss(with_sdks: bool) -> int:
    imports = "import function_app"
    if with_sdks:
        imports += ", azure.appconfiguration.provider, azure.identity, azure.keyvault.secrets"
    code = f"{imports}; from bench.memory import rss_kib; print(rss_kib())"
    command = [sys.executable, "-c", code]  # our own interpreter and a fixed snippet
    output = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)  # noqa: S603
    return int(output.stdout.split()[-1])


def measure(provider: BenchProvider, requests: int = 10_000, clients: int = 4) -> Memory:
    statuses: Counter[int] = Counter()
    with run_function(free_port(), provider.settings, ca_bundle=None) as (url, process):
        warm(url, provider.token)
        _client(url, provider.token, WARM_UP_REQUESTS, [], statuses, float("inf"))
        samples = [(0, rss_kib(process.pid))]
        for served in range(SAMPLE_EVERY, requests + 1, SAMPLE_EVERY):
            latencies: list[float] = []
            _serve(url, provider.token, SAMPLE_EVERY, clients, latencies, statuses)
            samples.append((served, rss_kib(process.pid)))
    return Memory(samples, dict(statuses), _import_rss(False), _import_rss(True))


def _serve(url: str, token: str, count: int, clients: int, latencies: list[float], statuses: Counter[int]) -> None:
    threads = [
        threading.Thread(target=_client, args=(url, token, count // clients, latencies, statuses, float("inf")))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
