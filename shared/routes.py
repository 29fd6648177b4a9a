"""The HTTP routes of the function app, as function_app.py registers them (host.json adds the `api` prefix).

A module of its own so that tools, tests and benchmarks can name a route without importing function_app.py
(which starts the warm-up of the service configured by its process's environment)."""

from __future__ import annotations

ROUTE_PREFIX = "api"  # host.json extensions.http.routePrefix
CONTACT_TOKEN_ROUTE = "AWSConnectJWT"  # noqa: S105 - a route (the .NET service's, for a drop-in replacement)
CONTACT_TOKEN_PATH = f"/{ROUTE_PREFIX}/{CONTACT_TOKEN_ROUTE}"
HEALTH_ROUTE = "health"  # readiness for availability tests and the doctor
HEALTH_PATH = f"/{ROUTE_PREFIX}/{HEALTH_ROUTE}"
LAST_CONTACT_ROUTE = "contacts/last"  # persistent chat: PUT remembers the caller's chat, DELETE forgets it
LAST_CONTACT_PATH = f"/{ROUTE_PREFIX}/{LAST_CONTACT_ROUTE}"
