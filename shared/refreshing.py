"""A value loaded from somewhere slow (a key set, a configuration store), kept fresh without hurting callers.

Rules, shared by the signing-key cache and the App Configuration cache:
- One load in flight at a time: concurrent callers wait for it and share its result (single flight).
- A failed load never replaces the last good value.
- When the value is older than `max_age`, callers keep getting it while one background thread refreshes it.
- Loads are rate-limited: `retry_empty_after` while nothing was ever loaded (so a dead endpoint costs callers a
  fast 503, not a timeout each), `min_gap` otherwise (so no traffic pattern can make us hammer the source).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_log = logging.getLogger(__name__)


class RefreshingValue(Generic[T]):
    def __init__(
        self,
        load: Callable[[], T],
        *,
        name: str,
        max_age: float,
        min_gap: float,
        retry_empty_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._name = name
        self._max_age = max_age
        self._min_gap = min_gap
        self._retry_empty_after = retry_empty_after
        self._clock = clock
        self._lock = threading.Lock()  # held for the whole load: this is what makes it single-flight
        self._background_lock = threading.Lock()  # never held across a load, so callers never wait on it
        self._value: T | None = None
        self._loaded_at = 0.0
        self._attempted_at: float | None = None
        self._attempts = 0
        self._background: threading.Thread | None = None

    def get(self) -> T | None:
        """The current value, loading it first if there is none; None when it could not be loaded."""
        value = self._value
        if value is None:
            self.refresh(min_gap=self._retry_empty_after)
            return self._value
        if self._clock() - self._loaded_at >= self._max_age:
            self._refresh_in_background()
        return value

    def refresh(self, *, min_gap: float | None = None) -> None:
        """Loads now unless a load happened within `min_gap` seconds; concurrent callers share one load."""
        gap = self._min_gap if min_gap is None else min_gap
        attempts_seen = self._attempts
        with self._lock:
            if self._attempts != attempts_seen:
                return  # another caller loaded while we waited for the lock: share its result
            if self._attempted_at is not None and self._clock() - self._attempted_at < gap:
                return
            self._attempted_at = self._clock()
            self._attempts += 1
            try:
                value = self._load()
            except Exception as error:
                state = "keeping the last good value" if self._value is not None else "nothing cached yet"
                _log.warning("%s could not be loaded (%s); %s", self._name, error, state)
                return
            self._value = value
            self._loaded_at = self._clock()

    def join_background(self, timeout: float = 10.0) -> None:
        """Waits for a background refresh to finish (tests and orderly shutdown)."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    def _refresh_in_background(self) -> None:
        if self._attempted_at is not None and self._clock() - self._attempted_at < self._min_gap:
            return
        with self._background_lock:
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(target=self.refresh, name=f"refresh {self._name}", daemon=True)
            self._background.start()
