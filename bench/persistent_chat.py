"""The contact-token path with persistent chat on, against Azurite (HTTPS, bearer tokens, the real azure-data-tables
SDK), beside the same path with it off: what a chat start pays for looking up the person's last contact.

- off: `ContactTokenService.issue`, persistent chat off (no store call).
- on, no history: persistent chat on, the person has no entry (one point read answering 404).
- on, returning: the person has an entry (one point read answering the entity; the token carries
  previousContactId).
- PUT /api/contacts/last: what the page's contactMetadataHandler costs the function (verify + one upsert).

Azurite is a Node.js emulator on the same 2 cores: Azure Table Storage's own latency (single-digit ms inside a
region) replaces its share in production; the CPU the function spends is what these figures can tell.
"""

from __future__ import annotations

import base64
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.provider import BenchProvider
from shared.contact_token_service import ContactTokenService
from tools.azurite import Azurite, running_azurite
from tools.dev_certificate import ensure_localhost_certificate
from tools.testkit.tokens import WIDGET_ID

TABLE = "benchhistory"


@dataclass(frozen=True)
class Figures:
    name: str
    p50_ms: float
    p95_ms: float
    cpu_ms: float  # this process's CPU per call (the function and the SDK; Azurite runs in its own process)
    runs: int


def _time(name: str, call: Callable[[], object], runs: int, warmup: int = 20) -> Figures:
    for _ in range(warmup):
        call()
    samples = []
    cpu_started = time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000.0)
    cpu_ms = (time.process_time() - cpu_started) * 1000.0 / runs
    samples.sort()
    return Figures(name, statistics.median(samples), samples[int(len(samples) * 0.95)], cpu_ms, runs)


def _service(provider: BenchProvider, azurite: Azurite, persistent: bool) -> ContactTokenService:
    settings = dict(provider.settings)
    if persistent:
        settings |= {
            "CONNECT_PERSISTENT_CHAT": "true",
            "CHAT_HISTORY_ENDPOINT": azurite.endpoint,
            "CHAT_HISTORY_TABLE": TABLE,
        }
    return ContactTokenService.from_environment(settings, table_client_factory=azurite.client_factory())


def measure(provider: BenchProvider, runs: int) -> list[Figures]:
    authorization = f"Bearer {provider.token}"
    with tempfile.TemporaryDirectory(prefix="bench-azurite-") as folder:
        certificate = ensure_localhost_certificate(Path(folder))
        with running_azurite(certificate) as azurite:
            azurite.create_table(TABLE)
            off = _service(provider, azurite, persistent=False)
            on = _service(provider, azurite, persistent=True)
            figures = [_time("persistent chat off", lambda: off.issue(authorization, WIDGET_ID), runs)]
            figures.append(_time("on, no history (404)", lambda: on.issue(authorization, WIDGET_ID), runs))
            body = json.dumps({"contactId": str(uuid.uuid4())}).encode()
            figures.append(
                _time("PUT /api/contacts/last", lambda: on.remember_last_contact(authorization, WIDGET_ID, body), runs)
            )
            returning = _time("on, returning user", lambda: on.issue(authorization, WIDGET_ID), runs)
            if "previousContactId" not in _attributes(on.issue(authorization, WIDGET_ID).jwt):
                raise RuntimeError("the returning user's token has no previousContactId: nothing was measured")
            figures.append(returning)
            return figures


def _attributes(jwt: str) -> dict[str, str]:
    payload = jwt.split(".")[1]
    attributes: dict[str, str] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["attributes"]
    return attributes
