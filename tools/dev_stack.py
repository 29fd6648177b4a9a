"""Development tool: the whole product on loopback with built-in development settings. Ctrl-C stops it all.

    python -m tools.dev_stack            (what `scripts/run` starts)

Starts the local OpenID provider over HTTPS (self-signed certificate in .dev/), the function through the
local runner and the chat page (tools/dev_page.py, http://localhost:5173/), and prints the URLs and a ready
`curl` line with a fresh development token. Tests use `run_stack()` to get the same stack on free ports.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tools.dev_certificate import ensure_localhost_certificate
from tools.dev_defaults import DEV_FUNCTION_PORT, DEV_IDENTITY_PORT, function_settings
from tools.dev_identity import DevIdentityConfig, DevIdentityProvider, run_dev_identity
from tools.dev_page import DEV_PAGE_PORT, development_config, serve_page
from tools.local_runner import REPO_ROOT

DEV_FOLDER = REPO_ROOT / ".dev"
FUNCTION_PATH = "/api/AWSConnectJWT"
START_TIMEOUT_SECONDS = 30.0


@dataclass
class DevStack:
    identity: DevIdentityProvider
    function_url: str
    function_process: subprocess.Popen[bytes]
    certificate_file: Path

    def curl_line(self, token: str) -> str:
        return shlex.join(
            ["curl", "-sS", "-H", f"Authorization: Bearer {token}", "-H", "Accept: application/json",
             self.function_url]
        )  # fmt: skip


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    environment = {**os.environ, **settings}
    if ca_bundle is not None:
        environment["REQUESTS_CA_BUNDLE"] = str(ca_bundle)  # trust the development certificate, in that process only
    command = [sys.executable, "-m", "tools.local_runner", "--port", str(port), "--no-local-settings"]
    if cors:
        command += ["--cors", cors]
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=output, stderr=output)  # noqa: S603
    url = f"http://127.0.0.1:{port}{FUNCTION_PATH}"
    try:
        _wait_for_function(url, process)
        yield url, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def run_stack(
    *,
    identity_port: int = 0,
    function_port: int = 0,
    cors: str = "",
    quiet: bool = True,
    access_token_lifetime_seconds: int = 3600,
) -> Iterator[DevStack]:
    certificate = ensure_localhost_certificate(DEV_FOLDER)
    with ExitStack() as stack:
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
                function_settings(identity.issuer),
                ca_bundle=certificate.cert_file,
                cors=cors,
                quiet=quiet,
            )
        )
        yield DevStack(identity, url, process, certificate.cert_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identity-port", type=int, default=DEV_IDENTITY_PORT)
    parser.add_argument("--function-port", type=int, default=DEV_FUNCTION_PORT)
    parser.add_argument("--page-port", type=int, default=DEV_PAGE_PORT)
    args = parser.parse_args(argv)
    page_origin = f"http://localhost:{args.page_port}"  # the function's CORS must let the page call it
    with (
        run_stack(
            identity_port=args.identity_port, function_port=args.function_port, cors=page_origin, quiet=False
        ) as stack,
        serve_page(development_config(stack.identity.issuer, stack.function_url), port=args.page_port) as page,
    ):
        print(
            "\nconnect-sso development stack (development settings, loopback only)\n"
            f"  identity provider  {stack.identity.issuer}  (self-signed certificate: {stack.certificate_file})\n"
            f"  function           {stack.function_url}\n"
            f"  chat page          {page.url}  (development build: a panel stands in for the Connect widget)\n\n"
            f"Open {page.url} , sign in as the development user (no password) and press Start chat.\n"
            "Your browser will warn about the identity provider's self-signed certificate: open\n"
            f"{stack.identity.issuer}/.well-known/openid-configuration once and accept it.\n\n"
            "Or ask for a contact token directly (the access token is valid for an hour):\n\n"
            f"  {stack.curl_line(stack.identity.token())}\n\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        try:
            signal.pause()
        except KeyboardInterrupt:
            print("\nstopping", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
