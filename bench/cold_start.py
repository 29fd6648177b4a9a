"""Cold start: importing function_app (`python -X importtime`) and the first request's latency, each in a fresh
interpreter, with the signing keys fetched from the loopback provider on that first request."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass

from bench.provider import BenchProvider
from tools.paths import REPO_ROOT

AZURE_SDKS = ("azure.identity", "azure.appconfiguration", "azure.keyvault", "azure.core")
FIRST_REQUEST_SCRIPT = """
import json, time
start = time.perf_counter()
import function_app
imported = time.perf_counter()
import azure.functions as func
from shared.routes import CONTACT_TOKEN_PATH, CONTACT_TOKEN_ROUTE
from tools.function_context import LocalContext
def ask():
    request = func.HttpRequest("GET", f"http://127.0.0.1{CONTACT_TOKEN_PATH}",
                               headers={"Authorization": "Bearer " + __import__("os").environ["BENCH_TOKEN"]}, body=b"")
    begin = time.perf_counter()
    status = function_app.aws_connect_jwt(request, LocalContext(CONTACT_TOKEN_ROUTE, ".")).status_code
    return status, time.perf_counter() - begin
first_status, first = ask()
second_status, second = ask()
print(json.dumps({"import": imported - start, "first": first, "second": second,
                  "statuses": [first_status, second_status]}))
"""


@dataclass(frozen=True)
class ColdStart:
    import_ms: float  # median wall time of `import function_app`
    importtime_ms: float  # -X importtime's cumulative figure for function_app
    heaviest: list[tuple[str, float]]  # top-level packages by cumulative import time (ms)
    azure_sdks_imported: list[str]
    first_request_ms: float
    second_request_ms: float
    statuses: list[int]


def _environment(provider: BenchProvider) -> dict[str, str]:
    return {**os.environ, **provider.settings, "PYTHONPATH": str(REPO_ROOT), "BENCH_TOKEN": provider.token}


def import_profile(provider: BenchProvider) -> tuple[float, list[tuple[str, float]], list[str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import function_app"],
        env=_environment(provider),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0.0
    by_package: dict[str, float] = {}  # heaviest import of each top-level package, wherever it was nested
    imported = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        if not cumulative.strip().isdigit():
            continue  # the header line
        name = name.strip()
        imported.append(name)
        milliseconds = int(cumulative) / 1000
        if name == "function_app":
            total = milliseconds
        else:
            package = name.split(".")[0]
            by_package[package] = max(by_package.get(package, 0.0), milliseconds)
    heaviest = sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:8]
    sdks = sorted({name for name in imported if name.startswith(AZURE_SDKS)})
    return total, heaviest, sdks


def measure(provider: BenchProvider, runs: int = 5) -> ColdStart:
    total, heaviest, sdks = import_profile(provider)
    samples = []
    for _ in range(runs):
        provider.entra.state.requests.update(metadata=0, keys=0)
        output = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
            [sys.executable, "-c", FIRST_REQUEST_SCRIPT],
            env=_environment(provider),
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        samples.append(json.loads(output.strip().splitlines()[-1]))
    return ColdStart(
        import_ms=statistics.median(s["import"] for s in samples) * 1000,
        importtime_ms=total,
        heaviest=heaviest,
        azure_sdks_imported=sdks,
        first_request_ms=statistics.median(s["first"] for s in samples) * 1000,
        second_request_ms=statistics.median(s["second"] for s in samples) * 1000,
        statuses=sorted({status for s in samples for status in s["statuses"]}),
    )
