"""The same loopback Entra stand-in the tests use (tools/testkit/fake_entra.py), and one token to measure with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tools.testkit.fake_entra import FakeEntra, running_fake_entra
from tools.testkit.service import base_settings
from tools.testkit.tokens import SigningKey, access_token


@dataclass(frozen=True)
class BenchProvider:
    entra: FakeEntra
    key: SigningKey
    token: str  # a genuine Entra v2-shaped access token, valid for an hour
    settings: dict[str, str]  # function settings pointing at the loopback provider

    @property
    def jwks_url(self) -> str:
        return f"{self.entra.base_url}/{self.entra.state.tenant}/discovery/v2.0/keys"


@contextmanager
def bench_provider() -> Iterator[BenchProvider]:
    key = SigningKey.generate("bench-key")
    with running_fake_entra(keys=[key, SigningKey.generate("bench-other-key")]) as entra:
        yield BenchProvider(entra, key, access_token(key), base_settings(entra.authority))
