"""Development tool: the whole product on loopback with built-in development settings. Ctrl-C stops it all.

    python -m tools.dev_stack            (what `scripts/run` starts)

Starts the local OpenID provider over HTTPS (self-signed certificate in .dev/), the function through the
local runner and the chat page (tools/dev_page.py, http://localhost:5173/), and prints the URLs and a ready
`curl` line with a fresh development token. Tests use `run_stack()` to get the same stack on free ports.

SIGINT (Ctrl-C), SIGTERM (a process manager, an IDE's stop button, `kill`) and SIGHUP (a closed terminal) all stop
every process the stack started and free its ports; the exit status is 128 + the signal's number. A child that
exits on its own stops the stack too (exit status 1), and a port already taken stops it before anything starts.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import requests

from shared.routes import CONTACT_TOKEN_PATH
from tools.azurite import Azurite, running_azurite
from tools.dev_certificate import ensure_localhost_certificate
from tools.dev_defaults import (
    DEV_API_SCOPE,
    DEV_CHAT_HISTORY_TABLE,
    DEV_FUNCTION_PORT,
    DEV_IDENTITY_PORT,
    DEV_SPA_CLIENT_ID,
    DEV_STEP_UP_AUTH_CONTEXT,
    DEV_STEP_UP_WIDGET_ID,
    DEV_USERS,
    DEV_WIDGET_SECRET,
    chat_history_settings,
    function_settings,
)
from tools.dev_identity import DevIdentityConfig, DevIdentityProvider, run_dev_identity
from tools.dev_page import DEV_PAGE_PORT, DEV_STEP_UP_PAGE_PORT, development_config, serve_page
from tools.paths import DEV_FOLDER, REPO_ROOT
from tools.processes import stop_child
from tools.swa_emulator import serve_built_page

START_TIMEOUT_SECONDS = 30.0
CHILD_POLL_SECONDS = 0.5
# SIGINT too: Python turns it into KeyboardInterrupt only when it was not ignored at start, and a process started in
# the background of a non-interactive shell (`scripts/run &`, CI) inherits it ignored.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StackStopped(Exception):
    """Raised in the main thread by a stop signal, so that every context manager of the stack unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop_on_signal(signum: int, _frame: FrameType | None) -> None:
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)  # a second signal must not interrupt the clean-up
    raise StackStopped(signum)


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` (as our servers do, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def taken_ports(wanted: Mapping[str, int]) -> list[str]:
    """One line per service whose port is taken (port 0, any free port, is never taken)."""
    return [
        f"port {port} is already in use; the {service} needs it (stop what holds it, or choose another port)"
        for service, port in wanted.items()
        if port and not port_is_free(port)
    ]


def wait_for_children(children: Mapping[str, subprocess.Popen[bytes] | subprocess.Popen[str]]) -> str:
    """Blocks until a child exits on its own, and says which; stop signals interrupt it."""
    while True:
        for name, process in children.items():
            code = process.poll()
            if code is not None:
                return f"the {name} exited on its own (exit status {code})"
        time.sleep(CHILD_POLL_SECONDS)


@dataclass
class DevStack:
    identity: DevIdentityProvider
    function_url: str
    function_process: subprocess.Popen[bytes]
    certificate_file: Path
    azurite: Azurite | None = None  # the chat history store (persistent chat on), when the stack runs one

    def curl_line(self, token: str) -> str:
        return shlex.join(
            ["curl", "-sS", "-H", f"Authorization: Bearer {token}", "-H", "Accept: application/json",
             shown(self.function_url)]
        )  # fmt: skip


def shown(url: str) -> str:
    """Every URL the stack prints names `localhost` (the page's origin must: its redirect URIs do), never 127.0.0.1."""
    return url.replace("://127.0.0.1:", "://localhost:", 1)


def page_origins(port: int) -> str:
    """Both loopback spellings of the page's origin, for the function's CORS: development only (never Azure's)."""
    return f"http://localhost:{port},http://127.0.0.1:{port}"


def token_command(issuer: str, certificate: Path, expires_in: int | None = None) -> str:
    """A curl line that gets a development access token from the local provider (its password grant)."""
    data = {"grant_type": "password", "username": next(iter(DEV_USERS)), "password": "development",
            "scope": DEV_API_SCOPE, "client_id": DEV_SPA_CLIENT_ID}  # fmt: skip
    if expires_in is not None:
        data["expires_in"] = str(expires_in)
    fields = [part for name, value in data.items() for part in ("-d", f"{name}={value}")]
    return shlex.join(["curl", "-sS", "--cacert", _relative(certificate), *fields, f"{issuer}/token"])


def _relative(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


VERIFY_COMMAND = (
    '.venv/bin/python -c \'import jwt, sys; print(jwt.decode(sys.argv[1], "{secret}", algorithms=["HS256"]))\' '
    "<contact JWT>"
)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_function(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the function runner exited with code {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"the function did not answer on {url} within {START_TIMEOUT_SECONDS} s")


@contextmanager
def run_function(
    port: int, settings: dict[str, str], *, ca_bundle: Path | None, cors: str = "", quiet: bool = True
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The function app in its own process (a real cold start), served by the local runner."""
    # Development settings only: DefaultAzureCredential (used if APP_CONFIG_ENDPOINT leaks in from the shell) must
    # not probe the managed-identity endpoint 169.254.169.254 from a laptop.
    environment = {**os.environ, "AZURE_TOKEN_CREDENTIALS": "EnvironmentCredential", **settings}
    if ca_bundle is not None:
        environment["REQUESTS_CA_BUNDLE"] = str(ca_bundle)  # trust the development certificate, in that process only
    command = [sys.executable, "-m", "tools.local_runner", "--port", str(port), "--no-local-settings"]
    if cors:
        command += ["--cors", cors]
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=output, stderr=output)  # noqa: S603
    url = f"http://127.0.0.1:{port}{CONTACT_TOKEN_PATH}"
    try:
        _wait_for_function(url, process)
        yield url, process
    finally:
        # SIGTERM, not SIGINT: a child started with SIGINT ignored (see STOP_SIGNALS) would not hear SIGINT.
        stop_child(process)


@contextmanager
def run_stack(
    *,
    identity_port: int = 0,
    function_port: int = 0,
    cors: str = "",
    quiet: bool = True,
    access_token_lifetime_seconds: int = 3600,
    persistent_chat: bool = True,
) -> Iterator[DevStack]:
    """`persistent_chat`: Azurite's Table service (HTTPS, same certificate) holds chat history, and the development
    widget has persistent chat on, so a second chat's contact token carries previousContactId."""
    certificate = ensure_localhost_certificate(DEV_FOLDER)
    with ExitStack() as stack:
        settings: dict[str, str] = {}
        azurite = None
        if persistent_chat:
            azurite = stack.enter_context(running_azurite(certificate))  # its access log is not for the terminal
            azurite.create_table(DEV_CHAT_HISTORY_TABLE)
            settings |= chat_history_settings(azurite.connection_string)
        identity = stack.enter_context(
            run_dev_identity(
                DevIdentityConfig(
                    port=identity_port,
                    certificate=certificate,
                    access_token_lifetime_seconds=access_token_lifetime_seconds,
                ),
                echo_output=not quiet,
            )
        )
        url, process = stack.enter_context(
            run_function(
                function_port or free_port(),
                settings | function_settings(identity.issuer),
                ca_bundle=certificate.cert_file,
                cors=cors,
                quiet=quiet,
            )
        )
        yield DevStack(identity, url, process, certificate.cert_file, azurite)


STACK_FILE = DEV_FOLDER / "stack.json"  # what the operator's `doctor --local` reads (connect_sso_admin/doctor/cli.py)


def write_stack_file(path: Path, *, page_url: str, function_url: str, ca_bundle: Path, issuer: str) -> None:
    """Tells other programs (the doctor's --local) where the running stack is: development values only."""
    stack = {
        "page_url": page_url,
        "function_url": function_url,
        "ca_bundle": str(ca_bundle),
        "token_endpoint": f"{issuer.rstrip('/')}/token",
        "user": next(iter(DEV_USERS)),
        "scope": DEV_API_SCOPE,
        "client_id": DEV_SPA_CLIENT_ID,
        "widget_secret": DEV_WIDGET_SECRET,
        "step_up_widgets": [DEV_STEP_UP_WIDGET_ID],  # the doctor reports its step-up requirement too
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stack, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identity-port", type=int, default=DEV_IDENTITY_PORT)
    parser.add_argument("--function-port", type=int, default=DEV_FUNCTION_PORT)
    parser.add_argument("--page-port", type=int, default=DEV_PAGE_PORT)
    parser.add_argument(
        "--step-up-page-port",
        type=int,
        default=DEV_STEP_UP_PAGE_PORT,
        help="the development page of the widget that requires step-up (c1)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--identity-only", action="store_true", help="only the identity provider (for `func start` on the function)"
    )
    mode.add_argument(
        "--built-page",
        action="store_true",
        help="the production build served by the Azure Static Web Apps emulator, as Azure serves it",
    )
    args = parser.parse_args(argv)
    wanted = {"identity provider (--identity-port)": args.identity_port}
    if not args.identity_only:
        wanted |= {"function (--function-port)": args.function_port, "chat page (--page-port)": args.page_port}
    if not (args.identity_only or args.built_page):
        wanted |= {"step-up chat page (--step-up-page-port)": args.step_up_page_port}
    problems = taken_ports(wanted)
    if problems:
        for problem in problems:
            print(f"dev_stack: {problem}", file=sys.stderr)
        return 1
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _stop_on_signal)
    try:
        if args.identity_only:
            reason = _run_identity_only(args.identity_port)
        else:
            reason = _run(
                args.identity_port,
                args.function_port,
                args.page_port,
                built_page=args.built_page,
                step_up_page_port=args.step_up_page_port,
            )
    except StackStopped as stopped:
        print(f"\nstopped by {stopped}", flush=True)
        return 128 + stopped.signum
    print(f"dev_stack: {reason}; stopped the stack", file=sys.stderr, flush=True)
    return 1


def _run(
    identity_port: int,
    function_port: int,
    page_port: int,
    *,
    built_page: bool = False,
    step_up_page_port: int = DEV_STEP_UP_PAGE_PORT,
) -> str:
    """Runs the stack until a child exits on its own (returns why) or a stop signal unwinds it."""
    with ExitStack() as running:
        cors = page_origins(page_port) if built_page else f"{page_origins(page_port)},{page_origins(step_up_page_port)}"
        stack = running.enter_context(
            run_stack(identity_port=identity_port, function_port=function_port, cors=cors, quiet=False)
        )
        config = development_config(stack.identity.issuer, stack.function_url)
        if built_page:
            page = running.enter_context(serve_built_page(config, port=page_port))
            about_page = "production build, served by the Azure Static Web Apps emulator with its headers"
            what_to_do = (
                "The Amazon Connect widget script cannot load here (it needs AWS): the page signs in, and the\n"
                "browser's console shows what the production policy allows."
            )
        else:
            page = running.enter_context(serve_page(config, port=page_port))
            step_up = development_config(stack.identity.issuer, stack.function_url, widget_id=DEV_STEP_UP_WIDGET_ID)
            step_up_page = running.enter_context(serve_page(step_up, port=step_up_page_port))
            about_page = (
                "development build: a panel stands in for the Connect widget)\n"
                f"  step-up chat page  {step_up_page.url}  (a widget requiring authentication context "
                f"{DEV_STEP_UP_AUTH_CONTEXT}: docs/step-up.md"
            )
            what_to_do = (
                "Sign in as the development user (no password) and press Start chat in the development panel.\n"
                f"On {step_up_page.url} the chat first asks you to confirm who you are again (step-up)."
            )
        certificate = _relative(stack.certificate_file)
        write_stack_file(
            STACK_FILE,
            page_url=page.url,
            function_url=stack.function_url,
            ca_bundle=stack.certificate_file,
            issuer=stack.identity.issuer,
        )
        print(
            "\nconnect-sso development stack (development settings, loopback only)\n"
            f"  identity provider  {stack.identity.issuer}  (self-signed certificate: {certificate})\n"
            f"  function           {shown(stack.function_url)}\n"
            f"{chat_history_line(stack.azurite)}"
            f"  chat page          {page.url}  ({about_page})\n\n"
            f"Open {page.url} . {what_to_do}\n"
            "Your browser will warn about the identity provider's self-signed certificate: open\n"
            f"{stack.identity.issuer}/.well-known/openid-configuration once and accept it.\n\n"
            "Or ask for a contact token directly (the access token is valid for an hour):\n\n"
            f"  {stack.curl_line(stack.identity.token())}\n\n"
            f"Contact JWTs are signed with the development widget key {DEV_WIDGET_SECRET}; check one with\n"
            f"  {VERIFY_COMMAND.format(secret=DEV_WIDGET_SECRET)}\n"
            "A token that expired two minutes ago (the function answers 401 token_expired):\n"
            f"  {token_command(stack.identity.issuer, stack.certificate_file, expires_in=-120)}\n\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        children: dict[str, subprocess.Popen[bytes] | subprocess.Popen[str]] = {
            "identity provider": stack.identity.process,
            "function runner": stack.function_process,
        }
        if stack.azurite is not None and stack.azurite.process is not None:
            children["chat history store (Azurite)"] = stack.azurite.process
        try:
            return wait_for_children(children)
        finally:
            STACK_FILE.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover - the with block returns


def chat_history_line(azurite: Azurite | None) -> str:
    if azurite is None:
        return ""
    return (
        f"  chat history       {azurite.endpoint}  (Azurite, table {DEV_CHAT_HISTORY_TABLE}; persistent chat on: "
        "a second chat's contact token carries previousContactId)\n"
    )


def _run_identity_only(identity_port: int) -> str:
    """The identity provider alone, for a function that `func start` (Azure Functions Core Tools) hosts on 7071."""
    certificate = ensure_localhost_certificate(DEV_FOLDER)
    config = DevIdentityConfig(port=identity_port, certificate=certificate)
    with run_dev_identity(config, echo_output=True) as identity:
        print(
            "\nconnect-sso development identity provider (development users, loopback only)\n"
            f"  identity provider  {identity.issuer}  (self-signed certificate: {_relative(certificate.cert_file)})\n\n"
            "Now start the function with Azure Functions Core Tools, in another terminal:\n"
            "  cp -n local.settings.json.example local.settings.json && func start\n\n"
            "A development access token (valid for an hour; add -d expires_in=-120 for an expired one):\n"
            f"  {token_command(identity.issuer, certificate.cert_file)}\n\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        return wait_for_children({"identity provider": identity.process})


if __name__ == "__main__":
    sys.exit(main())
