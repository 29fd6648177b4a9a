"""Stopping the child processes the development tools start (identity provider, function runner, Azurite)."""

from __future__ import annotations

import signal
import subprocess

STOP_WAIT_SECONDS = 5.0


def stop_child(process: subprocess.Popen[bytes] | subprocess.Popen[str], stop_signal: int = signal.SIGTERM) -> None:
    """Asks the child to stop with `stop_signal`, and kills it when it has not within a few seconds."""
    process.send_signal(stop_signal)
    try:
        process.wait(STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_WAIT_SECONDS)
