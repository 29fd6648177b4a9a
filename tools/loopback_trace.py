"""Developer check: run a command (default: the whole pytest suite) under strace and list every connect that leaves
loopback and every DNS query, from any process the command starts (Python, Node, Chromium, npm...).

    python -m tools.loopback_trace                         the whole pytest suite
    python -m tools.loopback_trace -- .venv/bin/python -m pytest tests/static_spa -q
    python -m tools.loopback_trace --trace-file /tmp/t.txt -- scripts/test

The in-process guard (tests/loopback_guard.py) sees only the pytest process; this sees every process, at the
system-call level: `connect` and `sendto`/`sendmsg`/`sendmmsg` (with their addresses), and the DNS questions in
the packets sent. Loopback is 127.0.0.0/8 and ::1; a DNS query is reported wherever it goes (a local caching
resolver on 127.0.0.53 asks the network in turn). A `connect` of a UDP socket sends nothing (the kernel only picks
a route: Chromium probes IPv6 reachability that way, towards 2001:4860:4860::8888): such probes are listed apart,
and count as leaving loopback only when something is then sent to that address. Exit status: 1 when anything left
loopback or a name was looked up, else the command's own. Needs strace: `apt-get install strace` (Debian/Ubuntu).
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tools.paths import REPO_ROOT

DEFAULT_COMMAND = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
TRACED_CALLS = "connect,sendto,sendmsg,sendmmsg,execve,clone,clone3,fork,vfork"
_LINE = re.compile(r"^(?P<pid>\d+) +(?P<rest>.*)$")
_HEX_STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<host>[^"]*)"\)')
_INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((?P<port>\d+)\).*?inet_pton\(AF_INET6, "(?P<host>[^"]*)"')
_CHILD = re.compile(r"= (\d+)$")
_UDP_SOCKET = re.compile(r"^connect\(\d+<UDP(v6)?:")
DNS_PORT = 53


def _text(hex_string: str) -> str:
    return _bytes(hex_string).decode("utf-8", "replace")


def _bytes(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string.replace("\\x", ""))


def dns_question(packet: bytes) -> str | None:
    """The name a DNS query packet asks for (RFC 1035 section 4.1), or None when the bytes are not one."""
    if len(packet) < 17 or packet[2] & 0x80 or packet[4:6] != b"\x00\x01":
        return None
    labels: list[str] = []
    offset = 12
    while offset < len(packet):
        length = packet[offset]
        if length == 0:
            return ".".join(labels) if labels and offset + 5 <= len(packet) else None
        label = packet[offset + 1 : offset + 1 + length]
        if length > 63 or len(label) != length or not all(32 < byte < 127 for byte in label):
            return None
        labels.append(label.decode("ascii"))
        offset += 1 + length
    return None


def is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass
class TraceReport:
    programs: dict[str, str] = field(default_factory=dict)  # pid -> the program it runs (execve, inherited by clone)
    loopback_connects: int = 0
    outside: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (host, port, program)
    dns_queries: Counter[tuple[str, str]] = field(default_factory=Counter)  # (name, program)
    dns_servers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (host, program) sent to on port 53
    route_probes: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # UDP connects: no packet sent
    sent_to: set[str] = field(default_factory=set)  # every address a sendto/sendmsg/sendmmsg named

    @property
    def probes_sent_to(self) -> list[tuple[str, str, str]]:
        """Route probes to an address that something was later sent to: those did leave loopback."""
        return [probe for probe in self.route_probes if probe[0] in self.sent_to]

    @property
    def clean(self) -> bool:
        return not (self.outside or self.dns_queries or self.dns_servers or self.probes_sent_to)

    def program(self, pid: str) -> str:
        return self.programs.get(pid, f"pid {pid}")

    def read(self, lines: Iterable[str]) -> TraceReport:
        pending_exec: dict[str, str] = {}
        for raw in lines:
            match = _LINE.match(raw.rstrip("\n"))
            if not match:
                continue
            pid, rest = match["pid"], match["rest"]
            if rest.startswith("execve(") or rest.startswith("<... execve resumed>"):
                self._exec(pid, rest, pending_exec)
            elif re.match(r"(<\.\.\. )?(clone3?|v?fork)\b", rest):
                child = _CHILD.search(rest)
                if child:
                    self.programs.setdefault(child[1], self.program(pid))
            elif re.match(r"(connect|sendto|sendmsg|sendmmsg)\(", rest):
                self._network(pid, rest)
        return self

    def _exec(self, pid: str, rest: str, pending: dict[str, str]) -> None:
        path = _HEX_STRING.search(rest) if rest.startswith("execve(") else None
        if path:
            pending[pid] = _text(path[1])
        if rest.endswith(" = 0") and pid in pending:
            self.programs[pid] = Path(pending.pop(pid)).name

    def _network(self, pid: str, rest: str) -> None:
        program = self.program(pid)
        call = rest.split("(", 1)[0]
        for pattern in (_INET, _INET6):
            for address in pattern.finditer(rest):
                host, port = _text(address["host"]), address["port"]
                if call != "connect":
                    self.sent_to.add(host)
                if int(port) == DNS_PORT:
                    self.dns_servers[(host, program)] += 1
                elif is_loopback(host):
                    self.loopback_connects += call == "connect"
                elif _UDP_SOCKET.match(rest):
                    self.route_probes[(host, port, program)] += 1
                else:
                    self.outside[(host, port, program)] += 1
        if call != "connect":
            for packet in _HEX_STRING.findall(rest):
                name = dns_question(_bytes(packet))
                if name:
                    self.dns_queries[(name, program)] += 1

    def summary(self) -> list[str]:
        lines = [f"loopback connects: {self.loopback_connects}"]
        lines.append(f"connects or sends outside loopback: {sum(self.outside.values()) or 'none'}")
        lines += [f"  {host} port {port} from {program} ({count}x)" for (host, port, program), count in
                  sorted(self.outside.items())]  # fmt: skip
        lines.append(f"UDP route probes (connect only, no packet): {sum(self.route_probes.values()) or 'none'}")
        lines += [f"  {host} port {port} from {program} ({count}x)" for (host, port, program), count in
                  sorted(self.route_probes.items())]  # fmt: skip
        lines.append(f"  of which something was then sent to: {len(self.probes_sent_to) or 'none'}")
        lines.append(f"connects or sends to a DNS server (port 53): {sum(self.dns_servers.values()) or 'none'}")
        lines += [f"  {host} from {program} ({count}x)" for (host, program), count in sorted(self.dns_servers.items())]
        lines.append(f"DNS queries: {sum(self.dns_queries.values()) or 'none'}")
        lines += [f"  {name} from {program} ({count}x)" for (name, program), count in sorted(self.dns_queries.items())]
        lines.append("verdict: " + ("stayed on loopback" if self.clean else "LEFT LOOPBACK"))
        return lines


def strace_command(command: list[str], trace_file: Path) -> list[str]:
    return [
        "strace", "-f", "-qq", "-yy", "--seccomp-bpf", "-e", "signal=none", "-e", f"trace={TRACED_CALLS}",
        "-xx", "-s", "512", "-o", str(trace_file), *command,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trace-file", type=Path, help="keep strace's output here (default: a temporary file)")
    parser.add_argument("command", nargs="*", help="the command to trace (default: the whole pytest suite)")
    args = parser.parse_args(argv)
    if shutil.which("strace") is None:
        print("loopback_trace: strace is not installed; install it with `apt-get install strace`", file=sys.stderr)
        return 2
    command = args.command or DEFAULT_COMMAND
    with tempfile.TemporaryDirectory() as folder:
        trace_file = args.trace_file or Path(folder) / "trace.txt"
        status = subprocess.run(strace_command(command, trace_file), cwd=REPO_ROOT, check=False).returncode  # noqa: S603
        with trace_file.open(encoding="ascii", errors="replace") as lines:
            report = TraceReport().read(lines)
    print(f"\nloopback trace of: {' '.join(command)} (exit status {status})")
    for line in report.summary():
        print(f"  {line}")
    return status if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
