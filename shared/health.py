"""Readiness for GET /api/health: is the configuration valid, are the signing keys loaded, can every widget sign?

It asks exactly what a contact-token request would ask (the configuration in force, the key set), so it may
trigger the same first load a request would and never more: once warm, a health call makes no network call.
The answer names reasons by error code only: no setting value, no secret. Only a degraded answer names widget
ids (public: they are in the pages' snippets): 200 "degraded", because the instance serves every other widget.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from shared.errors import ServiceUnavailable
from shared.openid import signing_keys_unavailable
from shared.settings import Settings

READY = "ready"
DEGRADED = "degraded"
NOT_READY = "unavailable"
WIDGET_UNAVAILABLE = "widget_unavailable"


@dataclass(frozen=True)
class Readiness:
    reasons: tuple[str, ...] = ()
    retry_after_seconds: int = 0
    checks: dict[str, str] = field(default_factory=dict)
    unavailable_widgets: tuple[str, ...] = ()  # ids of widgets that answer 503 widget_unavailable

    @property
    def ready(self) -> bool:
        return not self.reasons

    @property
    def status(self) -> int:
        return 200 if self.ready else 503

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.ready else {"Retry-After": str(self.retry_after_seconds)}

    @property
    def body(self) -> str:
        if not self.ready:
            document: dict[str, object] = {"status": NOT_READY, "checks": self.checks, "reasons": list(self.reasons)}
        elif self.unavailable_widgets:
            checks = {**self.checks, "widgets": WIDGET_UNAVAILABLE}
            document = {"status": DEGRADED, "checks": checks, "reasons": [WIDGET_UNAVAILABLE]}
            document["unavailableWidgets"] = list(self.unavailable_widgets)
        else:
            document = {"status": READY, "checks": self.checks}
        return json.dumps(document)


def readiness(current_settings: Callable[[], Settings], keys_loaded: Callable[[Settings], bool]) -> Readiness:
    """`current_settings` as a request gets them (raising 503s); `keys_loaded` loads the keys as a request would."""
    try:
        settings = current_settings()
    except ServiceUnavailable as error:
        return Readiness(
            (error.code,), error.retry_after_seconds, {"configuration": error.code, "signingKeys": "not_checked"}
        )
    if not keys_loaded(settings):
        unavailable = signing_keys_unavailable()  # what a request would get: the same code and Retry-After
        return Readiness(
            (unavailable.code,),
            unavailable.retry_after_seconds,
            {"configuration": "ok", "signingKeys": unavailable.code},
        )
    widget_ids = tuple(widget.widget_id for widget in settings.unavailable_widgets)
    return Readiness(checks={"configuration": "ok", "signingKeys": "ok"}, unavailable_widgets=widget_ids)
