"""tools/loopback_trace.py reads strace's output right: the lines below have the shapes strace 6 prints with -xx
(captured from a real run, hex-encoded strings rebuilt here so that the test says what they hold)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tools.loopback_trace import TraceReport, dns_question, main


def hx(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return "".join(f"\\x{byte:02x}" for byte in raw)


def query(name: str, ident: bytes = b"\x20\x54") -> bytes:
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return ident + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + labels + b"\x00\x00\x01\x00\x01"


INET = 'sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr("{host}")'
TRACE = [
    f'100 execve("{hx("/usr/bin/chromium")}", ["{hx("chromium")}"], 0x5 /* 3 vars */) = 0',
    "100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101",
    f'101 connect(3, {{sa_family=AF_UNIX, sun_path="{hx("/var/run/nscd/socket")}"}}, 110) = -1 ENOENT',
    "101 connect(3, {" + INET.format(port=53, host=hx("10.255.255.53")) + "}, 16) = 0",
    "101 sendmmsg(3, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="
    f'"{hx(query("update.googleapis.com"))}", '
    "iov_len=38}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=38}], 1, MSG_NOSIGNAL) = 1",
    f'200 execve("{hx("/usr/bin/python3")}", ["{hx("python3")}"], 0x5 /* 3 vars */) = 0',
    "200 connect(4, {" + INET.format(port=443, host=hx("192.0.2.1")) + "}, 16) = -1 EINPROGRESS",
    "200 connect(5, {" + INET.format(port=7071, host=hx("127.0.0.1")) + "}, 16) = 0",
    # Chromium's IPv6 reachability probe: a UDP connect, which sends nothing
    "300 connect(22<UDPv6:[570934]>, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
    f'inet_pton(AF_INET6, "{hx("2001:4860:4860::8888")}", &sin6_addr), sin6_scope_id=0}}, 28) = 0',
    "200 connect(6, {sa_family=AF_INET6, sin6_port=htons(1), sin6_flowinfo=htonl(0), "
    f'inet_pton(AF_INET6, "{hx("::1")}", '
    "&sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED",
]


def test_a_trace_lists_what_left_loopback_and_every_dns_query_by_program() -> None:
    report = TraceReport().read(TRACE)
    assert report.loopback_connects == 2
    assert dict(report.outside) == {("192.0.2.1", "443", "python3"): 1}
    assert dict(report.dns_servers) == {("10.255.255.53", "chromium"): 1}  # the child inherits its parent's name
    assert dict(report.dns_queries) == {("update.googleapis.com", "chromium"): 1}
    assert dict(report.route_probes) == {("2001:4860:4860::8888", "443", "pid 300"): 1}
    assert report.probes_sent_to == []
    assert not report.clean
    assert report.summary()[-1] == "verdict: LEFT LOOPBACK"


def test_a_loopback_only_trace_with_a_udp_route_probe_is_clean() -> None:
    report = TraceReport().read([TRACE[-3], TRACE[-2]])
    assert report.clean and report.loopback_connects == 1 and sum(report.route_probes.values()) == 1


def test_a_route_probe_to_an_address_that_then_gets_a_packet_left_loopback() -> None:
    sent = (
        '300 sendto(23<UDPv6:[1]>, "\\x00", 1, 0, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
    )
    sent += f'inet_pton(AF_INET6, "{hx("2001:4860:4860::8888")}", &sin6_addr), sin6_scope_id=0}}, 28) = 1'
    report = TraceReport().read([TRACE[-2], sent])
    assert not report.clean and report.probes_sent_to == [("2001:4860:4860::8888", "443", "pid 300")]


@pytest.mark.parametrize("packet", [b"", b"\x00" * 11, query("a.b")[:-6], b"\x20\x54\x81\x80" + query("a.b")[4:]])
def test_bytes_that_are_not_a_dns_query_name_nothing(packet: bytes) -> None:
    assert dns_question(packet) is None


def traced() -> bool:
    """Already under strace (tools.loopback_trace over the suite): a process cannot be traced twice."""
    return "TracerPid:\t0" not in Path("/proc/self/status").read_text()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (apt-get install strace)")
@pytest.mark.skipif(traced(), reason="this run is itself under strace, which cannot nest")
def test_a_real_loopback_only_command_traces_clean(capsys: pytest.CaptureFixture[str]) -> None:
    script = (
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "socket.create_connection(s.getsockname()).close()"
    )
    assert main(["--", sys.executable, "-c", script]) == 0
    output = capsys.readouterr().out
    assert "loopback connects: 1" in output and "verdict: stayed on loopback" in output
