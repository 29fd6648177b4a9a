"""The settings in force: the environment, overlaid by App Configuration when APP_CONFIG_ENDPOINT is set.

App Configuration values are refreshed in the background about every 30 s; when the store is unreachable the
last good values keep serving; with no good values yet the caller gets a 503. A configuration error is logged
once per distinct error (at start and on the first request), by setting name, never by a secret's value.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from shared.app_configuration import AppConfigurationLoader
from shared.errors import ServiceUnavailable
from shared.refreshing import RefreshingValue
from shared.settings import SETTINGS, ConfigurationError, Settings, effective_values, parse_settings
from shared.telemetry import CONFIGURATION_LOAD_SPAN, record_configuration_load, traced

APP_CONFIG_REFRESH_SECONDS = 30.0
APP_CONFIG_COLD_RETRY_SECONDS = 5.0
_log = logging.getLogger(__name__)

StoreLoader = Callable[[], Mapping[str, str]]
StoreLoaderFactory = Callable[[str, str | None], StoreLoader]
ALL_NAMES = tuple(name for spec in SETTINGS for name in (spec.name, *spec.aliases))


def sdk_store_loader(endpoint: str, label: str | None) -> StoreLoader:
    return AppConfigurationLoader(endpoint, label, ALL_NAMES)


class ConfigurationProvider:
    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        store_loader_factory: StoreLoaderFactory = sdk_store_loader,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environment = {name: environ[name] for name in ALL_NAMES if name in environ}
        self._reported: set[tuple[str, str]] = set()
        env_values = effective_values(self._environment)
        endpoint = env_values.get("APP_CONFIG_ENDPOINT")
        self._store: StoreLoader | None = None
        if endpoint:
            self._store = store_loader_factory(endpoint, env_values.get("APP_CONFIG_LABEL"))
        self._state: RefreshingValue[Settings | ConfigurationError] = RefreshingValue(
            traced(CONFIGURATION_LOAD_SPAN, self._load),
            name="App Configuration" if endpoint else "settings",
            max_age=APP_CONFIG_REFRESH_SECONDS if endpoint else float("inf"),
            min_gap=APP_CONFIG_REFRESH_SECONDS,
            retry_empty_after=APP_CONFIG_COLD_RETRY_SECONDS,
            clock=clock,
            on_load=record_configuration_load,
        )

    def _load(self) -> Settings | ConfigurationError:
        sources = dict(self._environment)
        if self._store is not None:
            store_values = self._store()  # raises when unreachable: the last good settings stay
            for spec in SETTINGS:
                # A value in the store replaces the environment's, whichever spelling either used.
                if any(name in store_values for name in (spec.name, *spec.aliases)):
                    for name in (spec.name, *spec.aliases):
                        sources.pop(name, None)
            sources.update(store_values)
        try:
            return parse_settings(sources)
        except ConfigurationError as error:
            return error

    def join_background(self, timeout: float = 10.0) -> None:
        self._state.join_background(timeout)

    def check_at_start(self) -> Settings | None:
        """Loads and validates once at start-up so a configuration error reaches the log before any request."""
        with contextlib.suppress(ServiceUnavailable):  # already logged; requests answer 503 until it is fixed
            return self._current(moment="at start")
        return None

    def current(self) -> Settings:
        return self._current(moment="on a request")

    def _current(self, *, moment: str) -> Settings:
        state = self._state.get()
        if state is None:
            raise ServiceUnavailable(
                "the service's configuration cannot be loaded right now",
                code="configuration_unavailable",
                retry_after_seconds=int(APP_CONFIG_COLD_RETRY_SECONDS) + 1,
            )
        if isinstance(state, ConfigurationError):
            self._report(state, moment)
            raise ServiceUnavailable(
                "the service is not configured correctly; its log names the settings to fix",
                code="configuration_invalid",
                retry_after_seconds=int(APP_CONFIG_REFRESH_SECONDS),
            )
        self._reported.clear()
        return state

    def _report(self, error: ConfigurationError, moment: str) -> None:
        if (moment, str(error)) not in self._reported:
            self._reported.add((moment, str(error)))
            _log.error("configuration error (%s): %s", moment, error)
