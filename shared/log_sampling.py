"""Rate limits for log lines a flood could multiply: the metrics count every refusal, the log needs an example.

A refusal (4xx) is logged at Debug every time, and at Info at most once per interval per kind, with the number
held back since: an attacker sending a million bad tokens then costs the Log Analytics daily cap a few lines a
minute, not a million (a cap reached stops all telemetry, alerts included).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

REFUSAL_LOG_INTERVAL_SECONDS = 60.0


class OncePerInterval:
    """`allow(kind)` is true at most once per `interval` seconds per kind; it returns how many were held back."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[Hashable, float] = {}
        self._held: dict[Hashable, int] = {}

    def allow(self, kind: Hashable) -> tuple[bool, int]:
        now = self._clock()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self._interval:
                self._held[kind] = self._held.get(kind, 0) + 1
                return False, 0
            self._last[kind] = now
            return True, self._held.pop(kind, 0)


def log_sampled(logger: logging.Logger, limit: OncePerInterval, kind: Hashable, message: str, *args: object) -> None:
    """`message` at Info when `limit` allows `kind` (with the number held back since), otherwise at Debug."""
    allowed, held_back = limit.allow(kind)
    if allowed:
        logger.info(message + " (%d more since the last)", *args, held_back)
    else:
        logger.debug(message, *args)
