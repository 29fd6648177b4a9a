"""`python -m bench --help` is read before any setting exists: it must show its own usage, not a configuration error."""

from __future__ import annotations

import os
import subprocess
import sys

from tools.paths import REPO_ROOT


def test_bench_help_shows_its_usage_and_no_configuration_error() -> None:
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("ENTRA_", "CONNECT_"))}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("usage: python -m bench ")
    assert "configuration error" not in completed.stdout + completed.stderr
