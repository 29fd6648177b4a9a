"""A value loaded from somewhere slow (a key set, a configuration store), kept fresh without hurting callers.

Rules, shared by the signing-key cache and the App Configuration cache:
- One load in flight at a time: concurrent callers wait for it and share its result (single flight).
- A failed load never replaces the last good value.
- When the value is older than `max_age`, callers keep getting it while one background thread refreshes it
  (a scheduled load); a failed scheduled load is retried at most once per `min_gap`.
- While nothing was ever loaded, callers load it themselves at most once per `retry_empty_after` after the last
  load ended (so a dead endpoint costs callers a fast 503, not a timeout each).
- A refresh that a caller *requests* (an unknown signing key) follows Microsoft.IdentityModel's
  ConfigurationManager.RequestRefresh: the first one is honoured at once, whatever loaded before it; after that at
  most one per `min_gap`, counted between requested refreshes only. Start-up and scheduled loads neither use up
  nor reset that allowance, so no traffic pattern makes us load more than once per `min_gap` on request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
LoadReason = Literal["start", "requested", "scheduled"]
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
        on_load: Callable[[LoadReason, bool], None] | None = None,
    ) -> None:
        self._load = load
        self._on_load = on_load  # told (reason, succeeded) after each load attempt: telemetry
        self._name = name
        self._max_age = max_age
        self._min_gap = min_gap
        self._retry_empty_after = retry_empty_after
        self._clock = clock
        self._lock = threading.Lock()  # held for the whole load: this is what makes it single-flight
        self._background_lock = threading.Lock()  # never held across a load, so callers never wait on it
        self._value: T | None = None
        self._loaded_at = 0.0
        self._attempted_at: float | None = None  # the last load of any reason
        self._requested_at: float | None = None  # the last requested load: None until the first one
        self._attempts = 0
        self._background: threading.Thread | None = None

    def get(self) -> T | None:
        """The current value, loading it first if there is none; None when it could not be loaded."""
        value = self._value
        if value is None:
            self._load_once("start", gap=self._retry_empty_after, since=lambda: self._attempted_at)
            return self._value
        if self._clock() - self._loaded_at >= self._max_age:
            self._refresh_in_background()
        return value

    def require(self, unavailable: Callable[[], Exception]) -> T:
        """The current value (as `get`), or the error `unavailable` makes when there is none."""
        value = self.get()
        if value is None:
            raise unavailable()
        return value

    @property
    def generation(self) -> int:
        """How many loads have started: take it before `get()` to pass to `request_refresh`."""
        return self._attempts

    def request_refresh(self, *, seen_generation: int | None = None) -> None:
        """Loads now, on a caller's evidence that the value is out of date (RequestRefresh): the first request at
        once, later ones at most once per `min_gap` since the previous request. A load of any kind that started
        after `seen_generation` (or while waiting here) already answers the request, so it is shared, not repeated."""
        self._load_once("requested", gap=self._min_gap, since=lambda: self._requested_at, attempts_seen=seen_generation)

    def join_background(self, timeout: float = 10.0) -> None:
        """Waits for a background refresh to finish (tests and orderly shutdown)."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    def _load_once(
        self,
        reason: LoadReason,
        *,
        gap: float,
        since: Callable[[], float | None],
        attempts_seen: int | None = None,
    ) -> None:
        if attempts_seen is None:
            attempts_seen = self._attempts
        with self._lock:
            if self._attempts != attempts_seen:
                return  # another caller loaded while we waited for the lock: share its result
            last = since()
            if last is not None and self._clock() - last < gap:
                return
            now = self._clock()
            self._attempted_at = now
            if reason == "requested":
                self._requested_at = now
            self._attempts += 1
            try:
                value = self._load()
            except Exception as error:
                state = "keeping the last good value" if self._value is not None else "nothing cached yet"
                _log.warning("%s could not be loaded (%s load: %s); %s", self._name, reason, error, state)
                self._loaded(reason, ok=False)
                return
            finally:
                # Gaps count from the end of a load: callers that waited out a slow failing load share its result
                # instead of each starting another one (a dead endpoint must cost a fast 503, not a timeout each).
                self._attempted_at = self._clock()
            self._value = value
            self._loaded_at = self._clock()
            self._loaded(reason, ok=True)

    def _loaded(self, reason: LoadReason, *, ok: bool) -> None:
        if self._on_load is not None:
            self._on_load(reason, ok)

    def _scheduled_refresh(self) -> None:
        self._load_once("scheduled", gap=self._min_gap, since=lambda: self._attempted_at)

    def _refresh_in_background(self) -> None:
        if self._attempted_at is not None and self._clock() - self._attempted_at < self._min_gap:
            return
        with self._background_lock:
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(
                target=self._scheduled_refresh, name=f"refresh {self._name}", daemon=True
            )
            self._background.start()
