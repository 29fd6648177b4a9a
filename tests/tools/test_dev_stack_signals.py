"""`scripts/run` stops everything it started, whatever stops it: Ctrl-C, SIGTERM (a process manager, an IDE's
stop button), SIGHUP (a closed terminal), or one of its own children dying. A taken port stops it before it starts.

Each test starts the run command as a user would (on free ports), signals that one process only, and then
checks that no process of the stack remains and every port is free again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.dev_identity import node_modules_ready
from tools.dev_stack import free_port, port_is_free
from tools.paths import REPO_ROOT

pytestmark = pytest.mark.skipif(not node_modules_ready(), reason="run scripts/bootstrap node")
READY_LINE = "Press Ctrl-C to stop."
START_SECONDS = 120.0  # the first start builds the development page


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, from /proc (children of each thread)."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has let go of everything it held


class RunCommand:
    def __init__(self, ports: dict[str, int], *, sigint_ignored: bool = False) -> None:
        self.ports = ports
        arguments = [f"--{name}-port={port}" for name, port in ports.items()]
        command = [str(REPO_ROOT / "scripts" / "run"), *arguments]
        if sigint_ignored:
            # What a non-interactive shell does to a command it starts in the background (`scripts/run &`, CI):
            # SIGINT ignored from the start, inherited through exec by the stack and its children.
            command = ["bash", "-c", 'trap "" INT; exec "$@"', "run", *command]
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so that a failing test can still clean up the whole group
        )
        self.output: list[str] = []

    def wait_until_ready(self) -> None:
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_SECONDS
        for line in self.process.stdout:
            self.output.append(line)
            if READY_LINE in line:
                return
            assert time.monotonic() < deadline, "".join(self.output)
        raise AssertionError("the stack exited before it was ready:\n" + "".join(self.output))

    def finish(self, timeout: float = 60.0) -> int:
        remaining, _ = self.process.communicate(timeout=timeout)
        self.output.append(remaining or "")
        return self.process.returncode

    @property
    def text(self) -> str:
        return "".join(self.output)

    def kill_group(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def run_command() -> Iterator[type[RunCommand]]:
    started: list[RunCommand] = []

    def start(ports: dict[str, int], *, sigint_ignored: bool = False) -> RunCommand:
        command = RunCommand(ports, sigint_ignored=sigint_ignored)
        started.append(command)
        return command

    yield start  # type: ignore[misc]
    for command in started:
        command.kill_group()


def stack_ports() -> dict[str, int]:
    return {"identity": free_port(), "function": free_port(), "page": free_port(), "step-up-page": free_port()}


# "sigint-ignored-at-start": started as `scripts/run &` from a script or CI; SIGINT must still stop it, and its
# children (which inherit the ignored SIGINT) must still stop at once.
@pytest.mark.parametrize("sigint", ["sigint-default", "sigint-ignored-at-start"])
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_to_the_run_command_stops_every_process_and_frees_the_ports(
    run_command, stop_signal, sigint: str
) -> None:
    command = run_command(stack_ports(), sigint_ignored=sigint == "sigint-ignored-at-start")
    command.wait_until_ready()
    children = descendants(command.process.pid)
    assert len(children) >= 2, "the identity provider and the function runner run as child processes"
    assert not any(port_is_free(port) for port in command.ports.values())

    os.kill(command.process.pid, stop_signal)  # the run command's process only, not its group
    status = command.finish()

    assert status == 128 + stop_signal, command.text
    assert f"stopped by {stop_signal.name}" in command.text
    assert [pid for pid in children if alive(pid)] == []
    assert all(port_is_free(port) for port in command.ports.values())


def test_a_child_that_dies_stops_the_stack_with_a_clear_message(run_command) -> None:
    command = run_command(stack_ports())
    command.wait_until_ready()
    children = descendants(command.process.pid)
    runner = next(pid for pid in children if "tools.local_runner" in Path(f"/proc/{pid}/cmdline").read_text())
    os.kill(runner, signal.SIGKILL)

    status = command.finish()

    assert status == 1, command.text
    assert "the function runner exited on its own" in command.text
    assert [pid for pid in children if alive(pid)] == []
    assert all(port_is_free(port) for port in command.ports.values())


def test_a_taken_port_is_named_and_nothing_starts(run_command) -> None:
    ports = stack_ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["function"]))
        holder.listen()
        command = run_command(ports)
        status = command.finish(timeout=120)
        assert status != 0
        assert f"port {ports['function']} is already in use; the function (--function-port) needs it" in command.text
        assert "identity provider" not in command.text.split("dev_stack:")[0].lower()  # nothing started first
        assert port_is_free(ports["identity"]) and port_is_free(ports["page"])
