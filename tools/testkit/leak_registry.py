"""Every token, signature and secret the test suite makes, and a scanner that finds any of them in a log line.

tokens.py registers each token it mints, service.py each contact token it decodes; the log-hygiene plugin
(tests/security/log_hygiene.py) registers the widget secrets and scans every log record of the whole run.
Findings carry a kind and a fingerprint, never the value itself: a leak report must not leak.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass

# Anything shaped like a compact JWS/JWT (header.payload[.signature]): JSON headers base64url-encode to "eyJ".
JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{8,}")
# Runs of base64url long enough to be (part of) a payload or signature segment.
BASE64URL_RUN = re.compile(r"[A-Za-z0-9_-]{16,}")
WINDOW = 16  # a registered segment is indexed by its first WINDOW characters


@dataclass(frozen=True)
class Finding:
    kind: str  # "JWT-shaped string", "token payload", "signature", "secret", ...
    fingerprint: str  # sha256 prefix of the value found: lets a reader match it, never reveals it

    def __str__(self) -> str:
        return f"{self.kind} (sha256 {self.fingerprint})"


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class LeakRegistry:
    """Thread-safe: tokens are minted on server and worker threads too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, dict[str, str]] = {}  # first WINDOW chars -> {segment: kind}
        self._secrets: dict[str, str] = {}  # free-form secret -> kind
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def register_secret(self, value: str, kind: str = "secret") -> None:
        if len(value) < 8:
            raise ValueError("too short to scan for without false alarms")
        with self._lock:
            self._secrets[value] = kind
            self._count += 1

    def register_token(self, token: str) -> None:
        """A compact JWT: its payload (claims) and signature segments are what must never reach a log."""
        parts = token.split(".")
        if len(parts) != 3:
            return
        with self._lock:
            for segment, kind in ((parts[1], "token payload"), (parts[2], "signature")):
                if len(segment) >= WINDOW:
                    self._segments.setdefault(segment[:WINDOW], {})[segment] = kind
                    self._count += 1

    def scan(self, text: str) -> list[Finding]:
        findings = [Finding("JWT-shaped string", fingerprint(m.group())) for m in JWT_SHAPED.finditer(text)]
        with self._lock:
            secrets = list(self._secrets.items())
        findings += [Finding(kind, fingerprint(secret)) for secret, kind in secrets if secret in text]
        for run in BASE64URL_RUN.finditer(text):
            findings += self._scan_run(run.group())
        return findings

    def _scan_run(self, run: str) -> list[Finding]:
        """A run that holds a registered segment, or a truncated one (at least WINDOW characters of its start)."""
        found = []
        for start in range(len(run) - WINDOW + 1):
            with self._lock:
                candidates = dict(self._segments.get(run[start : start + WINDOW], {}))
            rest = run[start:]
            for segment, kind in candidates.items():
                if rest.startswith(segment) or segment.startswith(rest):
                    found.append(Finding(kind, fingerprint(segment)))
        return found


REGISTRY = LeakRegistry()
