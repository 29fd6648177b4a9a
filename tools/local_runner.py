"""Development tool: serves the HTTP functions of function_app.py on loopback, without Azure Functions Core Tools.

NOT a production host. `func start` (Core Tools) is the real local host and Azure Functions the real one; this
runner exists for machines where Core Tools cannot be installed (CI, locked-down laptops). It mirrors what the
product relies on: the function app's own registrations (`app.get_functions()`), `host.json`'s route prefix,
`local.settings.json`'s `Values` (as environment variables; a variable already set wins) and `Host.CORS`,
and the `azure-functions` package's own HttpRequest / HttpResponse / Context types.

    python -m tools.local_runner [--port 7071] [--settings local.settings.json]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from tools.background import serving_in_background
from tools.function_context import LocalContext
from tools.paths import REPO_ROOT

DEFAULT_PORT = 7071
MAX_BODY_BYTES = 1024 * 1024
_log = logging.getLogger("local_runner")


@dataclass(frozen=True)
class HttpRoute:
    name: str
    path: str
    pattern: re.Pattern[str]
    methods: frozenset[str]
    request_parameter: str
    handler: Callable[..., Any]
    wants_context: bool


def host_query_params(query: str) -> dict[str, str]:
    """`req.params` as Azure builds it. The host (ToRpcHttp in azure-functions-host) reads ASP.NET Core's query
    collection, whose names are case-insensitive (the first spelling is kept), and sends each name once with
    StringValues.ToString(): the non-empty values joined by ",". The Python worker does not declare
    UseNullableValueDictionaryForHttp, so a name whose value is empty is left out. `?widgetId=a&widgetId=b` is
    therefore "a,b", and `?widgetId=` is no parameter at all."""
    values: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        key = spelling.setdefault(name.lower(), name)
        values.setdefault(key, []).append(value)
    joined = {name: ",".join(value for value in items if value) for name, items in values.items()}
    return {name: value for name, value in joined.items() if value}


def route_path(prefix: str, route: str) -> str:
    return "/" + "/".join(part for part in (prefix.strip("/"), route.strip("/")) if part)


def route_pattern(path: str) -> re.Pattern[str]:
    """/api/items/{id} -> ^/api/items/(?P<id>[^/]+)/?$ (route constraints like {id:int} match any segment)."""
    regex = ""
    for literal, parameter in re.findall(r"([^{]*)(?:\{([^}]*)\})?", path):
        regex += re.escape(literal)
        if parameter:
            name = parameter.split(":")[0].rstrip("?")
            regex += f"(?P<{name}>[^/]+)"
    return re.compile(f"^{regex}/?$", re.IGNORECASE)


_FUNCTIONS: dict[int, tuple[func.FunctionApp, list[Any]]] = {}


def functions_of(app: func.FunctionApp) -> list[Any]:
    """app.get_functions() builds the functions and refuses a second call in one process, so it is asked once."""
    if id(app) not in _FUNCTIONS:
        _FUNCTIONS[id(app)] = (app, app.get_functions())
    return _FUNCTIONS[id(app)][1]


def discover_routes(app: func.FunctionApp, route_prefix: str) -> list[HttpRoute]:
    routes = []
    for function in functions_of(app):
        trigger = function.get_trigger()
        if trigger is None or trigger.type != "httpTrigger":
            continue
        handler = function.get_user_function()
        methods = trigger.methods or ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        path = route_path(route_prefix, trigger.route or function.get_function_name())
        routes.append(
            HttpRoute(
                name=function.get_function_name(),
                path=path,
                pattern=route_pattern(path),
                methods=frozenset(str(getattr(m, "value", m)).upper() for m in methods),
                request_parameter=trigger.name,
                handler=handler,
                wants_context="context" in inspect.signature(handler).parameters,
            )
        )
    return routes


@dataclass(frozen=True)
class HostSettings:
    route_prefix: str
    cors_origins: tuple[str, ...]
    cors_credentials: bool
    port: int | None


def read_host_settings(project: Path, local_settings: Mapping[str, Any]) -> HostSettings:
    host_json = json.loads((project / "host.json").read_text(encoding="utf-8"))
    prefix = host_json.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    host = local_settings.get("Host", {})
    origins = tuple(o.strip() for o in str(host.get("CORS", "")).split(",") if o.strip())
    port = host.get("LocalHttpPort")
    return HostSettings(prefix, origins, bool(host.get("CORSCredentials", False)), int(port) if port else None)


def read_local_settings(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    settings: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return settings


def apply_values(values: Mapping[str, Any], environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Like Core Tools: local.settings.json Values become environment variables; one already set wins (said by name,
    never by value: a REQUESTS_CA_BUNDLE exported in the shell silently beating the file's is a classic trap)."""
    for name, value in values.items():
        if environ.get(name, str(value)) != str(value):
            _log.warning("%s is set in the environment: it overrides the value in local.settings.json", name)
        environ.setdefault(name, str(value))


class FunctionHost:
    """Dispatches raw HTTP requests to the discovered functions; independent of the HTTP server for testing."""

    def __init__(self, routes: list[HttpRoute], host: HostSettings, project: Path) -> None:
        self.routes = routes
        self.host = host
        self.project = project

    def allowed_origin(self, origin: str | None) -> str | None:
        if not origin:
            return None
        if "*" in self.host.cors_origins:
            return "*" if not self.host.cors_credentials else origin
        return origin if origin in self.host.cors_origins else None

    def _log_refused_preflight(self, origin: str | None) -> None:
        # The browser only says "CORS error": the runner says which origin it refused and what would allow it.
        allowed = ", ".join(self.host.cors_origins) or "none"
        _log.warning(
            "refused the CORS preflight from origin %s (allowed: %s); to allow it, add it to Host.CORS in "
            "local.settings.json (or pass --cors)",
            origin or "(none)",
            allowed,
        )

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        origin = self.allowed_origin(headers.get("Origin"))
        cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}
        if origin and self.host.cors_credentials:
            cors["Access-Control-Allow-Credentials"] = "true"
        matches = [(route, m) for route in self.routes if (m := route.pattern.match(parts.path))]
        if not matches:
            return 404, {"Content-Type": "text/plain; charset=utf-8", **cors}, b"Not Found"
        if method == "OPTIONS" and not origin and headers.get("Access-Control-Request-Method"):
            self._log_refused_preflight(headers.get("Origin"))
        if method == "OPTIONS" and origin and headers.get("Access-Control-Request-Method"):
            allowed = sorted({m for route, _ in matches for m in route.methods})
            preflight = {
                **cors,
                "Access-Control-Allow-Methods": ", ".join(allowed),
                "Access-Control-Allow-Headers": headers.get("Access-Control-Request-Headers", ""),
                "Access-Control-Max-Age": "600",
            }
            return 204, preflight, b""
        for route, match in matches:
            if method in route.methods:
                return self._invoke(route, match.groupdict(), method, target, headers, body, cors)
        return 405, {"Content-Type": "text/plain; charset=utf-8", **cors}, b"Method Not Allowed"

    def _invoke(
        self,
        route: HttpRoute,
        route_params: dict[str, str],
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        cors: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        host = headers.get("Host", "127.0.0.1")
        request = func.HttpRequest(
            method,
            f"http://{host}{target}",
            headers=dict(headers),
            params=host_query_params(urlsplit(target).query),
            route_params=route_params,
            body=body,
        )
        arguments: dict[str, Any] = {route.request_parameter: request}
        if route.wants_context:
            arguments["context"] = LocalContext(route.name, str(self.project))
        try:
            response = route.handler(**arguments)
        except Exception:
            # The real host answers 500 with no body when a function raises; so does this one.
            _log.exception("function %s raised", route.name)
            return 500, dict(cors), b""
        response_headers = {**dict(response.headers), **cors}
        if response.mimetype:
            charset = f"; charset={response.charset}" if response.charset else ""
            response_headers["Content-Type"] = f"{response.mimetype}{charset}"
        return response.status_code, response_headers, response.get_body()


def _handler_class(host: FunctionHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "connect-sso-local-runner"
        # Headers and body go out in two writes; without TCP_NODELAY each response waits ~40 ms for a delayed ACK.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self.send_error(413)
                return
            body = self.rfile.read(length) if length else b""
            status, headers, payload = host.handle(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:  # noqa: ARG002
            # Method, path without query (it may carry codes), status. Never headers (they hold the token).
            _log.info("%s %s %s", self.command, urlsplit(self.path).path, int(code) if isinstance(code, int) else code)

        def log_message(self, format: str, *args: Any) -> None:
            _log.info(format, *args)  # the base class's other messages (errors): no request headers in them

    return Handler


def load_host(
    project: Path, settings_path: Path, module_name: str = "function_app", cors: str | None = None
) -> FunctionHost:
    local_settings = read_local_settings(settings_path)
    if cors is not None:
        local_settings.setdefault("Host", {})["CORS"] = cors
    apply_values(local_settings.get("Values", {}))
    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    module = importlib.import_module(module_name)
    host_settings = read_host_settings(project, local_settings)
    return FunctionHost(discover_routes(module.app, host_settings.route_prefix), host_settings, project)


@contextmanager
def serve(host: FunctionHost, port: int, bind: str = "127.0.0.1") -> Iterator[ThreadingHTTPServer]:
    """Serves on a background thread for as long as the context lasts (port 0: any free port)."""
    with serving_in_background(ThreadingHTTPServer((bind, port), _handler_class(host)), "local runner") as server:
        yield server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=REPO_ROOT, help="folder with host.json and function_app.py")
    parser.add_argument("--settings", type=Path, help="local.settings.json (default: the project's)")
    parser.add_argument("--port", type=int, help=f"port (default: Host.LocalHttpPort or {DEFAULT_PORT})")
    parser.add_argument("--no-local-settings", action="store_true", help="ignore local.settings.json (env only)")
    parser.add_argument("--cors", help="allowed origins, comma-separated (overrides Host.CORS)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default: loopback only)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    project = args.project.resolve()
    settings_path = Path(os.devnull) if args.no_local_settings else args.settings or project / "local.settings.json"
    host = load_host(project, settings_path, cors=args.cors)
    port = args.port if args.port is not None else (host.host.port or DEFAULT_PORT)
    shown_host = "localhost" if args.bind == "127.0.0.1" else args.bind  # the spelling every development URL uses
    with serve(host, port, args.bind) as server:
        bound = server.server_address[1]
        for route in host.routes:
            methods = ",".join(sorted(route.methods))
            print(f"  {route.name}: [{methods}] http://{shown_host}:{bound}{route.path}", flush=True)
        print(f"local runner (development only) listening on http://{shown_host}:{bound}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
