"""Development tool: the built page (production build) served by Microsoft's Azure Static Web Apps emulator.

`swa start` (npm @azure/static-web-apps-cli, pinned in tools/swa/) applies dist/staticwebapp.config.json the way
Azure does: globalHeaders, routes and the navigation fallback. The page gets a config.json for the local stack and
the deploy hook's narrowing of the policy to that config's hosts (static_spa/scripts/csp.mjs), so what runs here is
what Azure would serve for it. The emulator binds 127.0.0.1 and makes no other connection. Development and tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tools.dev_page import DevPageError, PageServer, narrow_static_web_app_config, vite_build
from tools.paths import REPO_ROOT

SWA_DIR = REPO_ROOT / "tools" / "swa"
SWA_CONFIG = "staticwebapp.config.json"
START_TIMEOUT_SECONDS = 60.0


def swa_executable() -> Path:
    swa = SWA_DIR / "node_modules" / ".bin" / "swa"
    if not swa.exists():
        raise DevPageError("run scripts/bootstrap node first (tools/swa has no node_modules)")
    return swa


def emulator_ready() -> bool:
    return (SWA_DIR / "node_modules" / ".bin" / "swa").exists()


def build_production_page(out: Path) -> Path:
    """`vite build` (the production build: the real widget script, staticwebapp.config.json) into `out`."""
    vite_build("build", "--outDir", str(out), "--emptyOutDir")
    return out


def _wait_until_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DevPageError(f"swa start exited with code {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise DevPageError(f"the Static Web Apps emulator did not answer on {url} within {START_TIMEOUT_SECONDS} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # `swa start` runs its server in a child process: stop the whole group it leads, or the port stays taken.
    for stop_signal, wait_seconds in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, stop_signal)
        except ProcessLookupError:
            return
        try:
            process.wait(wait_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def serve_built_page(
    config: Mapping[str, Any], *, port: int, build: Path | None = None, quiet: bool = True
) -> Iterator[PageServer]:
    """Serves the production build (built now unless `build` is given) through `swa start` on 127.0.0.1:`port`.

    `port` must be free (the emulator asks on a terminal for another one otherwise)."""
    with tempfile.TemporaryDirectory(prefix="built-page-") as folder:
        root = Path(folder) / "site"
        if build is None:
            build_production_page(root)
        else:
            shutil.copytree(build, root)
        config_file = root / "config.json"
        config_file.write_text(json.dumps(config, indent=2), encoding="utf-8")
        narrow_static_web_app_config(config_file, root / SWA_CONFIG)  # as the predeploy hook does
        command = [str(swa_executable()), "start", str(root), "--swa-config-location", str(root)]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        output = subprocess.DEVNULL if quiet else None
        process = subprocess.Popen(  # noqa: S603 - fixed program and arguments
            command, cwd=root, stdin=subprocess.DEVNULL, stdout=output, stderr=output, start_new_session=True
        )
        try:
            _wait_until_serving(f"http://127.0.0.1:{port}/", process)
            # "localhost", not 127.0.0.1: the SPA's registered redirect URIs name localhost.
            yield PageServer(url=f"http://localhost:{port}/", port=port, root=root)
        finally:
            _stop(process)
