"""The settings in force: the environment, overlaid by App Configuration when APP_CONFIG_ENDPOINT is set.

App Configuration values are refreshed in the background every APP_CONFIG_REFRESH_SECONDS (default 30 s) through
Microsoft's provider (shared/app_configuration.py); a request never waits for a refresh. When the store is
unreachable the last good values keep serving; with no good values yet the caller gets a 503. A configuration
error is logged once per distinct error (at start and on the first request), by setting name, never by a value.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from shared.app_configuration import AppConfigurationStore, StoreOptions, store_setting_problems
from shared.catalogue import ALL_SETTING_NAMES, effective_values, overlay, select_settings
from shared.errors import ServiceUnavailable
from shared.refreshing import RefreshingValue
from shared.setting_reader import ConfigurationError
from shared.settings import Settings, parse_settings
from shared.telemetry import CONFIGURATION_LOAD_SPAN, record_configuration_load, traced

APP_CONFIG_REFRESH_SECONDS = 30.0  # the default; APP_CONFIG_REFRESH_SECONDS in the environment moves it
APP_CONFIG_COLD_RETRY_SECONDS = 5.0
_log = logging.getLogger(__name__)

StoreLoader = Callable[[], Mapping[str, str]]
StoreLoaderFactory = Callable[[StoreOptions], StoreLoader]


def sdk_store_loader(options: StoreOptions) -> StoreLoader:
    return AppConfigurationStore(options, ALL_SETTING_NAMES)


def configuration_unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the service's configuration cannot be loaded right now",
        code="configuration_unavailable",
        retry_after_seconds=int(APP_CONFIG_COLD_RETRY_SECONDS) + 1,
    )


class ConfigurationProvider:
    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        store_loader_factory: StoreLoaderFactory = sdk_store_loader,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._environment = select_settings(environ)
        self._reported: set[tuple[str, str]] = set()
        self._parsed: tuple[dict[str, str], Settings | ConfigurationError] | None = None
        env_values = effective_values(self._environment)
        # The settings that say how to read the store come from the environment only: when one of them is malformed
        # that is a configuration error to report by name, never a store that seems "unreachable".
        self._store_problems = store_setting_problems(env_values)
        options = None if self._store_problems else StoreOptions.from_values(env_values)
        self._store: StoreLoader | None = store_loader_factory(options) if options else None
        interval = float(options.refresh_seconds) if options else APP_CONFIG_REFRESH_SECONDS
        self._state: RefreshingValue[Settings | ConfigurationError] = RefreshingValue(
            traced(CONFIGURATION_LOAD_SPAN, self._load),
            name="App Configuration" if options else "settings",
            max_age=interval if options else float("inf"),
            min_gap=interval,
            retry_empty_after=APP_CONFIG_COLD_RETRY_SECONDS,
            clock=clock,
            on_load=record_configuration_load,
        )

    def _load(self) -> Settings | ConfigurationError:
        if self._store_problems:
            return ConfigurationError(list(self._store_problems))
        sources = dict(self._environment)
        if self._store is not None:
            sources = overlay(sources, self._store())  # raises when unreachable: the last good settings stay
        if self._parsed is not None and self._parsed[0] == sources:
            return self._parsed[1]  # unchanged: the same object, so what is cached on it (the verifier) stays
        try:
            parsed: Settings | ConfigurationError = parse_settings(sources)
        except ConfigurationError as error:
            parsed = error
        self._parsed = (sources, parsed)
        if isinstance(parsed, Settings):
            _report_unavailable_widgets(parsed)
        return parsed

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
        state = self._state.require(configuration_unavailable)
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


def _report_unavailable_widgets(settings: Settings) -> None:
    """Once per parse of changed settings: each widget that answers 503 widget_unavailable, by id and setting."""
    for widget in settings.unavailable_widgets:
        _log.warning(
            "widget %s is unavailable (503 widget_unavailable) while the others serve: its key setting %s is unset "
            "or empty (in App Configuration: its Key Vault reference cannot be resolved; store the secret, then "
            "bump the sentinel)",
            widget.widget_id,
            widget.secret_setting,
        )
